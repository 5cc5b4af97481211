"""Recorded cards: an APDU session captured from a card (a real one in a PC/SC reader, or the
card simulator) into a trace file, and a trace replayed as a card.

    trace = record_session(PcscCard("ACS"), amount=2500)       # what a terminal asks, answered
    save_trace(trace, "card.trace.json")                       # full data: mode 0600
    card = TraceCard(load_trace("card.trace.json"))            # atr, transmit, reset
    make_card("trace:card.trace.json")                         # the same, as a profile name

The session is the one our terminal's contact kernel runs (EMV Book 1 12, Book 3 10):
SELECT the PSE and read its directory (or SELECT known AIDs), SELECT the application, GET
PROCESSING OPTIONS with the PDOL data, READ RECORD for every AFL entry, GET DATA (PIN try
counter, ATC, last online ATC), GET CHALLENGE, VERIFY (only with a PIN given; plaintext),
INTERNAL AUTHENTICATE (DDA cards), then the first GENERATE AC asking for an ARQC (with CDA
when the AIP offers it) and, as a terminal that could not go online does, the second
GENERATE AC asking for an AAC (authorisation response code Z3).

Trace file (JSON): {"format": "smartpos-apdu-trace", "version": 1, "atr", "reader",
"masked", "terminal": the terminal data used, "exchanges": [{"c": C-APDU hex, "r": R-APDU
hex}]}.  Responses are whole (data + SW1 SW2): the T=0 GET RESPONSE / 6Cxx rounds are
folded in, as the card simulator answers.  The PIN never enters a trace: a VERIFY is kept
as its header and Lc only.  With masking, the PAN (5A, and inside 57, 9F6B, 56, 9F1F) keeps
its first 6 and last 4 digits and the rest becomes 0, track discretionary data becomes 0
and the cardholder name (5F20) becomes "CARDHOLDER/MASKED"; signatures over those records
then no longer verify.

Replay rules (TraceCard): a command is answered with the response recorded for the same
command under the same selected file (the DF name of the last successful SELECT), in
recorded order (the next unused matching exchange, else a used one again).  Commands match
exactly (CLA INS P1 P2 and the command data; Le is not compared, T=0 does not send it for
case 4), except for the fields a terminal varies from one transaction to the next:

  * in DOL-built data (GET PROCESSING OPTIONS / PDOL, GENERATE AC / CDOL1 then CDOL2,
    INTERNAL AUTHENTICATE / DDOL), the values of TOLERATED tags: unpredictable number
    9F37, amounts 9F02 and 9F03, transaction date 9A and time 9F21, TVR 95, CVM results
    9F34, authorisation response code 8A and issuer authentication data 91; every other
    DOL value (currency, country, transaction type, terminal type, ...) must be equal;
  * VERIFY: CLA INS P1 only, P2 80 (plaintext) and 88 (enciphered PIN) alike: the PIN is
    not recorded, so a replayed card answers any PIN as the recorded card answered its own;
  * EXTERNAL AUTHENTICATE: header and Lc only (the issuer's data follows its cryptogram);
  * GENERATE AC: P1 asks for a cryptogram type; a recorded answer is given when the card
    could have given it to the request (Book 3 6.5.5.4: the type asked for or a lower one,
    AAC < ARQC < TC; the CDA bit equal unless the answer is an AAC), so the recorded ARQC
    answers a terminal asking for a TC, and the recorded AAC a second GENERATE AC.

A replayed card answers with the recorded cryptograms and signatures, made for the
recorded unpredictable number and amount: a terminal that checks them sees them fail
(CDA/DDA failed; the issuer rejects the ARQC).  A command with no recorded match gets a
status a card would give (SELECT 6A82, READ RECORD 6A83, GET DATA 6A88, else 6985) and is
listed in ``TraceCard.unmatched``.
"""
import datetime
import json
import os
import secrets

from host_sim.cards import ProfileError
from host_sim.cards.card import tlv_children

