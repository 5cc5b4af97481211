# Key store: terminal master keys (TMK) from a key-loading file on flash, and
# the working keys (PIN key TPK, MAC key TAK) delivered by the acquirer in the
# 0810 sign-on reply, kept enciphered under the TMK.
#
# Key-loading file (JSON, written by the key-injection tool; TEST files live
# in test fixtures/simulator data only):
#   {"acquirers": {"<name>": {"tmk": "<32 hex>", "kcv": "<6 hex>", "test": true}},
#    "dek": "<32 hex>", "dek_kcv": "<6 hex>", "dek_test": true,
#    "secrets": {"<name>": {"key": "<32 hex>", "kcv": "<6 hex>", "test": true}}}
# `dek` is the terminal's local data key: journal fields that must survive a
# reboot but never sit on flash in clear (PAN, expiry) are sealed under it.
# "test": true marks a TEST key (test_keys(); the Ready screen says TEST KEYS).
#
# At rest the keys live in the sealed key store (keystore.bin, docs/keys-at-rest.md):
# the key-loading file's content, AES + HMAC-SHA256 under the device key (KEK in OTP +
# the board's unique id, pos.store.devicekey).  A key-loading file found on flash is
# checked, sealed into the store and then removed (key injection; also the migration
# of a terminal that kept its keys in clear).  An altered or foreign store gives
# KeyStoreError and the clear file, if any, is kept: nothing is lost.
#
#     ks = KeyStore("keys.kld", ".")            # device key from the board
#     ks.tmk("alpha"); ks.test_keys()
#
# Key values never pass to the log, a print or an exception message.
import json
import os
from pos import crypto
from pos import log
from pos.store import devicekey
from pos.store.config import ConfigError

_ZERO8 = bytes(8)
STORE = "keystore.bin"


