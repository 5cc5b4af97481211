"""pos.emv.tlv and pos.emv.dol on MicroPython: structure, limits, Book 3 rules."""
import pytest

from tests.crypto.mpcrypto import call_many

FCI = bytes.fromhex("6F1A840E315041592E5359532E4444463031A5088801015F2D02656E")


def test_iterate_find_path_parse():
    it, f88, path, parsed = call_many([
        ("tlv_iter", [FCI]), ("tlv_find", [FCI, 0x88]),
        ("tlv_find_path", [FCI, [0x6F, 0xA5, 0x5F2D]]), ("tlv_parse", [FCI])])
    assert it == [[0x6F, 2, 28, True]]
    assert f88 == b"\x01"
    assert path == b"en"
    assert parsed == [[0x6F, [[0x84, b"1PAY.SYS.DDF01"], [0xA5, [[0x88, b"\x01"], [0x5F2D, b"en"]]]]]]


def test_padding_between_objects_is_skipped():
    (it,) = call_many([("tlv_iter", [bytes.fromhex("00FF8A023030FF009F3601 05")])])
    assert it == [[0x8A, 4, 6, False], [0x9F36, 11, 12, False]]


@pytest.mark.parametrize("tag,n,head", [(0x9F02, 6, "9f0206"), (0x70, 200, "7081c8"),
                                        (0x70, 300, "7082012c"), (0xBF0C, 0, "bf0c00")])
def test_encode_minimal_lengths(tag, n, head):
    (enc,) = call_many([("tlv_encode", [tag, bytes(n)])])
    assert enc.hex().startswith(head) and len(enc) == len(head) // 2 + n


@pytest.mark.parametrize("data,msg", [
    ("9F", "truncated tag at offset 0"),
    ("5A05", "length 5 runs past the end"),
    ("5A850100000001", "bad length field 0x85"),
    ("5A80", "bad length field 0x80"),
    ("9F8181818101", "tag longer than 4 bytes"),
    ("5A", "missing length"),
])
def test_malformed_tlv_rejected(data, msg):
    (r,) = call_many([("tlv_parse", [bytes.fromhex(data)])])
    assert r["err"].startswith("TLVError: ") and msg in r["err"], r


def test_nesting_depth_limited():
    deep = b"\x01"
    for _ in range(10):
        deep = bytes([0x70, len(deep)]) + deep
    (r,) = call_many([("tlv_find", [deep, 0x5A])])
    assert r["err"] == "TLVError: nesting deeper than 8"


def test_dol_build_padding_and_truncation_book3_5_4():
    dol = bytes.fromhex("9F02065A0A9F1A029F37049F0302" "5F2A01" "9F1E04")
    src = {0x9F02: bytes.fromhex("000000001000"),        # exact
           0x5A: bytes.fromhex("4761739001010119"),      # cn shorter: pad FF on the right
           0x9F1A: bytes.fromhex("000840"),              # n longer: keep the rightmost bytes
           0x9F03: bytes.fromhex("01"),                  # n shorter: pad 00 on the left
           0x5F2A: bytes.fromhex("0840"),                # n longer: rightmost
           0x9F1E: b"SN12345678"}                        # an longer: leftmost
    from host_sim import mpy
    out = mpy.run("from pos.emv.dol import dol_build\nimport binascii\n"
                  "src = {%s}\n" % ", ".join("%d: %r" % (k, v) for k, v in src.items())
                  + "print(binascii.hexlify(dol_build(%r, src)).decode())" % dol)
    assert out.strip() == ("000000001000" "4761739001010119ffff" "0840" "00000000"
                           "0001" "40" "534e3132")


def test_dol_parse_errors():
    a, b = call_many([("dol_parse", [bytes.fromhex("9F02")]), ("dol_parse", [bytes.fromhex("9F")])])
    assert a["err"] == "TLVError: DOL: tag 9F02 has no length"
    assert "truncated tag" in b["err"]


def test_collect_finds_what_tlv_find_finds():
    # a GPO answer (77) with a constructed object inside, padding, a tag given twice (the first
    # counts, depth first) and one asked for that is absent; then a truncated object at the end
    from host_sim import mpy
    inner = "9F3602" "0042" "5F3401" "01"
    body = ("9F2701" "80" "00FF" "A5%02X" % (len(inner) // 2) + inner + "9F3602" "0099"
            "9F2608" "0102030405060708" "5F3401" "02" "9F1007" "06010A03A00000" "8202" "2000" "9F3602" "0077")
    buf = "77%02X" % (len(body) // 2) + body
    tags = (0x9F27, 0x9F36, 0x5F34, 0x9F26, 0x9F10, 0x82, 0xA5, 0x57)
    out = mpy.run("""
from pos.emv import tlv
B = bytes.fromhex(%r)
T = %r
got = tlv.tlv_collect(B, T, {})
one = {}
for t in T:
    v = tlv.tlv_find(B, t)
    if v is not None:
        one[t] = v
print(sorted(got) == sorted(one) and all(got[t] == one[t] for t in one), sorted(got), got[0x9F36].hex())
for bad in (B + bytes.fromhex("9F3705"), bytes.fromhex("77039F3702")):
    try:
        tlv.tlv_collect(bad, T, {})
        print("no error")
    except tlv.TLVError:
        print("TLVError")
""" % (buf, tags), heap="192K", timeout=120).split("\n")
    assert out[0] == "True %s 0042" % sorted(t for t in tags if t != 0x57)
    assert out[1:3] == ["TLVError", "TLVError"]