FORMAT = "smartpos-apdu-trace"
VERSION = 1
TOLERATED = frozenset((0x9F37, 0x9F02, 0x9F03, 0x9A, 0x9F21, 0x95, 0x9F34, 0x8A, 0x91))
PAN_TAGS = frozenset((0x5A,))
TRACK2_TAGS = frozenset((0x57, 0x9F6B))         # track 2 equivalent data (n, 'D' separator)
TRACK1_TAGS = frozenset((0x56, 0x9F1F))         # track 1 data / discretionary data (ans)
NAME_TAGS = frozenset((0x5F20,))
PSE = b"1PAY.SYS.DDF01"
KNOWN_AIDS = ("A0000000031010", "A0000000032010", "A0000000041010", "A0000000043060", "A000000333010101",
              "A000000333010102", "A000000025010801", "A0000000651010")
DEFAULT_DDOL = bytes.fromhex("9F3704")
INS_SELECT, INS_READ_RECORD, INS_GET_DATA, INS_GPO, INS_GENERATE_AC = 0xA4, 0xB2, 0xCA, 0xA8, 0xAE
INS_VERIFY, INS_EXTERNAL_AUTH, INS_INTERNAL_AUTH, INS_GET_CHALLENGE = 0x20, 0x82, 0x88, 0x84
UNMATCHED_SW = {INS_SELECT: b"\x6a\x82", INS_READ_RECORD: b"\x6a\x83", INS_GET_DATA: b"\x6a\x88"}


class TraceError(ProfileError):
    """A trace that cannot be recorded or replayed: names the file or the step."""


# -- APDU and TLV helpers -------------------------------------------------------------
def split_apdu(apdu):
    """(header, command data) of a C-APDU (ISO 7816-4 5.1 cases 1-4, short lengths)."""
    apdu = bytes(apdu)
    if len(apdu) <= 5:
        return apdu[:4], b""
    n = apdu[4]
    return apdu[:4], apdu[5:5 + n]


def walk_tlv(data):
    """Every (tag, value) of a BER-TLV tree, constructed ones and their children."""
    data = bytes(data)
    return [(tag, data[start:start + n]) for tag, _, start, n in _spans(data)]


def dol_entries(dol):
    """[(tag, length)] of a DOL."""
    out, i = [], 0
    while i < len(dol):
        t = dol[i]
        i += 1
        if t & 0x1F == 0x1F:
            while i < len(dol):
                t = (t << 8) | dol[i]
                i += 1
                if not dol[i - 1] & 0x80:
                    break
        if i >= len(dol):
            break
        out.append((t, dol[i]))
        i += 1
    return out


def dol_fields(dol, data):
    """[(tag, value)] of DOL-built data, in DOL order; None when the lengths disagree."""
    out, off = [], 0
    for tag, n in dol_entries(dol):
        out.append((tag, bytes(data[off:off + n])))
        off += n
    return out if off == len(data) else None


# -- masking --------------------------------------------------------------------------
def mask_digits(digits):
    """First 6 and last 4 digits kept, the rest 0 (a masked PAN that still parses)."""
    if len(digits) <= 10:
        return digits
    return digits[:6] + "0" * (len(digits) - 10) + digits[-4:]


def _masked_value(tag, value):
    if tag in PAN_TAGS:
        h = value.hex().upper()
        digits = h.rstrip("F")
        return bytes.fromhex((mask_digits(digits) + h[len(digits):]))
    if tag in TRACK2_TAGS:
        h = value.hex().upper()
        pan, sep, rest = h.partition("D")
        if not sep:
            return bytes(len(value))
        body = rest.rstrip("F")
        keep = body[:7]                              # YYMM expiry + service code
        out = mask_digits(pan) + "D" + keep + "0" * (len(body) - len(keep)) + rest[len(body):]
        return bytes.fromhex(out)
    if tag in TRACK1_TAGS:
        text = value.decode("latin-1")
        if "^" in text:                              # B PAN ^ NAME ^ YYMM SC discretionary
            pan, _, rest = text.partition("^")
            name, _, tail = rest.partition("^")
            fmt = pan[:1] if pan[:1].isalpha() else ""
            text = fmt + mask_digits(pan[len(fmt):]) + "^" + "MASKED"[:len(name)].ljust(len(name)) + "^" + \
                tail[:7] + "0" * max(0, len(tail) - 7)
        else:
            text = "0" * len(text)
        return text.encode("latin-1")[:len(value)].ljust(len(value), b"0")
    if tag in NAME_TAGS:
        return b"CARDHOLDER/MASKED"[:len(value)].ljust(len(value))
    return value


