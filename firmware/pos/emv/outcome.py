# The result of one contact EMV transaction: what the host message (field 55),
# the receipt and the journal need.  Never holds the full PAN.
from pos.emv import tlv

APPROVED = "approved"
DECLINED = "declined"
TERMINATED = "terminated"          # no cryptogram: card error, removed, data missing
NOT_ACCEPTED = "not_accepted"      # no mutually supported application

CRYPTOGRAM_TYPES = {0x00: "AAC", 0x40: "TC", 0x80: "ARQC"}


class Outcome:
    def __init__(self):
        self.result = TERMINATED
        self.message = ""
        self.amount = 0                 # the amount authorised when an offer changed it (0: as asked)
        self.tap_again = 0              # contactless: the amount changed after the tap; tap for this one
        self.online = False             # decided by the issuer (or unable to go online)
        self.unable_to_go_online = False
        self.aid = ""                   # hex
        self.label = ""
        self.scheme = ""
        self.masked_pan = ""
        self.pan_seq = ""
        self.tvr = "0000000000"
        self.tsi = "0000"
        self.cvm_results = ""
        self.cvm = ""                   # method name performed
        self.signature_required = False
        self.cryptogram = ""            # hex of the final AC
        self.cryptogram_type = ""       # 'TC', 'AAC', 'ARQC'
        self.first_cryptogram_type = ""
        self.cid = ""
        self.atc = ""
        self.arc = ""                   # Authorisation Response Code (8A) as text
        self.auth_code = ""
        self.response_code = ""
        self.issuer_auth = ""           # '', 'ok', 'failed'
        self.script_results = ""        # 9F5B hex
        self.oda = ""                   # 'SDA', 'DDA', 'CDA' or ''
        self.field55 = b""
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
