"""TR-31 key blocks on the terminal (pos.tms.tr31) on real MicroPython, against blocks psec makes.

Differential: every key usage the terminal knows, with its modes of use, versions B and D,
every KBPK length, TDES and AES keys, optional blocks: the firmware opens each block to the
key psec wrapped. Then every bad input: each character of a block changed, truncations,
extensions, header faults, a wrong KBPK, check values that differ, deprecated versions.
"""
import os
import random

import psec
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from tests.tms import tr31_mp
from tests.tms.tr31_mp import unwrap_many

# firmware/pos/tms/tr31.py MODES_FOR_USAGE (X9.143 key usage and mode of use), written out again from the standard
MODES = {"B0": "X", "B1": "X", "B2": "X", "C0": "CGV", "D0": "BDE", "D2": "BDE",
         "E0": "X", "E1": "X", "E2": "X", "E3": "X", "E4": "X", "E5": "X", "E6": "X",
         "I0": "N", "K0": "BDE", "K1": "BDE",
         "M0": "CGV", "M1": "CGV", "M2": "CGV", "M3": "CGV", "M4": "CGV", "M5": "CGV", "M6": "CGV",
         "M7": "CGV", "M8": "CGV", "P0": "BDE", "V0": "CGV", "V1": "CGV", "V2": "CGV", "V3": "CGV", "V4": "CGV"}

# (version, KBPK length, KBPK algorithm); AES-192 needs _posnative (cryptolib has 128/256)
KBPKS = [("B", 16, "T"), ("B", 24, "T"), ("D", 16, "A"), ("D", 32, "A")]
KEYS = [("T", 16), ("T", 24), ("A", 16), ("A", 24), ("A", 32)]


def psec_wrap(kbpk, header, key, **kw):
    return psec.tr31.wrap(kbpk, header, key, **kw)


def test_every_usage_mode_version_and_key_length_opens_to_psecs_key(tmp_path):
    rnd = random.Random(1431)
    cases, want = [], []
    for version, n, alg in KBPKS:
        kbpk = rnd.randbytes(n)
        for usage, modes_ in sorted(MODES.items()):
            for mode in modes_:
                kalg, klen = KEYS[rnd.randrange(len(KEYS))]
                key = rnd.randbytes(klen)
                kv = "%02d" % rnd.randrange(100)
                exp = "ENS"[rnd.randrange(3)]
                block = psec_wrap(kbpk, "%s0000%s%s%s%s%s0000" % (version, usage, kalg, mode, kv, exp), key)
                cases.append((kbpk, block, alg))
                want.append(dict(key=key.hex(), usage=usage, alg=kalg, mode=mode, kv=kv, exp=exp, opt={}))
        # every key length under this KBPK, with and without masking of the key length
        for kalg, klen in KEYS:
            key = rnd.randbytes(klen)
            for masked in (None, klen):
                block = psec_wrap(kbpk, version + "0000D0%sB01E0000" % kalg, key, masked_key_len=masked)
                cases.append((kbpk, block, alg))
                want.append(dict(key=key.hex(), usage="D0", alg=kalg, mode="B", kv="01", exp="E", opt={}))
    answers, kept = unwrap_many(tmp_path, cases)
    aes192 = 0
    for i, (a, w) in enumerate(zip(answers, want)):
        if w["alg"] == "A" and len(w["key"]) == 48 and tr31_mp.AES_BACKEND == "pure":
            # cryptolib has no AES-192: the pure firmware refuses the key by name, never half-opens it
            assert a["err"] == "KeyBlockAlgorithmError" and "_posnative" in a["msg"], a
            aes192 += 1
            continue
        assert "err" not in a, (cases[i][1], a)
        assert {k: a[k] for k in w} == w, cases[i][1]
        assert w["key"].upper() not in a["repr"].upper()          # the key never in repr()
    assert len(cases) == 4 * (sum(len(m) for m in MODES.values()) + 10)
    assert aes192 >= 8 or tr31_mp.AES_BACKEND == "native"
    # source modules compiled on the unix port; frozen into ROM the bytecode leaves the heap.
    # 70.7 KB on 2026-11-29: the E-form DES's round code (compiled here), its tables and the
    # schedules of the four keys it keeps per direction (about 600 B each on this port)
    assert kept < 74_000, "pos.tms.tr31 keeps %d bytes of the board's 192 KB heap" % kept