def _spans(data, base=0):
    """[(tag, constructed, value offset, value length)] of every element of a BER-TLV tree;
    stops quietly at data that is not TLV (padding, proprietary bytes)."""
    out, i = [], 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):                  # padding between elements (ISO 7816-4 5.2.2)
            i += 1
            continue
        first = data[i]
        tag = first
        i += 1
        if first & 0x1F == 0x1F:
            while i < len(data):
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= len(data):
            break
        n = data[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            if k > 3 or i + k > len(data):
                break
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        if i + n > len(data):
            break
        out.append((tag, bool(first & 0x20), base + i, n))
        if first & 0x20:
            out += _spans(data[i:i + n], base + i)
        i += n
    return out


def mask_response(resp):
    """The R-APDU with PAN, track data and cardholder name masked in its BER-TLV data."""
    resp = bytes(resp)
    out = bytearray(resp)
    for tag, constructed, start, n in _spans(resp[:-2]):
        if not constructed:
            out[start:start + n] = _masked_value(tag, resp[start:start + n])
    return bytes(out)


# -- recording ------------------------------------------------------------------------
class Recorder:
    """A card wrapped so that every exchange is kept (the T=0 rounds folded in)."""

    def __init__(self, card):
        self.card = card
        self.exchanges = []

    def transmit(self, apdu):
        apdu = bytes(apdu)
        r = bytes(self.card.transmit(apdu))
        if len(r) >= 2 and r[-2] == 0x6C:            # wrong Le: send again with La (ISO 7816-3 10.3.3)
            r = bytes(self.card.transmit(apdu[:4] + r[-1:]))
        data = bytearray()
        while len(r) >= 2 and r[-2] == 0x61:         # T=0: response data waiting: GET RESPONSE
            data += r[:-2]
            r = bytes(self.card.transmit(bytes([0x00, 0xC0, 0x00, 0x00, r[-1]])))
        r = bytes(data) + r
        kept = apdu
        if apdu[1:2] == bytes([INS_VERIFY]):
            kept = apdu[:5]                          # the PIN never enters the trace
        self.exchanges.append((kept, r))
        return r


def terminal_data(amount=1000, currency="0840", country="0840", when=None):
    """The terminal's data objects for DOLs (EMV Book 3 Annex A), fresh UN and date."""
    when = when or datetime.datetime.now()
    return {
        0x9F02: bytes.fromhex("%012d" % amount), 0x9F03: bytes(6), 0x9F1A: bytes.fromhex(country),
        0x95: bytes(5), 0x5F2A: bytes.fromhex(currency), 0x9A: bytes.fromhex(when.strftime("%y%m%d")),
        0x9F21: bytes.fromhex(when.strftime("%H%M%S")), 0x9C: b"\x00", 0x9F37: secrets.token_bytes(4),
        0x9F35: b"\x22", 0x9F34: bytes.fromhex("3F0000"), 0x9F33: bytes.fromhex("E0F8C8"),
        0x9F40: bytes.fromhex("6000F0A001"), 0x9F66: bytes.fromhex("36004000"), 0x8A: b"Z3",
        0x9F1E: b"SMARTPOS", 0x9F45: bytes(2), 0x9F4C: bytes(8),
    }


def build_dol(dol, values):
    """DOL data: each value cut or left-padded with zeros to its length (Book 3 5.4)."""
    out = bytearray()
    for tag, n in dol_entries(dol):
        v = values.get(tag, b"")
        out += v[-n:] if len(v) >= n else bytes(n - len(v)) + v
    return bytes(out)


def _select(tx, name):
    return tx(bytes([0x00, INS_SELECT, 0x04, 0x00, len(name)]) + name + b"\x00")


def _ok(r):
    return len(r) >= 2 and r[-2] in (0x90, 0x62, 0x63)


def record_session(card, amount=1000, pin=None, aid=None, currency="0840", country="0840", log=None):
    """Run a terminal's contact session on `card` (atr, transmit) and return the trace dict."""
    log = log or (lambda msg: None)
    rec = Recorder(card)
    tx = rec.transmit
    values = terminal_data(amount, currency, country)
    aids = []
    if aid is None:
        r = _select(tx, PSE)
        if _ok(r):
            sfi = 1
            for tag, v in walk_tlv(r[:-2]):
                if tag == 0x88 and v:
                    sfi = v[0]
            for n in range(1, 17):
                r = tx(bytes([0x00, INS_READ_RECORD, n, (sfi << 3) | 4, 0x00]))
                if not _ok(r):
                    break
                entries = [v for t, v in walk_tlv(r[:-2]) if t == 0x61]
                for e in entries:
                    d = dict(tlv_children(e))
                    if 0x4F in d:
                        aids.append((d.get(0x87, b"\x0f")[0] & 0x0F, d[0x4F]))
            aids = [a for _, a in sorted(aids, key=lambda x: x[0])]
        log("PSE: %s" % (", ".join(a.hex().upper() for a in aids) if aids else "none, known AIDs tried"))
    else:
        aids = [bytes.fromhex(aid)]
    fci = None
    for candidate in aids or [bytes.fromhex(a) for a in KNOWN_AIDS]:
        r = _select(tx, candidate)
        if _ok(r):
            fci = r[:-2]
            log("application %s selected" % candidate.hex().upper())
            break
    if fci is None:
        raise TraceError("no EMV application could be selected on this card")
    fci_tags = dict(walk_tlv(fci))
    pdol = fci_tags.get(0x9F38, b"")
    pdol_data = build_dol(pdol, values)
    r = tx(bytes([0x80, INS_GPO, 0x00, 0x00, len(pdol_data) + 2, 0x83, len(pdol_data)]) + pdol_data + b"\x00")
    if not _ok(r):
        raise TraceError("GET PROCESSING OPTIONS refused (SW %s)" % r[-2:].hex().upper())
    gpo = r[:-2]
    if gpo[:1] == b"\x80":                           # format 1: AIP, AFL
        items = tlv_children(gpo)
        aip, afl = items[0][1][:2], items[0][1][2:]
    else:
        g = dict(walk_tlv(gpo))
        aip, afl = g.get(0x82, b"\x00\x00"), g.get(0x94, b"")
    records = {}
    for i in range(0, len(afl) - 3, 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        for n in range(first, last + 1):
            r = tx(bytes([0x00, INS_READ_RECORD, n, (sfi << 3) | 4, 0x00]))
            if _ok(r):
                records.update(walk_tlv(r[:-2]))
    log("%d records read" % sum(afl[i + 2] - afl[i + 1] + 1 for i in range(0, len(afl) - 3, 4)))
    for tag in (0x9F17, 0x9F36, 0x9F13):
        tx(bytes([0x80, INS_GET_DATA, tag >> 8, tag & 0xFF, 0x00]))
    tx(bytes([0x00, INS_GET_CHALLENGE, 0x00, 0x00, 0x00]))
    if pin is not None:                              # plaintext offline PIN (Book 3 6.5.12; ISO 9564 format 2)
        block = bytearray(b"\xff" * 8)
        digits = "2%X" % len(pin) + pin
        digits += "F" * (16 - len(digits))
        block[:] = bytes.fromhex(digits)
        r = tx(bytes([0x00, INS_VERIFY, 0x00, 0x80, 0x08]) + bytes(block))
        log("VERIFY: SW %s" % r[-2:].hex().upper())
    cda = bool(aip[0] & 0x01)
    if aip[0] & 0x20 and not cda:                    # DDA: INTERNAL AUTHENTICATE with the DDOL
        ddol_data = build_dol(records.get(0x9F49, DEFAULT_DDOL), values)
        tx(bytes([0x00, INS_INTERNAL_AUTH, 0x00, 0x00, len(ddol_data)]) + ddol_data + b"\x00")
    cdol1 = records.get(0x8C, b"")
    cdol2 = records.get(0x8D, b"")
    d1 = build_dol(cdol1, values)
    r = tx(bytes([0x80, INS_GENERATE_AC, 0x80 | (0x10 if cda else 0), 0x00, len(d1)]) + d1 + b"\x00")
    log("GENERATE AC (ARQC%s): SW %s" % (", CDA" if cda else "", r[-2:].hex().upper()))
    if _ok(r) and cdol2:                             # could not go online: AAC (Book 3 10.9)
        d2 = build_dol(cdol2, values)
        tx(bytes([0x80, INS_GENERATE_AC, 0x00, 0x00, len(d2)]) + d2 + b"\x00")
    terminal = {"amount": amount, "currency": currency, "country": country,
                "date": values[0x9A].hex(), "unpredictable_number": values[0x9F37].hex()}
    return {"format": FORMAT, "version": VERSION, "atr": bytes(card.atr).hex().upper(),
            "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "masked": False, "terminal": terminal,
            "exchanges": [{"c": c.hex().upper(), "r": r.hex().upper()} for c, r in rec.exchanges]}


def masked(trace):
    """A copy of the trace with PAN, track data and cardholder name masked."""
    out = dict(trace, masked=True)
    out["exchanges"] = [{"c": e["c"], "r": mask_response(bytes.fromhex(e["r"])).hex().upper()}
                        for e in trace["exchanges"]]
    return out


def save_trace(trace, path):
    """Write the trace; an unmasked one only with mode 0600 (owner read/write)."""
    text = json.dumps(trace, indent=1) + "\n"
    if trace.get("masked"):
        with open(path, "w") as f:
            f.write(text)
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)                         # also when the file was there before
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    return path


def load_trace(path):
    try:
        with open(path) as f:
            trace = json.load(f)
    except OSError as exc:
        raise TraceError("%s: cannot read the trace (%s)" % (path, exc.strerror or exc))
    except ValueError as exc:
        raise TraceError("%s: not valid JSON (%s)" % (path, exc))
    if not isinstance(trace, dict) or trace.get("format") != FORMAT:
        raise TraceError("%s: not a smartpos APDU trace (format %r expected)" % (path, FORMAT))
    if trace.get("version") != VERSION:
        raise TraceError("%s: trace version %r; this reader knows version %d" % (path, trace.get("version"),
                                                                               VERSION))
    try:
        bytes.fromhex(trace["atr"])
        for i, e in enumerate(trace["exchanges"]):
            c, r = bytes.fromhex(e["c"]), bytes.fromhex(e["r"])
            if len(c) < 4 or len(r) < 2:
                raise TraceError("%s: exchange %d is too short" % (path, i))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, TraceError):
            raise
        raise TraceError("%s: bad atr or exchanges (%s)" % (path, exc))
    trace["path"] = path
    return trace


