# Key store: terminal master keys (TMK) from a key-loading file on flash, and
# the working keys (PIN key TPK, MAC key TAK) delivered by the acquirer in the
# 0810 sign-on reply, kept enciphered under the TMK.
#
# Key-loading file (JSON, written by the key-injection tool; TEST files live
# in test fixtures/simulator data only):
#   {"acquirers": {"<name>": {"tmk": "<32 hex>", "kcv": "<6 hex>"}},
#    "dek": "<32 hex>", "dek_kcv": "<6 hex>"}
# `dek` is the terminal's local data key: journal fields that must survive a
# reboot but never sit on flash in clear (PAN, expiry) are sealed under it.
#
# Key values never pass to the log, a print or an exception message.
import json
import os
from pos import crypto
from pos.store.config import ConfigError

_ZERO8 = bytes(8)


class KeyStoreError(ValueError):
    """A key is missing or its check value does not match."""




def kcv(key):
    """Key check value: first 3 bytes of TDES(key, 00..00) (ANSI X9.24)."""
    return crypto.des_encrypt(key, _ZERO8)[:3]


def kcv_aes(key):
    """AES key check value: first 5 bytes of AES-CMAC(key, 16 zero bytes) (X9.24-1:2017 CMAC KCV)."""
    return crypto.aes_cmac(key, bytes(16))[:5]


def _unhex(s, what):
    try:
        b = bytes.fromhex(s)
    except (ValueError, TypeError):
        raise KeyStoreError("%s is not hexadecimal" % what)
    if len(b) != 16:
        raise KeyStoreError("%s is %d bytes (want 16, double-length TDES)" % (what, len(b)))
    return b


