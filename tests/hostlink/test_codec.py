"""ISO 8583 codec on MicroPython against pyiso8583 (an independent codec), both ways."""
import json

import iso8583
import pytest

from host_sim.hosts.acquirer import spec as hspec
from hostlink import mp
from hostlink.messages import SAMPLES


def _jsonable(fields):
    return {str(k): ({"hex": v.hex()} if isinstance(v, bytes) else v) for k, v in fields.items()}


def _from_json(d):
    return {int(k): (bytes.fromhex(v["hex"]) if isinstance(v, dict) else v) for k, v in d.items()}


MP_ENCODE = """
import json, binascii
from pos.iso8583 import codec, spec
S = spec.get(%r)
out = []
for mti, f in json.loads(%r):
    d = {}
    for k in f:
        v = f[k]
        d[int(k)] = binascii.unhexlify(v["hex"]) if isinstance(v, dict) else v
    out.append(binascii.hexlify(codec.encode(S, mti, d)).decode())
print("@@" + json.dumps(out))
"""

MP_DECODE = """
import json, binascii
from pos.iso8583 import codec, spec
S = spec.get(%r)
out = []
for h in json.loads(%r):
    mti, f = codec.decode(S, binascii.unhexlify(h))
    d = {}
    for k in f:
        v = f[k]
        d[str(k)] = {"hex": binascii.hexlify(v).decode()} if isinstance(v, bytes) else v
    out.append([mti, d])
print("@@" + json.dumps(out))
"""


@pytest.mark.parametrize("name", ["iso87", "iso87bcd"])
def test_round_trip_every_message_type_against_pyiso8583(name):
    hs = hspec.get(name)
    payload = json.dumps([[m, _jsonable(f)] for m, f in SAMPLES])
    encoded = mp.run_json(MP_ENCODE % (name, payload))
    assert len(encoded) == len(SAMPLES)
    ours = []
    for (mti, fields), h in zip(SAMPLES, encoded):
        raw = bytes.fromhex(h)
        doc, _ = iso8583.decode(raw, hs)           # the independent codec reads ours
        want_mti = mti
        assert doc["t"] == want_mti, mti
        assert hspec.from_host(name, doc) == fields, mti
        theirs, _ = iso8583.encode(hspec.to_host(name, fields) | {"t": mti}, hs)
        assert bytes(theirs) == raw, "%s: our bytes differ from pyiso8583's" % mti
        ours.append(bytes(theirs).hex())
    decoded = mp.run_json(MP_DECODE % (name, json.dumps(ours)))
    for (mti, fields), (dm, df) in zip(SAMPLES, decoded):
        assert dm == mti
        assert _from_json(df) == fields, mti


def test_secondary_bitmap_and_fixed_padding():
    out = mp.run_json("""
import json, binascii
from pos.iso8583 import codec, spec
S = spec.get("iso87")
raw = codec.encode(S, "0400", {4: 1234, 41: "T1", 90: "0200000017112211301500000000000000000000" + "00"})
mti, f = codec.decode(S, raw)
print("@@" + json.dumps([binascii.hexlify(raw[:20]).decode(), f[4], f[41]]))
""")
    head, amount, tid = out
    assert head[:8] == b"0400".hex()
    assert head[8:10] == "90"   # bit 1 (secondary bitmap follows) and bit 4 (amount)
    assert amount == "000000001234"
    assert tid == "T1      "


BAD = [
    ("short MTI", "303230", "MTI"),
    ("non-digit MTI", "30323A30" + "00" * 8, "MTI"),
    ("bitmap names undefined field", "30323030" + "0001000000000000", "field 16 present"),
    ("truncated field", "30323030" + "4000000000000000" + "3136343736", "bytes needed"),
    ("extra bytes", "30323030" + "0000000000000000" + "41", "left after the last field"),
    ("bad length prefix", "30323030" + "4000000000000000" + "3A41", "length prefix"),
    ("too long LLVAR", "30323030" + "4000000000000000" + "3235" + "31" * 25, "longer than maximum"),
    ("non-digit numeric", "30323030" + "2000000000000000" + "313233413536", "characters outside"),
    ("bad TLV in 55", "30323030" + "0000000000000200" + "303038" + "9F2608AABB00BB00", "malformed BER-TLV"),
]


def test_malformed_messages_raise_iso8583_error_naming_the_problem():
    got = mp.run_json("""
import json, binascii
from pos.iso8583 import codec, spec
from pos.iso8583.errors import Iso8583Error
S = spec.get("iso87")
out = []
for h in json.loads(%r):
    try:
        codec.decode(S, binascii.unhexlify(h))
        out.append("decoded")
    except Iso8583Error as e:
        out.append(str(e))
print("@@" + json.dumps(out))
""" % json.dumps([b for _, b, _ in BAD]))
    for (what, _, want), msg in zip(BAD, got):
        assert want in msg, "%s: %s" % (what, msg)
        assert "4761" not in msg