# -- replay ---------------------------------------------------------------------------
class _Exchange:
    __slots__ = ("header", "data", "response", "selected", "dol", "used")

    def __init__(self, command, response, selected):
        self.header, self.data = split_apdu(command)
        self.response = response
        self.selected = selected
        self.dol = None
        self.used = False


class TraceCard:
    """A recorded card answering as it answered then (see the module header for the rules)."""

    def __init__(self, trace):
        self.trace = trace
        self.atr = bytes.fromhex(trace["atr"])
        self.protocol = 1 if _atr_offers_t1(self.atr) else 0
        name = os.path.basename(trace.get("path", "trace"))
        self.name = "trace:" + name
        self.profile = {"name": self.name, "description": "recorded card (%s, %d exchanges%s)" % (
            name, len(trace["exchanges"]), ", masked" if trace.get("masked") else "")}
        self.exchanges = []
        self.unmatched = []                 # headers (hex) of commands nothing recorded answered
        self.tolerated = []                 # (INS, tag) of tolerated differences, for tests and logs
        self._index()
        self.reset()

    def _index(self):
        """Selected file and DOL of each recorded exchange, found by walking the trace in order."""
        selected = b""
        dols = {}
        gen_ac = 0
        for e in self.trace["exchanges"]:
            c, r = bytes.fromhex(e["c"]), bytes.fromhex(e["r"])
            x = _Exchange(c, r, selected)
            ins = x.header[1]
            if ins == INS_SELECT and _ok(r):
                selected = x.data
                x.selected = b""                      # SELECT itself matches in any context
                dols = {0x9F38: dict(walk_tlv(r[:-2])).get(0x9F38, b"")}
                gen_ac = 0
            elif ins == INS_READ_RECORD and _ok(r):
                for tag, v in walk_tlv(r[:-2]):
                    if tag in (0x8C, 0x8D, 0x9F49):
                        dols[tag] = v
            elif ins == INS_GPO:
                x.dol = ("gpo", dols.get(0x9F38, b""))
            elif ins == INS_GENERATE_AC:
                x.dol = ("cdol", dols.get(0x8D if gen_ac else 0x8C, b""))
                gen_ac += 1
            elif ins == INS_INTERNAL_AUTH:
                x.dol = ("ddol", dols.get(0x9F49, DEFAULT_DDOL))
            self.exchanges.append(x)

    def reset(self):
        """A new session (card reset): nothing selected, every exchange available again."""
        self.selected = b""
        self.cursor = 0
        for x in self.exchanges:
            x.used = False

    def transmit(self, apdu):
        header, data = split_apdu(apdu)
        found = self._find(header, data)
        if found is None:
            self.unmatched.append(bytes(apdu[:4]).hex().upper())
            return UNMATCHED_SW.get(header[1], b"\x69\x85")
        i, x = found
        x.used = True
        self.cursor = i + 1
        if header[1] == INS_SELECT and _ok(x.response):
            self.selected = data
        return x.response

    def _find(self, header, data):
        order = list(range(self.cursor, len(self.exchanges))) + list(range(0, self.cursor))
        fallback = None
        for i in order:
            x = self.exchanges[i]
            if (x.selected and x.selected != self.selected) or not self._same_header(x, header):
                continue
            if not self._same_data(x, data):
                continue
            if not x.used:
                return i, x
            if fallback is None:
                fallback = (i, x)
        return fallback

    def _same_header(self, x, header):
        if x.header == header:
            return True
        if x.header[:2] != header[:2]:
            return False
        ins = header[1]
        if ins == INS_VERIFY:                              # P2 80 plaintext / 88 enciphered PIN
            return x.header[2] == header[2] and {x.header[3], header[3]} <= {0x80, 0x88}
        if ins == INS_GENERATE_AC:
            return x.header[3] == header[3] and _answers_request(x.header[2], x.response, header[2])
        return False

    def _same_data(self, x, data):
        ins = x.header[1]
        if ins == INS_VERIFY:
            return True                                    # the PIN is not recorded
        if ins == INS_EXTERNAL_AUTH:
            return len(x.data) == len(data)
        if x.data == data:
            return True
        if x.dol is None or len(x.data) != len(data):
            return False
        kind, dol = x.dol
        a, b = (x.data[2:], data[2:]) if kind == "gpo" else (x.data, data)
        if kind == "gpo" and x.data[:2] != data[:2]:
            return False                                  # the 83 L template header
        fa, fb = dol_fields(dol, a), dol_fields(dol, b)
        if fa is None or fb is None:
            return False
        differing = [ta for (ta, va), (_, vb) in zip(fa, fb) if va != vb]
        if any(t not in TOLERATED for t in differing):
            return False
        self.tolerated += [(ins, t) for t in differing]
        return True


