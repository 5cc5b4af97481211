# The result of one contact EMV transaction: what the host message (field 55),
# the receipt and the journal need.  Never holds the full PAN.
from pos.emv import tlv

APPROVED = "approved"
DECLINED = "declined"
TERMINATED = "terminated"          # no cryptogram: card error, removed, data missing
NOT_ACCEPTED = "not_accepted"      # no mutually supported application

CRYPTOGRAM_TYPES = {0x00: "AAC", 0x40: "TC", 0x80: "ARQC"}


class Outcome:
    # Defaults as class attributes: an outcome stores only what its transaction sets (at
    # most a dozen of these), so its attribute table is not grown and rehashed through 29
    # entries at every card (62,000 instructions on the unix port; 5,500 so).
    result = TERMINATED
    message = ""
    amount = 0                 # the amount authorised when an offer changed it (0: as asked)
    tap_again = 0              # contactless: the amount changed after the tap; tap for this one
    online = False             # decided by the issuer (or unable to go online)
    unable_to_go_online = False
    aid = ""                   # hex
    label = ""
    scheme = ""
    masked_pan = ""
    pan_seq = ""
    tvr = "0000000000"
    tsi = "0000"
    cvm_results = ""
    cvm = ""                   # method name performed
    signature_required = False
    cryptogram = ""            # hex of the final AC
    cryptogram_type = ""       # 'TC', 'AAC', 'ARQC'
    first_cryptogram_type = ""
    cid = ""
    atc = ""
    arc = ""                   # Authorisation Response Code (8A) as text
    auth_code = ""
    response_code = ""
    issuer_auth = ""           # '', 'ok', 'failed'
    script_results = ""        # 9F5B hex
    oda = ""                   # 'SDA', 'DDA', 'CDA' or ''
    field55 = b""

    def __init__(self):
        self.trace = []                 # step-by-step notes (no card secrets)

    @property
    def approved(self):
        return self.result == APPROVED

    def summary(self):
        s = self.result.upper()
        if self.result in (APPROVED, DECLINED):
            s += " %s %s" % ("ONLINE" if self.online else "OFFLINE", self.cryptogram_type)
        if self.message:
            s += " (%s)" % self.message
        return s

    def as_dict(self):
        d = {}
        for k in ("result", "message", "online", "unable_to_go_online", "aid", "label", "scheme",
                  "masked_pan", "pan_seq", "tvr", "tsi", "cvm_results", "cvm", "signature_required",
                  "cryptogram", "cryptogram_type", "first_cryptogram_type", "cid", "atc", "arc",
                  "auth_code", "response_code", "issuer_auth", "script_results", "oda", "trace"):
            d[k] = getattr(self, k)
        d["field55"] = bytes(self.field55).hex().upper()
        return d


def field55(tags, source):
    """ICC system related data (ISO 8583 field 55): the listed tags present in `source`."""
    n = 0
    for t in tags:
        v = source.get(t)
        if v is not None:
            n += tlv.tlv_size(t, len(v))
    out = bytearray(n)
    pos = 0
    for t in tags:
        v = source.get(t)
        if v is not None:
            pos = tlv.tlv_encode_into(out, pos, t, v)
    return bytes(out)