def test_optional_blocks_parsed_pad_block_dropped_extended_length(tmp_path):
    kbpk = os.urandom(32)
    key = os.urandom(16)
    blocks = [
        "D0000P0AE01N0100KS1800604B120F9292800000",            # one block, PB added by psec
        "D0000P0AE01N0200KS1800604B120F9292800000TS1320231231235959Z",
        "D0000P0AE01N0100HM0600" + "",                         # an empty-ish one: HM with 2 chars
    ]
    h = psec.tr31.Header("D", "P0", "A", "E", "01", "N")
    h.blocks["DA"] = "A" * 300                                  # > 255: extended length 0002 + 4 hex
    h.blocks["KS"] = "00604B120F9292800000"
    cases = [(kbpk, psec_wrap(kbpk, b.replace("HM0600", "HM0621"), key), "A") for b in blocks] + \
            [(kbpk, psec_wrap(kbpk, h, key), "A")]
    answers, _ = unwrap_many(tmp_path, cases)
    assert answers[0]["opt"] == {"KS": "00604B120F9292800000"} and answers[0]["key"] == key.hex()
    assert answers[1]["opt"] == {"KS": "00604B120F9292800000", "TS": "20231231235959Z"}
    assert answers[2]["opt"] == {"HM": "21"}
    assert answers[3]["opt"] == {"DA": "A" * 300, "KS": "00604B120F9292800000"}
    assert "DA0002" in cases[3][1]                               # really the extended form


# -------------------------------------------------------------------- bad input
def _other(c, rnd):
    pool = "0123456789ABCDEF" if c in "0123456789ABCDEF" else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return rnd.choice([x for x in pool if x != c])


@pytest.mark.parametrize("version,n,alg", [("B", 16, "T"), ("D", 32, "A")])
def test_each_character_changed_is_refused_and_past_the_header_it_is_the_mac(tmp_path, version, n, alg):
    rnd = random.Random(n)
    kbpk = os.urandom(n)
    block = psec_wrap(kbpk, version + "0000P0TE07N0100KS1800604B120F9292800000", os.urandom(16))
    hlen = 16 + 20 + (4 + 4 if version == "B" else 4 + 12)       # KS block + PB
    assert block[hlen - 4:hlen - 2] != "KS"
    cases = []
    for i, c in enumerate(block):
        cases.append((kbpk, block[:i] + _other(c, rnd) + block[i + 1:], alg))
    # header fields swapped for other valid values: only the MAC can tell
    swaps = {5: "D", 7: "A", 8: "B", 9: "1", 10: "9", 11: "E", 14: "1"}
    digit = str((int(block[4]) + 1) % 10)      # the length field, still digits: a length mismatch
    for i, c in swaps.items():
        cases.append((kbpk, block[:i] + c + block[i + 1:], alg))
    cases.append((kbpk, block[:4] + digit + block[5:], alg))
    answers, _ = unwrap_many(tmp_path, cases)
    for i, a in enumerate(answers):
        assert "err" in a, "changed block %r opened" % cases[i][1]
        if i < len(block) and i >= 16:
            # optional block data and everything after: only the MAC (or the KS/PB syntax) can tell
            if i >= hlen:
                assert a["err"] == "KeyBlockMacError", (i, a)
    for a in answers[len(block):-1]:
        assert a["err"] == "KeyBlockMacError", a
    assert answers[-1]["err"] == "KeyBlockLengthError"
    assert answers[0]["err"] == "KeyBlockVersionError"
    assert {answers[i]["err"] for i in range(1, 5)} <= {"KeyBlockLengthError", "KeyBlockHeaderError"}


def test_every_truncation_and_extension_is_a_length_mismatch(tmp_path):
    kbpk = os.urandom(16)
    block = psec_wrap(kbpk, "B0000M3TC02N0000", os.urandom(16))
    cases = [(kbpk, block[:k], "T") for k in range(len(block))]
    cases += [(kbpk, block + tail, "T") for tail in ("0", "00000000", "0" * 16)]
    answers, _ = unwrap_many(tmp_path, cases)
    for c, a in zip(cases, answers):
        assert a["err"] == "KeyBlockLengthError", (len(c[1]), a)
        assert a["reason"] == "length mismatch"
    assert "received" in answers[40]["msg"] and "truncated" in answers[40]["msg"]


def test_length_field_fixed_after_cutting_whole_blocks_still_refused(tmp_path):
    kbpk = os.urandom(16)
    block = psec_wrap(kbpk, "B0000P0TE01N0000", os.urandom(16))
    cases = []
    for cut in (16, 32):
        short = block[:len(block) - cut]
        cases.append((kbpk, short[0] + "%04d" % len(short) + short[5:], "T"))
    longer = block[:-16] + "0" * 16 + block[-16:]
    cases.append((kbpk, longer[0] + "%04d" % len(longer) + longer[5:], "T"))
    answers, _ = unwrap_many(tmp_path, cases)
    assert [a["err"] for a in answers] == ["KeyBlockMacError"] * 3


