# Terminal EMV configuration: firmware/config/emv.json (+ the CA public key
# file it names), read from flash and validated.  Every problem raises
# ConfigError naming the key path, e.g. "schemes.visa.tac_online".
#
# The terminal-management work updates these files; the kernel reads only the
# objects built here.
import json

from pos.emv.errors import ConfigError

DEFAULT_PATHS = ("config/emv.json", "/flash/config/emv.json")


def _hex(d, key, path, length=None, default=None, minlen=0, maxlen=255):
    v = d.get(key, default)
    where = path + "." + key
    if v is None:
        raise ConfigError(where, "missing (hex string expected)")
    if not isinstance(v, str):
        raise ConfigError(where, "must be a hex string, got %s" % type(v).__name__)
    try:
        b = bytes.fromhex(v)
    except ValueError:
        raise ConfigError(where, "not hex: %r" % v)
    if length is not None and len(b) != length:
        raise ConfigError(where, "must be %d bytes, got %d" % (length, len(b)))
    if not minlen <= len(b) <= maxlen:
        raise ConfigError(where, "must be %d..%d bytes, got %d" % (minlen, maxlen, len(b)))
    return b


def _int(d, key, path, default=None, lo=0, hi=999999999999):
    v = d.get(key, default)
    where = path + "." + key
    if v is None:
        raise ConfigError(where, "missing (integer expected)")
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(where, "must be an integer, got %r" % (v,))
    if not lo <= v <= hi:
        raise ConfigError(where, "must be in %d..%d, got %d" % (lo, hi, v))
    return v


def _bool(d, key, path, default=None):
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise ConfigError(path + "." + key, "must be true or false")
    return v


def _str(d, key, path, default=None, maxlen=64):
    v = d.get(key, default)
    if not isinstance(v, str) or len(v) > maxlen:
        raise ConfigError(path + "." + key, "must be a text of at most %d characters" % maxlen)
    return v


def _numeric(d, key, path, digits):
    # 'n' format data element given as decimal digits, e.g. "0840"
    v = _str(d, key, path)
    if len(v) != digits or not all("0" <= c <= "9" for c in v):
        raise ConfigError(path + "." + key, "must be %d decimal digits, got %r" % (digits, v))
    return bytes.fromhex(v if digits % 2 == 0 else "0" + v)


class Terminal:
    """Terminal-wide data elements (Book 4 Annex A: 9F33, 9F40, 9F35, 9F1A, 5F2A...)."""

    def __init__(self, d):
        p = "terminal"
        if not isinstance(d, dict):
            raise ConfigError(p, "must be an object")
        self.country_code = _numeric(d, "country_code", p, 4)          # 9F1A
        self.currency_code = _numeric(d, "currency_code", p, 4)        # 5F2A
        self.currency_exponent = _int(d, "currency_exponent", p, 2, 0, 9)   # 5F36
        self.terminal_type = _hex(d, "terminal_type", p, 1)            # 9F35
        self.capabilities = _hex(d, "capabilities", p, 3)              # 9F33
        self.additional_capabilities = _hex(d, "additional_capabilities", p, 5)  # 9F40
        self.ifd_serial = _str(d, "ifd_serial", p, maxlen=8).encode()  # 9F1E an 8
        self.terminal_id = _str(d, "terminal_id", p, maxlen=8).encode()  # 9F1C an 8
        self.merchant_id = _str(d, "merchant_id", p, "", maxlen=15).encode()  # 9F16 ans 15
        self.merchant_category = _numeric(d, "merchant_category", p, 4)  # 9F15
        self.online_capable = _bool(d, "online_capable", p, True)
        self.pin_pad = _bool(d, "pin_pad", p, True)
        self.cardholder_confirmation = _bool(d, "cardholder_confirmation", p, True)
        self.transaction_log_size = _int(d, "transaction_log_size", p, 16, 0, 256)
        self.pin_block_format = _int(d, "pin_block_format", p, 0, 0, 3)
        if self.pin_block_format == 2:
            raise ConfigError(p + ".pin_block_format", "format 2 is for the ICC only; use 0, 1 or 3")
        # terminal type b1-b2 of the second digit: 1..3 attended, 4..6 unattended (Book 4 A1)
        self.attended = (self.terminal_type[0] & 0x0F) <= 3


class Aid:
    def __init__(self, aid, partial, label):
        self.aid = aid
        self.partial = partial      # Application Selection Indicator (Book 1 12.3.1)
        self.label = label


class Scheme:
    """Per-payment-system parameters: AIDs, TACs, floor limit, risk parameters."""

    def __init__(self, name, d, field55):
        p = "schemes." + name
        if not isinstance(d, dict):
            raise ConfigError(p, "must be an object")
        self.name = name
        self.rid = _hex(d, "rid", p, 5)
        self.app_version = _hex(d, "app_version", p, 2)                  # 9F09
        aids = d.get("aids")
        if not isinstance(aids, list) or not aids:
            raise ConfigError(p + ".aids", "must be a non-empty list")
        self.aids = []
        for i, a in enumerate(aids):
            ap = "%s.aids[%d]" % (p, i)
            if not isinstance(a, dict):
                raise ConfigError(ap, "must be an object")
            aid = _hex(a, "aid", ap, minlen=5, maxlen=16)
            if aid[:5] != self.rid:
                raise ConfigError(ap + ".aid", "does not start with the scheme RID %s" % self.rid.hex().upper())
            self.aids.append(Aid(aid, _bool(a, "partial", ap, True), _str(a, "label", ap, "", 16)))
        self.tac_denial = _hex(d, "tac_denial", p, 5)
        self.tac_online = _hex(d, "tac_online", p, 5)
        self.tac_default = _hex(d, "tac_default", p, 5)
        self.floor_limit = _int(d, "floor_limit", p)                     # 9F1B, minor units
        self.random_threshold = _int(d, "random_threshold", p, 0)
        self.random_target = _int(d, "random_target_percent", p, 0, 0, 99)
        self.random_max = _int(d, "random_max_percent", p, 0, 0, 99)
        if self.random_target > self.random_max:
            raise ConfigError(p + ".random_target_percent", "is above random_max_percent")
        if self.random_threshold > self.floor_limit and self.floor_limit:
            raise ConfigError(p + ".random_threshold", "is above floor_limit")
        self.default_ddol = _hex(d, "default_ddol", p, default="9F3704")
        self.default_tdol = _hex(d, "default_tdol", p, default="")
        # ISO 8583 field 55 tags for this scheme; default: the top-level list
        self.field55 = _tag_list(d["field55"], p + ".field55") if "field55" in d else field55