class KeyStore:
    def __init__(self, kld_path="keys.kld", wk_dir="."):
        self.wk_dir = wk_dir
        try:
            with open(kld_path) as f:
                d = json.loads(f.read())
        except OSError:
            raise ConfigError("%s: key-loading file missing from flash" % kld_path)
        except ValueError:
            raise ConfigError("%s: key-loading file is not valid JSON" % kld_path)
        self._tmk = {}
        acqs = d.get("acquirers")
        if not isinstance(acqs, dict):
            raise ConfigError("%s: acquirers: missing" % kld_path, "acquirers")
        for name in acqs:
            e = acqs[name]
            k = _unhex(e.get("tmk", ""), "TMK of %s" % name)
            if kcv(k).hex().upper() != str(e.get("kcv", "")).upper():
                raise KeyStoreError("TMK of %s: check value does not match" % name)
            self._tmk[name] = k
        self._dek = None
        if "dek" in d:
            k = _unhex(d["dek"], "DEK")
            if kcv(k).hex().upper() != str(d.get("dek_kcv", "")).upper():
                raise KeyStoreError("DEK: check value does not match")
            self._dek = k
        self._wk = {}
        # other services' keys (e.g. the QR wallet host's HMAC key): {"name": {"key", "kcv"}},
        # kcv = first 3 bytes of SHA-256 of the key (HMAC keys are not DES keys)
        self._secrets = {}
        for name, e in (d.get("secrets") or {}).items():
            k = _unhex(e.get("key", ""), "key of %s" % name)
            import hashlib
            if hashlib.sha256(k).digest()[:3].hex().upper() != str(e.get("kcv", "")).upper():
                raise KeyStoreError("key of %s: check value does not match" % name)
            self._secrets[name] = k

    def secret(self, name):
        """A service key from the key-loading file (never logged); KeyStoreError if absent."""
        k = self._secrets.get(name)
        if k is None:
            raise KeyStoreError("no %s key loaded: inject it with the key-loading tool" % name)
        return k

    def acquirers(self):
        return sorted(self._tmk)

    def tmk(self, acq):
        try:
            return self._tmk[acq]
        except KeyError:
            raise KeyStoreError("no terminal master key loaded for acquirer %s" % acq)

    # ------------------------------------------------------ working keys
    def _wk_path(self, acq):
        return "%s/wk_%s.json" % (self.wk_dir, acq)

    def store_working_keys(self, acq, wrapped):
        """Check and store working keys from 0810: {"tpk": (cryptogram, kcv), "tak": ...}.

        cryptogram = TDES-ECB(TMK, key), kcv 3 bytes.  Stored enciphered (as
        received); written to a temp file and renamed (power-cut safe)."""
        tmk = self.tmk(acq)
        rec = {}
        for name in wrapped:
            cg, cv = wrapped[name]
            if len(cg) != 16:
                raise KeyStoreError("%s for %s: cryptogram %d bytes (want 16)" % (name.upper(), acq, len(cg)))
            key = crypto.des_decrypt(tmk, cg)
            if kcv(key) != bytes(cv):
                raise KeyStoreError("%s for %s: check value does not match (wrong TMK?)" % (name.upper(), acq))
            rec[name] = cg.hex()
        path = self._wk_path(acq)
        with open(path + ".tmp", "w") as f:
            f.write(json.dumps(rec))
        os.rename(path + ".tmp", path)
        self._wk.pop(acq, None)

    def working_key(self, acq, name):
        """Clear working key `name` ('tpk' or 'tak') for `acq`; KeyStoreError if not signed on."""
        keys = self._wk.get(acq)
        if keys is None:
            try:
                with open(self._wk_path(acq)) as f:
                    rec = json.loads(f.read())
            except (OSError, ValueError):
                raise KeyStoreError("no working keys for %s (sign-on needed)" % acq)
            tmk = self.tmk(acq)
            keys = {n: crypto.des_decrypt(tmk, bytes.fromhex(rec[n])) for n in rec}
            self._wk[acq] = keys
        k = keys.get(name)
        if k is None:
            raise KeyStoreError("no %s for %s (sign-on needed)" % (name.upper(), acq))
        return k

    # ------------------------------------------------------ TR-31 key injection
    # The key-encryption key (KEK, the TR-31 key block protection key) written at
    # manufacture (`smartpos keys load-kek`) to KBPK_FILE beside the working keys:
    #   {"kbpk": "<hex>", "algorithm": "A" | "T", "kcv": "<hex>"}
    # Working keys injected under it stay as the TR-31 blocks received, with their
    # key version and check value, in tr31_<acquirer>.json: {slot: [block, version, kcv]}.
    KBPK_FILE = "kbpk.json"

    def kbpk(self):
        """(key, algorithm 'A' or 'T') of the KEK; KeyStoreError if missing or its check value differs."""
        try:
            with open("%s/%s" % (self.wk_dir, self.KBPK_FILE)) as f:
                d = json.loads(f.read())
        except (OSError, ValueError):
            raise KeyStoreError("no key-encryption key: load one at manufacture (smartpos keys load-kek)")
        alg = d.get("algorithm")
        try:
            k = bytes.fromhex(d.get("kbpk", ""))
        except (ValueError, TypeError):
            k = b""
        if alg not in ("A", "T") or len(k) not in ((16, 24, 32) if alg == "A" else (16, 24)):
            raise KeyStoreError("%s: KEK is not an AES or TDES key" % self.KBPK_FILE)
        cv = kcv_aes(k) if alg == "A" else kcv(k)
        if cv.hex().upper() != str(d.get("kcv", "")).upper():
            raise KeyStoreError("%s: KEK check value does not match" % self.KBPK_FILE)
        return k, alg

    def _tr31_path(self, acq):
        return "%s/tr31_%s.json" % (self.wk_dir, acq)

    def _tr31_record(self, acq):
        try:
            with open(self._tr31_path(acq)) as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            return {}

    def store_key_block(self, acq, slot, block, key_version, kcv_hex):
        """Keep a verified TR-31 block for (acq, slot) with its key version and KCV (temp file + rename)."""
        rec = self._tr31_record(acq)
        rec[slot] = [block, key_version, kcv_hex]
        path = self._tr31_path(acq)
        with open(path + ".tmp", "w") as f:
            f.write(json.dumps(rec))
        os.rename(path + ".tmp", path)

    def key_block(self, acq, slot):
        """(block, key version, KCV hex) stored for (acq, slot), or None."""
        e = self._tr31_record(acq).get(slot)
        return tuple(e) if e else None

    def has_working_keys(self, acq):
        try:
            self.working_key(acq, "tak")
            return True
        except KeyStoreError:
            return False

    # ------------------------------------------------------ local sealing
    def can_seal(self):
        return self._dek is not None

    def seal(self, text):
        """Hex of TDES-CBC(DEK, text padded with 0x80 00..) for journal storage."""
        if self._dek is None:
            raise KeyStoreError("no DEK loaded: cannot seal card data for the journal")
        b = text.encode() + b"\x80"
        b = b + bytes((8 - len(b) % 8) % 8)
        out = bytearray()
        prev = _ZERO8
        for i in range(0, len(b), 8):
            blk = bytes(x ^ y for x, y in zip(b[i:i + 8], prev))
            prev = crypto.des_encrypt(self._dek, blk)
            out.extend(prev)
        return bytes(out).hex()

    def unseal(self, hexdata):
        b = bytes.fromhex(hexdata)
        out = bytearray()
        prev = _ZERO8
        for i in range(0, len(b), 8):
            c = b[i:i + 8]
            out.extend(bytes(x ^ y for x, y in zip(crypto.des_decrypt(self._dek, c), prev)))
            prev = c
        j = len(out) - 1
        while j >= 0 and out[j] == 0:
            j -= 1
        if j < 0 or out[j] != 0x80:
            raise KeyStoreError("sealed journal data does not unseal (wrong DEK?)")
        return bytes(out[:j]).decode()