def test_header_faults_refused_with_reasons(tmp_path):
    kbpk = os.urandom(16)
    key = os.urandom(16)
    good = psec_wrap(kbpk, "B0000P0TE01N0000", key)

    def fix_len(b):
        return b[0] + "%04d" % len(b) + b[5:]

    def at(i, s):
        return good[:i] + s + good[i + len(s):]

    cases = {
        "lowercase-hex-ok": (good[:16] + good[16:].lower(), None),
        "non-ascii": (good[:20] + "\u00e9" + good[21:], "KeyBlockHeaderError"),
        "space in header": (at(9, " 1"), "KeyBlockHeaderError"),
        "length not digits": (at(1, "00X6"), "KeyBlockHeaderError"),
        "unknown usage": (psec_wrap(kbpk, "B0000ZZTE01N0000", key), "KeyBlockHeaderError"),
        "proprietary usage": (psec_wrap(kbpk, "B000042TE01N0000", key), "KeyBlockHeaderError"),
        "mode not for usage": (psec_wrap(kbpk, "B0000P0TC01N0000", key), "KeyBlockHeaderError"),
        "X mode on PIN key": (psec_wrap(kbpk, "B0000P0TX01N0000", key), "KeyBlockHeaderError"),
        "RSA algorithm": (psec_wrap(kbpk, "B0000P0RE01N0000", key), "KeyBlockHeaderError"),
        "single DES algorithm": (psec_wrap(kbpk, "B0000P0DE01N0000", key[:8]), "KeyBlockHeaderError"),
        "exportability X": (psec_wrap(kbpk, "B0000P0TE01X0000", key), "KeyBlockHeaderError"),
        "blocks count not digits": (at(12, "A1"), "KeyBlockHeaderError"),
        "reserved 05": (psec_wrap(kbpk, "B0000P0TE01N0005", key), "KeyBlockHeaderError"),
        "says 1 optional block, has none": ("B0016P0TE01N0100", "KeyBlockLengthError"),
        "version A": (psec_wrap(kbpk, "A0000P0TE01N0000", key), "KeyBlockVersionError"),
        "version C": (psec_wrap(kbpk, "C0000P0TE01N0000", key), "KeyBlockVersionError"),
        "version 1 (proprietary)": (at(0, "1"), "KeyBlockVersionError"),
        "version D under TDES KBPK": (psec_wrap(kbpk, "D0000P0TE01N0000", key), "KeyBlockKbpkError"),
        "empty": ("", "KeyBlockLengthError"),
    }
    # optional block faults (the MAC is fine: psec wrapped exactly these headers)
    ob = "B0000P0TE01N0200"
    cases["optional block runs past the end"] = (fix_len(ob + "KSFF"), "KeyBlockLengthError")
    cases["optional block length shorter than its id"] = (fix_len(ob + "KS02ABCD" + good[16:]), "KeyBlockHeaderError")
    cases["optional length not hex"] = (fix_len(ob + "KSZZ" + good[16:]), "KeyBlockHeaderError")
    cases["extended length of length 00"] = (fix_len(ob + "KS0000" + good[16:]), "KeyBlockHeaderError")
    cases["optional block repeated"] = (fix_len(ob + "KS08ABCDKS08ABCD" + good[16:]), "KeyBlockHeaderError")
    cases["pad block not last"] = (fix_len(ob + "PB0800000000KS08ABCD" + good[16:]), "KeyBlockHeaderError")
    cases["header not a multiple of 8"] = (fix_len("B0000P0TE01N0100KS06AB" + good[16:]), "KeyBlockHeaderError")
    cases["optional data not printable"] = (fix_len("B0000P0TE01N0100KS08AB\x01D" + good[16:]), "KeyBlockHeaderError")
    cases["payload not hex"] = (at(20, "G"), "KeyBlockHeaderError")
    answers, _ = unwrap_many(tmp_path, [(kbpk, b, "T") for b, _ in cases.values()])
    for (name, (block, want)), a in zip(cases.items(), answers):
        if want is None:
            assert a.get("key") == key.hex(), (name, a)
        else:
            assert a.get("err") == want, (name, a)
            assert a["msg"], name


