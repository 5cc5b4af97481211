# EMVCo QR Code payloads: Merchant-Presented Mode (EMV QRCPS-MPM 1.1: ID-length-value
# data objects, CRC-16/CCITT-FALSE in ID 63) built and parsed with strict checks, and
# Consumer-Presented Mode (EMV QRCPS-CPM: base64 of BER-TLV) decoded.
from pos import crypto


class MpmError(ValueError):
    """A payload that is not a valid EMVCo QR payload (names the data object): the one
    exception parse_mpm() and decode_cpm() raise, whatever text they are given."""


MAX_PAYLOAD = 512                 # EMVCo: at most 512 characters


def _do(id_, value):
    if not isinstance(value, str):
        value = str(value)
    if len(value) > 99:
        raise MpmError("data object %s: value longer than 99 characters" % id_)
    if not value:
        raise MpmError("data object %s: empty value" % id_)
    return "%s%02d%s" % (id_, len(value), value)


def build_mpm(merchant_accounts, mcc, currency, country, name, city, amount=None, dynamic=True,
              bill=None, reference=None, terminal=None):
    """The payload string.  merchant_accounts: {"26".."51": {"00": GUID, "01": account, ...}}
    (or a ready string value); amount: minor units int (2-decimal currencies) or None."""
    parts = [_do("00", "01"), _do("01", "12" if dynamic else "11")]
    for id_ in sorted(merchant_accounts):
        if not 2 <= int(id_) <= 51:
            raise MpmError("merchant account information IDs are 02 to 51, not %s" % id_)
        v = merchant_accounts[id_]
        if isinstance(v, dict):
            v = "".join(_do(k, v[k]) for k in sorted(v))
        parts.append(_do(id_, v))
    if not (len(mcc) == 4 and mcc.isdigit()):
        raise MpmError("52 merchant category code: 4 digits")
    parts.append(_do("52", mcc))
    if not (len(currency) == 3 and currency.isdigit()):
        raise MpmError("53 transaction currency: ISO 4217 numeric, 3 digits")
    parts.append(_do("53", currency))
    if amount is not None:
        if not isinstance(amount, int) or amount <= 0:
            raise MpmError("54 transaction amount: positive minor units")
        parts.append(_do("54", "%d.%02d" % (amount // 100, amount % 100)))
    parts.append(_do("58", country))
    parts.append(_do("59", name[:25]))
    parts.append(_do("60", city[:15]))
    add = ""
    if bill:
        add += _do("01", bill)
    if reference:
        add += _do("05", reference)
    if terminal:
        add += _do("07", terminal)
    if add:
        parts.append(_do("62", add))
    body = "".join(parts) + "6304"
    crc = crypto.crc16_ccitt_false(body.encode())
    payload = body + "%04X" % crc
    if len(payload) > MAX_PAYLOAD:
        raise MpmError("payload of %d characters exceeds %d" % (len(payload), MAX_PAYLOAD))
    return payload


def _objects(s, where):
    out = []
    i = 0
    n = len(s)
    while i < n:
        if n - i < 4:
            raise MpmError("%s: truncated data object at %d" % (where, i))
        id_, ln = s[i:i + 2], s[i + 2:i + 4]
        if not (id_.isdigit() and ln.isdigit()):
            raise MpmError("%s: bad ID/length %r at %d" % (where, s[i:i + 4], i))
        ln = int(ln)
        if i + 4 + ln > n:
            raise MpmError("%s: data object %s length %d runs past the end" % (where, id_, ln))
        out.append((id_, s[i + 4:i + 4 + ln]))
        i += 4 + ln
    return out


def _is_template(n):
    """IDs whose value is itself ID-length-value data objects (QRCPS-MPM 1.1 table of data
    objects): 26-51 merchant account information, 62 additional data field, 64 merchant
    information in an alternate language (00 language, 01 name, 02 city), 80-99 unreserved
    templates (00 globally unique identifier, then context-specific data)."""
    return 26 <= n <= 51 or n == 62 or n == 64 or 80 <= n <= 99


def parse_mpm(payload):
    """{ID: value} (templates 26-51, 62, 64 and 80-99 as {sub-ID: value}); MpmError names
    the problem."""
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = bytes(payload).decode()
        except UnicodeError:
            raise MpmError("payload is not UTF-8 text")
    if len(payload) > MAX_PAYLOAD:
        raise MpmError("payload of %d characters exceeds %d" % (len(payload), MAX_PAYLOAD))
    objs = _objects(payload, "payload")
    if not objs or objs[0] != ("00", "01"):
        raise MpmError("00 payload format indicator '01' must come first")
    if objs[-1][0] != "63" or len(objs[-1][1]) != 4:
        raise MpmError("63 CRC (4 hex digits) must come last")
    # ID 63: the CRC's two bytes as four hexadecimal digits, 0-9 and A-F (QRCPS-MPM 1.1,
    # CRC data object; "6304007B" in its example): lowercase digits are not that encoding
    want = "%04X" % crypto.crc16_ccitt_false(payload[:-4].encode())
    if objs[-1][1] != want:
        if objs[-1][1].upper() == want:
            raise MpmError("63 CRC %s must be uppercase hexadecimal (%s)" % (objs[-1][1], want))
        raise MpmError("63 CRC %s does not match the payload (%s)" % (objs[-1][1], want))
    d = {}
    for id_, v in objs:
        if id_ in d:
            raise MpmError("data object %s appears twice" % id_)
        if _is_template(int(id_)):
            d[id_] = dict(_objects(v, "template " + id_))
        else:
            d[id_] = v
    for id_ in ("52", "53", "58", "59", "60"):
        if id_ not in d:
            raise MpmError("mandatory data object %s missing" % id_)
    if not any(2 <= int(k) <= 51 for k in d):
        raise MpmError("no merchant account information (IDs 02-51)")
    if "54" in d:
        a = d["54"]
        if not a or len(a) > 13 or a.count(".") > 1 or not a.replace(".", "").isdigit():
            raise MpmError("54 transaction amount %r is not a decimal amount" % a)
    return d


def amount_minor(d):
    a = d.get("54")
    if a is None:
        return None
    whole, _, frac = a.partition(".")
    return int(whole or "0") * 100 + int((frac + "00")[:2])


def decode_cpm(text):
    """Consumer-presented payload (base64 of BER-TLV, tag 85 'CPV01' first) -> {tag: value}
    of the application template 61 (and 85).  MpmError (the QR payload family) for
    anything malformed: not base64, bad BER-TLV at any level, 85 not first, no 4F."""
    import binascii
    from pos.emv import tlv
    try:
        raw = binascii.a2b_base64(text)
    except ValueError:                  # MicroPython raises ValueError for bad base64
        raise MpmError("CPM payload is not base64")
    try:
        items = list(tlv.tlv_iter(raw))
    except ValueError as exc:
        raise MpmError("CPM payload TLV: %s" % exc)
    if not items or items[0][0] != 0x85:
        raise MpmError("CPM payload must start with 85 payload format indicator")
    out = {0x85: raw[items[0][1]:items[0][2]]}
    for tag, s, e, constructed in items[1:]:
        if tag == 0x61:
            try:
                for t2, s2, e2, _c in tlv.tlv_iter(raw, s, e):
                    out[t2] = raw[s2:e2]
            except ValueError as exc:
                raise MpmError("CPM application template 61: %s" % exc)
    if 0x4F not in out:
        raise MpmError("CPM application template without 4F AID")
    return out