class KeyStoreError(ValueError):
    """A key is missing, its check value does not match, or the sealed store does not open."""


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


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class KeyStore:
    def __init__(self, kld_path="keys.kld", wk_dir=".", device=None):
        """`device`: the pos.store.devicekey.DeviceKey to seal under (None: this board's)."""
        self.wk_dir = wk_dir
        self.store_path = "%s/%s" % (wk_dir, STORE)
        self._device = device
        if _exists(kld_path):
            d = self._load_kld(kld_path)
            self._check(d, kld_path)
            self._seal_store(d, kld_path)
        elif _exists(self.store_path):
            d = self._open_store()
            self._check(d, self.store_path)
        else:
            raise ConfigError("no keys on flash (neither %s nor a key-loading file %s): inject keys"
                              % (STORE, kld_path))

    def _device_key(self):
        if self._device is None:
            try:
                self._device = devicekey.from_board()
            except devicekey.DeviceKeyError as exc:
                raise KeyStoreError("key store cannot be sealed or opened: %s" % exc)
        return self._device

    def _load_kld(self, kld_path):
        try:
            with open(kld_path) as f:
                d = json.loads(f.read())
        except OSError:
            raise ConfigError("%s: key-loading file cannot be read" % kld_path)
        except ValueError:
            raise ConfigError("%s: key-loading file is not valid JSON" % kld_path)
        if not isinstance(d, dict):
            raise ConfigError("%s: key-loading file is not a JSON object" % kld_path)
        return d

    def _seal_store(self, d, kld_path):
        """Seal the checked key-loading content into the store (temp file + rename, power-cut
        safe), then remove the clear file."""
        blob = self._device_key().seal(json.dumps(d).encode())
        with open(self.store_path + ".tmp", "wb") as f:
            f.write(blob)
        os.rename(self.store_path + ".tmp", self.store_path)
        os.remove(kld_path)
        log.info("keys", "key-loading file sealed into the key store", acquirers=len(self._tmk))

    def _open_store(self):
        try:
            with open(self.store_path, "rb") as f:
                blob = f.read()
        except OSError:
            raise ConfigError("%s: key store cannot be read" % self.store_path)
        try:
            plain = self._device_key().open(blob)
        except devicekey.DeviceKeyError as exc:
            log.error("keys", "key store refused", err=str(exc))
            raise KeyStoreError("%s: %s: re-inject the keys" % (STORE, exc))
        try:
            d = json.loads(plain)
        except ValueError:
            raise KeyStoreError("%s: sealed content is not a key list: re-inject the keys" % STORE)
        if not isinstance(d, dict):
            raise KeyStoreError("%s: sealed content is not a key list: re-inject the keys" % STORE)
        return d

    def _check(self, d, where):
        self._test = []
        self._tmk = {}
        acqs = d.get("acquirers")
        if not isinstance(acqs, dict):
            raise ConfigError("%s: acquirers: missing" % where, "acquirers")
        for name in acqs:
            e = acqs[name]
            k = _unhex(e.get("tmk", ""), "TMK of %s" % name)
            if kcv(k).hex().upper() != str(e.get("kcv", "")).upper():
                raise KeyStoreError("TMK of %s: check value does not match" % name)
            self._tmk[name] = k
            if e.get("test") is True:
                self._test.append("TMK " + name)
        self._dek = None
        if "dek" in d:
            k = _unhex(d["dek"], "DEK")
            if kcv(k).hex().upper() != str(d.get("dek_kcv", "")).upper():
                raise KeyStoreError("DEK: check value does not match")
            self._dek = k
            if d.get("dek_test") is True:
                self._test.append("DEK")
        self._wk = {}
        # other services' keys (e.g. the QR wallet host's HMAC key): {"name": {"key", "kcv"}},
        # kcv = first 3 bytes of SHA-256 of the key (HMAC keys are not DES keys)
        self._secrets = {}
        for name, e in (d.get("secrets") or {}).items():
            k = _unhex(e.get("key", ""), "key of %s" % name)
            if crypto.sha256(k)[:3].hex().upper() != str(e.get("kcv", "")).upper():
                raise KeyStoreError("key of %s: check value does not match" % name)
            self._secrets[name] = k
            if e.get("test") is True:
                self._test.append(name)

    def test_keys(self):
        """Names of the TEST keys loaded ([] on a terminal with live keys only)."""
        return sorted(self._test)

    def secret(self, name):
        """A service key from the key-loading file (never logged); KeyStoreError if absent."""
        k = self._secrets.get(name)
        if k is None:
            raise KeyStoreError("no %s key loaded: inject it with the key-loading tool" % name)
        return k

    def store_secret(self, name, key):
        """Add or replace service key `name` (16 bytes, e.g. the DDI TargetToken received at
        enrollment) in the sealed store: the store is re-sealed to a temp file and renamed over
        the old one, so a power cut leaves the old store or the new one, never half of either."""
        if len(key) != 16:
            raise KeyStoreError("key of %s is %d bytes (want 16)" % (name, len(key)))
        d = self._open_store()
        self._check(d, self.store_path)
        d.setdefault("secrets", {})[name] = {"key": bytes(key).hex().upper(),
                                             "kcv": crypto.sha256(bytes(key))[:3].hex().upper()}
        blob = self._device_key().seal(json.dumps(d).encode())
        with open(self.store_path + ".tmp", "wb") as f:
            f.write(blob)
        os.rename(self.store_path + ".tmp", self.store_path)
        self._secrets[name] = bytes(key)
        log.info("keys", "service key stored", name=name)

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
        return crypto.des_cbc_encrypt(self._dek, _ZERO8, b).hex()

    def unseal(self, hexdata):
        b = bytes.fromhex(hexdata)
        if len(b) % 8:
            raise KeyStoreError("sealed journal data does not unseal (not whole blocks)")
        out = crypto.des_cbc_decrypt(self._dek, _ZERO8, b)
        j = len(out) - 1
        while j >= 0 and out[j] == 0:
            j -= 1
        if j < 0 or out[j] != 0x80:
            raise KeyStoreError("sealed journal data does not unseal (wrong DEK?)")
        return bytes(out[:j]).decode()