def _atr_offers_t1(atr):
    """True when the ATR's first offered protocol is T=1 (ISO 7816-3 8.2.2: T0, TA1 TB1 TC1, TD1)."""
    if len(atr) < 2 or not atr[1] & 0x80:
        return False
    td1 = 2 + bin(atr[1] & 0x70).count("1")
    return td1 < len(atr) and atr[td1] & 0x0F == 1


# GENERATE AC reference control parameter (EMV Book 3 6.5.5.2, table 12): b8-b7 the cryptogram
# asked for (00 AAC, 10 ARQC, 01 TC), b5 CDA signature requested.  The card may answer with the
# type asked for or a lower one (AAC < ARQC < TC, Book 3 6.5.5.4); an AAC carries no CDA
# signature (Book 2 6.6.1).
_RANK = {0x00: 0, 0x80: 1, 0x40: 2}


def cryptogram_type(response):
    """b8-b7 of the Cryptogram Information Data (9F27) in a GENERATE AC response, or None."""
    body = response[:-2]
    if body[:1] == b"\x80" and len(body) > 2:              # format 1: CID ATC AC IAD
        return body[2] & 0xC0
    cid = dict(walk_tlv(body)).get(0x9F27)
    return cid[0] & 0xC0 if cid else None


def _answers_request(recorded_p1, response, asked_p1):
    """True when the recorded GENERATE AC answer is one the card could give to `asked_p1`."""
    got = cryptogram_type(response)
    if got not in _RANK or (asked_p1 & 0xC0) not in _RANK:
        return False
    if _RANK[got] > _RANK[asked_p1 & 0xC0]:
        return False
    return got == 0x00 or (recorded_p1 & 0x10) == (asked_p1 & 0x10)