def test_encode_rejects_bad_values():
    got = mp.run_json("""
import json
from pos.iso8583 import codec, spec
from pos.iso8583.errors import Iso8583Error
S = spec.get("iso87")
out = []
for mti, f in [("0200", {2: "47617390010101191234"}), ("0200", {3: "1234567"}), ("0200", {52: "x"}),
               ("02A0", {}), ("0200", {66: "1"}), ("0200", {39: "0!"})]:
    try:
        codec.encode(S, mti, f)
        out.append("encoded")
    except Iso8583Error as e:
        out.append(str(e))
print("@@" + json.dumps(out))
""")
    assert "field 2" in got[0] and "longer than maximum 19" in got[0]
    assert "fixed length is 6" in got[1]
    assert "binary field needs bytes" in got[2]
    assert "MTI" in got[3]
    assert "not defined" in got[4]
    assert "characters outside" in got[5]


def test_each_spec_plan_matches_the_spec_it_was_built_from():
    """The codec's per-spec plan (which data elements are fixed-length ASCII n or ans, and their
    lengths) says of every number 0..128 what the spec's own fields say: both profiles and one
    made in the test."""
    got = mp.run_json("""
import json
from pos.iso8583 import codec, spec, spec_iso87
from pos.iso8583.spec import Spec
out = []
for s in (spec.get("iso87"), spec.get("iso87bcd"), Spec("iso87hex", spec_iso87.fields("ascii"), bitmap="hex")):
    p = codec.plan(s)
    out.append([s.name, list(p.forms), list(p.widths), p is codec.plan(s),
                {str(n): list(s.fields[n][:4]) for n in s.fields}])
print("@@" + json.dumps([out, codec.FIXED_N, codec.FIXED_ANS]))
""")
    plans, fixed_n, fixed_ans = got
    for name, forms, widths, same, fields in plans:
        assert same, name                                   # made once per spec
        assert len(forms) == len(widths) == 129
        for n in range(129):
            f = fields.get(str(n))
            want = 0
            if f and f[1] == 0 and f[3] == "ascii" and 1 <= f[2] <= 255:
                want = {"n": fixed_n, "ans": fixed_ans, "track": fixed_ans}.get(f[0], 0)
            assert forms[n] == want, (name, n)
            assert widths[n] == (f[2] if want else 0), (name, n)
    by_name = {p[0]: p for p in plans}
    assert by_name["iso87"][1][4] == fixed_n and by_name["iso87"][2][4] == 12
    assert by_name["iso87"][1][42] == fixed_ans and by_name["iso87"][2][42] == 15
    assert by_name["iso87"][1][2] == by_name["iso87"][1][37] == by_name["iso87"][1][52] == 0
    assert by_name["iso87bcd"][1][4] == 0 and by_name["iso87bcd"][1][42] == fixed_ans


def test_fixed_length_values_the_quick_path_cannot_take_get_every_general_check():
    """A fixed-length n or ans value that is short, not a str, too long, or has a character
    outside its type leaves the quick path for the general one: padded, taken, or refused naming
    the field, as before; decoding such bytes raises Iso8583Error and nothing else."""
    got = mp.run_json("""
import json, binascii
from pos.iso8583 import codec, spec
from pos.iso8583.errors import Iso8583Error
S = spec.get("iso87")
out = []
for f in [{3: b"000000"}, {41: b"TERM0001"}, {41: "TERM"}, {4: 12}, {42: "MERCHANT00000012"},
          {41: "TERM000\x7f"}, {41: "TERM000\x01"}, {41: "TERM\u00e901"}, {3: "00000A"},
          {41: ""}, {3: ""}, {41: 12345678}]:
    try:
        out.append(binascii.hexlify(codec.encode(S, "0200", f)).decode())
    except Iso8583Error as e:
        out.append("E " + str(e))
head = b"0200" + binascii.unhexlify("0000000000800000")   # field 41 only
for v in [b"TERM0001", b"TERM000\x7f", b"TERM000\x01", b"TERM\xc3\xa901", b"TERM\xff001", b"TERM001"]:
    try:
        m, f = codec.decode(S, head + v)
        out.append(f[41])
    except Iso8583Error as e:
        out.append("E " + str(e))
print("@@" + json.dumps(out))
""")
    enc, dec = got[:12], got[12:]
    assert bytes.fromhex(enc[0]).endswith(b"000000") and bytes.fromhex(enc[1]).endswith(b"TERM0001")
    assert bytes.fromhex(enc[2]).endswith(b"TERM    ")               # ans: left-justified
    assert bytes.fromhex(enc[3]).endswith(b"000000000012")           # n: right-justified
    assert "field 42" in enc[4] and "fixed length is 15" in enc[4]
    for i in (5, 6, 7):
        assert "field 41" in enc[i] and "characters outside type ans" in enc[i], enc[i]
    assert "field 3" in enc[8] and "characters outside type n" in enc[8]
    assert bytes.fromhex(enc[9]).endswith(b" " * 8)
    assert bytes.fromhex(enc[10]).endswith(b"0" * 6)
    assert "field 41" in enc[11] and "needs str" in enc[11]
    assert dec[0] == "TERM0001"
    for i in (1, 2, 3, 4):
        assert dec[i].startswith("E field 41") and "characters outside type ans" in dec[i], dec[i]
    assert dec[5].startswith("E field 41") and "bytes needed" in dec[5]


