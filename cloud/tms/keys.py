"""Remote key injection, cloud side: per-terminal KEKs and working keys wrapped as TR-31 blocks.

    kek = generate_kek()                                   # AES-256, made once per terminal
    block = wrap_working_key(kek, "pin", generate_working_key("pin"), key_version=1)

The KEK (TR-31 key block protection key) is loaded into the terminal at manufacture
(``smartpos keys load-kek``); each working key then travels as an ANSI X9.143 / TR-31
key block under it: version D (AES key derivation binding) under an AES KEK, version B
(TDES key derivation binding) under a TDES KEK. Every block carries the key version the
terminal uses to refuse replays, and the check values of the key (KC) and of the KEK (KP)
so a wrong KEK is named as such (X9.143 optional blocks KC and KP). The terminal side is
``firmware/pos/tms/tr31.py`` and ``keyinject.py``; docs/key-injection.md has the picture.
"""
import json
import os
from dataclasses import dataclass

import psec
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC


class KeyInjectionError(ValueError):
    """A key cannot be wrapped as asked (slot, algorithm, length, version)."""


# slot on the terminal : (key usage, mode of use), as firmware/pos/tms/keyinject.py accepts them
SLOTS = {
    "pin": ("P0", "E"),     # PIN encryption, encrypt only: the terminal never decrypts a PIN block
    "mac": ("M3", "C"),     # ISO 9797-1 MAC algorithm 3 (ISO 8583 MAC), generate and verify
    "data": ("D0", "B"),    # symmetric data encryption
    "kek": ("K0", "B"),     # key encryption (an acquirer's TMK)
}
_KEK_LENGTHS = {"A": (16, 24, 32), "T": (16, 24)}
_KEY_LENGTHS = {"A": (16, 24, 32), "T": (16, 24)}


def kcv(key: bytes, algorithm: str) -> bytes:
    """Key check value as the terminal computes it: TDES 3 bytes of TDES(key, 0) (X9.24 legacy),
    AES 5 bytes of AES-CMAC(key, 16 zero bytes) (X9.24-1:2017)."""
    if algorithm == "T":
        return psec.des.generate_kcv(key, 3)
    c = CMAC(algorithms.AES(key))
    c.update(bytes(16))
    return c.finalize()[:5]


@dataclass(frozen=True, repr=False)
class Kek:
    """A terminal's key-encryption key: `key` never appears in repr() or logs."""
    key: bytes
    algorithm: str          # "A" AES, "T" TDES

    def kcv(self) -> str:
        return kcv(self.key, self.algorithm).hex().upper()

    def describe(self) -> str:
        return "%s-%d" % ("AES", len(self.key) * 8) if self.algorithm == "A" else \
            "TDES %d-key" % (len(self.key) // 8)

    def __repr__(self):
        return "Kek(%s, KCV %s)" % (self.describe(), self.kcv())

    def terminal_file(self) -> str:
        """The KEK file the terminal keeps (pos.store.keystore.KeyStore.KBPK_FILE)."""
        return json.dumps({"kbpk": self.key.hex().upper(), "algorithm": self.algorithm, "kcv": self.kcv()})


def kek_from_hex(text: str, algorithm: str = "A") -> Kek:
    """A KEK from its hex (spaces allowed); KeyInjectionError if not a key of `algorithm`."""
    try:
        key = bytes.fromhex("".join(text.split()))
    except ValueError:
        raise KeyInjectionError("KEK is not hexadecimal") from None
    return _kek(key, algorithm)


def _kek(key, algorithm):
    if algorithm not in _KEK_LENGTHS:
        raise KeyInjectionError("KEK algorithm %r: want A (AES) or T (TDES)" % algorithm)
    if len(key) not in _KEK_LENGTHS[algorithm]:
        raise KeyInjectionError("KEK of %d bytes is not a %s key (%s bytes)" % (
            len(key), "AES" if algorithm == "A" else "TDES", "/".join(map(str, _KEK_LENGTHS[algorithm]))))
    if algorithm == "T":
        key = psec.des.adjust_key_parity(key)
    return Kek(bytes(key), algorithm)


def generate_kek(algorithm: str = "A", length: int | None = None) -> Kek:
    """A fresh random KEK for one terminal: AES-256 by default, or 3-key TDES (algorithm "T")."""
    if length is None:
        length = 32 if algorithm == "A" else 24
    return _kek(os.urandom(length), algorithm)


def generate_working_key(slot: str, algorithm: str = "T", length: int = 16) -> bytes:
    """A fresh random working key for `slot` (TDES keys with odd parity)."""
    _slot(slot)
    if algorithm not in _KEY_LENGTHS or length not in _KEY_LENGTHS[algorithm]:
        raise KeyInjectionError("no %s working key of %d bytes" % (algorithm, length))
    key = os.urandom(length)
    return psec.des.adjust_key_parity(key) if algorithm == "T" else key


def _slot(slot):
    try:
        return SLOTS[slot]
    except KeyError:
        raise KeyInjectionError("no key slot %r (slots: %s)" % (slot, ", ".join(sorted(SLOTS)))) from None


def wrap_working_key(kek: Kek, slot: str, key: bytes, key_version: int, *, algorithm: str = "T",
                     usage: str | None = None, mode: str | None = None, exportability: str = "N") -> str:
    """The TR-31 key block carrying `key` for `slot`, under `kek`.

    `algorithm` is the working key's ("T" TDES, "A" AES); `usage` and `mode` default
    to the slot's (SLOTS); `key_version` 1-99 must rise with every new key for the slot:
    the terminal refuses a block whose version is not newer than the one it holds."""
    slot_usage, slot_mode = _slot(slot)
    if not 1 <= key_version <= 99:
        raise KeyInjectionError("key version %r: want 1-99 (the terminal refuses 00, no versioning)"
                                % (key_version,))
    if algorithm not in _KEY_LENGTHS or len(key) not in _KEY_LENGTHS[algorithm]:
        raise KeyInjectionError("a %s working key cannot be %d bytes" % (algorithm, len(key)))
    header = psec.tr31.Header(version_id="D" if kek.algorithm == "A" else "B",
                              key_usage=usage or slot_usage, algorithm=algorithm,
                              mode_of_use=mode or slot_mode, version_num="%02d" % key_version,
                              exportability=exportability)
    # X9.143 optional blocks KC, KP: "00" legacy KCV, "01" CMAC KCV
    header.blocks["KC"] = ("01" if algorithm == "A" else "00") + kcv(key, algorithm).hex().upper()
    header.blocks["KP"] = ("01" if kek.algorithm == "A" else "00") + kek.kcv()
    return psec.tr31.wrap(kek.key, header, key)