def _kcv_aes(key):
    c = CMAC(algorithms.AES(key))
    c.update(bytes(16))
    return c.finalize()[:5].hex().upper()


def test_wrong_kbpk_named_by_kp_and_otherwise_a_bad_mac_and_kc_checked(tmp_path):
    kbpk, other = os.urandom(32), os.urandom(32)
    key = os.urandom(16)
    h = psec.tr31.Header("D", "P0", "A", "E", "03", "N")
    h.blocks["KC"] = "01" + _kcv_aes(key)
    h.blocks["KP"] = "01" + _kcv_aes(kbpk)
    with_kp = psec_wrap(kbpk, h, key)
    plain = psec_wrap(kbpk, "D0000P0AE03N0000", key)
    h2 = psec.tr31.Header("D", "P0", "A", "E", "03", "N")
    h2.blocks["KC"] = "01" + _kcv_aes(os.urandom(16))        # a check value of another key
    wrong_kc = psec_wrap(kbpk, h2, key)
    tdes = os.urandom(16)
    b_block = psec_wrap(tdes, "B0000P0TE01N0000", key)
    cases = [(kbpk, with_kp, "A"), (other, with_kp, "A"), (other, plain, "A"), (kbpk, wrong_kc, "A"),
             (kbpk, b_block, "A"), (tdes, b_block, "T"), (tdes[:8], b_block, "T"), (os.urandom(24), plain, "A")]
    answers, _ = unwrap_many(tmp_path, cases)
    assert answers[0]["key"] == key.hex() and answers[0]["kcv"].upper() == _kcv_aes(key)
    assert answers[1]["err"] == "KeyBlockKbpkError" and "KP" in answers[1]["msg"]
    assert answers[2]["err"] == "KeyBlockMacError"
    assert answers[3]["err"] == "KeyBlockMacError" and "KC" in answers[3]["msg"]
    assert answers[4]["err"] == "KeyBlockKbpkError" and "needs a TDES KBPK" in answers[4]["msg"]
    assert answers[5]["key"] == key.hex()
    assert answers[6]["err"] == "KeyBlockKbpkError"
    # AES-192 KBPK: the pure firmware says it needs _posnative; with it, the MAC decides
    assert answers[7]["err"] in ("KeyBlockKbpkError", "KeyBlockMacError")


def _d_block(kbpk, header, payload):
    """A version D block from raw payload, written from X9.143 (key derivation binding, version D) with `cryptography` (not psec):
    lets a test put what it likes in the key length field while the MAC stays right."""
    n = len(kbpk)
    alg_id, parts = {16: (2, 1), 32: (4, 2)}[n]

    def cmac(k, data):
        c = CMAC(algorithms.AES(k))
        c.update(data)
        return c.finalize()

    dd = lambda ctr, use: bytes([ctr, 0, use, 0, 0, alg_id, (n * 8) >> 8, (n * 8) & 0xFF])  # noqa: E731
    kbek = b"".join(cmac(kbpk, dd(i, 0)) for i in range(1, parts + 1))[:n]
    kbak = b"".join(cmac(kbpk, dd(i, 1)) for i in range(1, parts + 1))[:n]
    length = len(header) + len(payload) * 2 + 32
    header = header[0] + "%04d" % length + header[5:]
    mac = cmac(kbak, header.encode() + payload)
    enc = Cipher(algorithms.AES(kbek), modes.CBC(mac)).encryptor()
    return header + (enc.update(payload) + enc.finalize()).hex().upper() + mac.hex().upper()


def test_key_length_field_checked_after_the_mac(tmp_path):
    kbpk = os.urandom(16)
    key = os.urandom(16)
    pad = os.urandom(14)
    good = _d_block(kbpk, "D0000P0AE01N0000", (128).to_bytes(2, "big") + key + pad)
    assert psec.tr31.unwrap(kbpk, good)[1] == key                 # the independent writer agrees with psec
    cases = [(kbpk, good, "A")]
    for bits in (0, 127, 64, 8 * 30, 0xFFFF, 8 * 20):
        cases.append((kbpk, _d_block(kbpk, "D0000P0AE01N0000", bits.to_bytes(2, "big") + key + pad), "A"))
    cases.append((kbpk, _d_block(kbpk, "D0000P0TE01N0000", (8 * 8).to_bytes(2, "big") + key + pad), "A"))
    answers, _ = unwrap_many(tmp_path, cases)
    assert answers[0]["key"] == key.hex()
    for a in answers[1:]:
        assert a["err"] == "KeyBlockLengthError", a