def _tag_list(f55, where):
    if not isinstance(f55, list) or not f55:
        raise ConfigError(where, "must be a non-empty list of tags")
    out = []
    for i, t in enumerate(f55):
        if not isinstance(t, str):
            raise ConfigError("%s[%d]" % (where, i), "must be a hex tag string")
        try:
            out.append(int(t, 16))
        except ValueError:
            raise ConfigError("%s[%d]" % (where, i), "not a hex tag: %r" % t)
    return out


class CaKey:
    def __init__(self, rid, index, modulus, exponent, expiry):
        self.rid = rid
        self.index = index
        self.modulus = modulus
        self.exponent = exponent
        self.expiry = expiry        # YYMMDD bytes (BCD) or None


class Config:
    def __init__(self, d, capk=None):
        if not isinstance(d, dict):
            raise ConfigError("(top)", "must be a JSON object")
        self.terminal = Terminal(d.get("terminal"))
        schemes = d.get("schemes")
        if not isinstance(schemes, dict) or not schemes:
            raise ConfigError("schemes", "must be a non-empty object of scheme name -> parameters")
        f55 = _tag_list(d.get("field55"), "field55")
        self.schemes = [Scheme(n, schemes[n], f55) for n in sorted(schemes)]
        self.capk_file = d.get("capk_file")
        self.ca_keys = {}
        self.revoked = set()
        if capk is not None:
            self.load_ca_keys(capk)

    def load_ca_keys(self, d, source="capk"):
        """CA public keys and the certificate revocation list (Book 2 5.1, 6.1)."""
        if not isinstance(d, dict):
            raise ConfigError(source, "must be a JSON object")
        keys = d.get("keys")
        if not isinstance(keys, list):
            raise ConfigError(source + ".keys", "must be a list")
        for i, k in enumerate(keys):
            p = "%s.keys[%d]" % (source, i)
            if not isinstance(k, dict):
                raise ConfigError(p, "must be an object")
            rid = _hex(k, "rid", p, 5)
            idx = _hex(k, "index", p, 1)[0]
            mod = _hex(k, "modulus", p, minlen=64, maxlen=248)
            exp = _hex(k, "exponent", p, minlen=1, maxlen=3)
            if exp not in (b"\x03", b"\x01\x00\x01"):
                raise ConfigError(p + ".exponent", "must be 03 or 010001 (Book 2 5.1)")
            exp_date = _hex(k, "expiry", p, 3) if "expiry" in k else None
            self.ca_keys[(rid, idx)] = CaKey(rid, idx, mod, exp, exp_date)
        rev = d.get("revoked", [])
        if not isinstance(rev, list):
            raise ConfigError(source + ".revoked", "must be a list")
        for i, r in enumerate(rev):
            p = "%s.revoked[%d]" % (source, i)
            if not isinstance(r, dict):
                raise ConfigError(p, "must be an object")
            self.revoked.add((_hex(r, "rid", p, 5), _hex(r, "index", p, 1)[0], _hex(r, "serial", p, 3)))

    def scheme_for(self, aid):
        """The scheme whose configured AID is a prefix of (or equal to) `aid`."""
        aid = bytes(aid)
        best = None
        n = -1
        for s in self.schemes:
            for a in s.aids:
                k = len(a.aid)
                if k > n and aid.startswith(a.aid):      # (no slice made per configured AID)
                    best = s
                    n = k
        return best

    def ca_key(self, rid, index):
        return self.ca_keys.get((bytes(rid), index))


def _read_json(path, key):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError:
        raise ConfigError(key, "cannot read %s" % path)
    except ValueError as exc:
        raise ConfigError(key, "%s is not valid JSON (%s)" % (path, exc))


def _dirname(p):
    i = p.rfind("/")
    return p[:i] if i > 0 else ("/" if i == 0 else ".")


def load(path=None, capk_path=None):
    """Read and validate the EMV configuration (and its CA key file)."""
    if path is None:
        for cand in DEFAULT_PATHS:
            try:
                open(cand).close()
                path = cand
                break
            except OSError:
                pass
        if path is None:
            raise ConfigError("emv.json", "not found (looked in %s)" % ", ".join(DEFAULT_PATHS))
    cfg = Config(_read_json(path, "emv.json"))
    if capk_path is None and cfg.capk_file:
        capk_path = cfg.capk_file if cfg.capk_file.startswith("/") else _dirname(path) + "/" + cfg.capk_file
    if capk_path:
        cfg.load_ca_keys(_read_json(capk_path, "capk_file"), "capk_file")
    return cfg