TEST_TAK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")    # TEST key


def test_mac_field_64_and_128_match_x919_computed_independently():
    from pyemv import mac as pmac
    got = mp.run_json("""
import json, binascii
from pos.iso8583 import spec, mac, codec, framing
from pos.iso8583.errors import MacError
S = spec.get("iso87")
K = binascii.unhexlify(%r)
a = mac.encode(S, "0200", {3: "000000", 4: "100", 11: "000001"}, K)
b = mac.encode(S, "0400", {3: "000000", 11: "000002", 90: "0" * 42}, K)
res = []
for body in (a, b):
    m, f = codec.decode(S, body)
    mac.verify(S, body, f, K)
    bad = bytearray(body); bad[-9] ^= 1
    try:
        m2, f2 = codec.decode(S, bad)
        mac.verify(S, bad, f2, K)
        res.append("accepted")
    except MacError as e:
        res.append(str(e))
fr = framing.frame(S, a)
print("@@" + json.dumps([binascii.hexlify(a).decode(), binascii.hexlify(b).decode(), res,
                         binascii.hexlify(fr[:2]).decode()]))
""" % TEST_TAK.hex())
    a, b, res, hdr = bytes.fromhex(got[0]), bytes.fromhex(got[1]), got[2], got[3]
    for body, field in ((a, "64"), (b, "128")):
        doc, _ = iso8583.decode(body, hspec.get("iso87"))
        assert field in doc
        assert body[-8:] == pmac.mac_iso9797_3(TEST_TAK[:8], TEST_TAK[8:], body[:-8], 1)
    assert all("does not match" in r for r in res), res
    assert int(hdr, 16) == len(a)


def test_hex_bitmap_profile_against_pyiso8583_default_ascii():
    """A profile with ASCII-hex bitmaps (spec data only) matches pyiso8583's default_ascii."""
    import iso8583.specs
    msgs = [(m, {k: v for k, v in f.items() if not isinstance(v, bytes)}) for m, f in SAMPLES]
    got = mp.run_json("""
import json
from pos.iso8583 import codec, spec, spec_iso87
from pos.iso8583.spec import Spec
S = Spec("iso87hex", spec_iso87.fields("ascii"), bitmap="hex")
out = []
for mti, f in json.loads(%r):
    d = {int(k): f[k] for k in f}
    raw = codec.encode(S, mti, d)
    m2, f2 = codec.decode(S, raw)
    out.append([raw.decode(), m2 == mti and f2 == d])
print("@@" + json.dumps(out))
""" % json.dumps([[m, {str(k): v for k, v in f.items()}] for m, f in msgs]))
    for (mti, fields), (raw, same) in zip(msgs, got):
        assert same, mti
        doc, _ = iso8583.decode(raw.encode(), iso8583.specs.default_ascii)
        assert doc["t"] == mti and {int(k): v for k, v in doc.items() if k.isdigit() and k != "1"} == fields


FRAGMENTED = """
import gc, json, binascii
from pos.iso8583 import codec, spec
%s
S = spec.get("iso87")
held, blocks = [], []
gc.collect()
try:
    while True:                     # the heap in blocks of 600 bytes, then every second one freed:
        blocks.append(bytearray(600))   # no hole of 1 KB anywhere
except MemoryError:
    blocks.pop()                    # room for what follows (600 bytes: no 1 KB hole)
gc.collect()
for i in range(0, len(blocks), 2):
    blocks[i] = None
gc.collect()
try:
    while True:                     # a hole of 1 KB the layout still has (two freed blocks side
        held.append(bytearray(1024))    # by side, the list's old storage): filled
except MemoryError:
    pass
out = []
try:
    out.append(binascii.hexlify(codec.encode(S, "0200", {3: "000000", 4: 1250, 11: 17, 41: "T1"})).decode())
except MemoryError as e:
    out.append("MemoryError")
out.append(codec._encoders["iso87"].buf is codec._buf if "iso87" in codec._encoders else None)
blocks = None
gc.collect()
print("@@" + json.dumps(out))
"""


def test_the_message_buffer_made_at_boot_encodes_on_a_fragmented_heap():
    """The encoder's 1 KB buffer is made at boot (codec.reserve() in main.py): a heap with no
    hole of 1 KB left (a day of baskets) still encodes the request; without the reservation the
    same heap cannot (the card sale was declined on the host path)."""
    raw, shared = mp.run_json(FRAGMENTED % "codec.reserve()", heap="128K")
    assert shared is True
    assert bytes.fromhex(raw)[:4] == b"0200"
    assert bytes.fromhex(raw)[-8:] == b"T1      "
    without, _ = mp.run_json(FRAGMENTED % "", heap="128K")
    assert without == "MemoryError"           # the premise: no 1 KB block on that heap
