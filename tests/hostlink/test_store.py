"""Journal, config loader and key store on MicroPython (flash dir = cwd)."""
import json
import os

from hostlink import mp
from hostlink.keys import write_kld, TEST_TMK, TEST_DEK
from host_sim.hosts.acquirer.terminal import device_key_code

DEV = device_key_code()


def _records(path):
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos < len(data):
        ln = int.from_bytes(data[pos + 1:pos + 3], "big")
        out.append((pos, pos + 3 + ln + 4))
        pos += 3 + ln + 4
    return data, out


def test_journal_discards_a_torn_last_record_at_every_byte_and_keeps_earlier_ones(tmp_path):
    mp.run("""
from pos.store.journal import Journal
j = Journal("journal.bin")
for i in range(3):
    j.append({"t": "req", "stan": i + 1, "amount": 100 * (i + 1)})
""", cwd=str(tmp_path))
    data, recs = _records(tmp_path / "journal.bin")
    assert len(recs) == 3 and data[0] == 0xA5
    last_start, last_end = recs[-1]
    # every possible torn state of the last record, and a flipped byte in it
    cases = [data[:cut] for cut in range(last_start, last_end)]
    flipped = bytearray(data)
    flipped[last_end - 6] ^= 0x40
    cases.append(bytes(flipped))
    for i, blob in enumerate(cases):
        d = tmp_path / ("c%d" % i)
        d.mkdir()
        (d / "journal.bin").write_bytes(blob)
    got = mp.run_json("""
import json, os
from pos.store.journal import Journal
res = []
for i in range(%d):
    j = Journal("c%%d/journal.bin" %% i)
    n = len(j.records)
    j.append({"t": "boot"})
    j.close()
    j2 = Journal("c%%d/journal.bin" %% i)
    res.append([n, [r.get("stan") for r in j2.records], j.discarded > 0 or i == 0])
print("@@" + json.dumps(res))
""" % len(cases), cwd=str(tmp_path))
    for n, stans, discarded in got:
        assert n == 2
        assert stans == [1, 2, None]        # earlier records intact, new record appended cleanly
        assert discarded


def test_journal_on_write_hook_counts_writes(tmp_path):
    out = mp.run("""
from pos.store.journal import Journal
seen = []
j = Journal("journal.bin", on_write=lambda n, r: seen.append((n, r["t"])))
j.append({"t": "a"}); j.append({"t": "b"})
print(seen)
""", cwd=str(tmp_path))
    assert "[(1, 'a'), (2, 'b')]" in out


def test_config_errors_name_the_key(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"acquirers": {"alpha": {"host": "h", "port": "80"}}}))
    (tmp_path / "broken.json").write_text("{nope")
    out = mp.run("""
from pos.store.config import load, ConfigError, Opt, Each
S = {"acquirers": Each({"host": str, "port": int, "tls": Opt(bool, False)})}
for p in ("bad.json", "broken.json", "absent.json"):
    try:
        load(p, S)
    except ConfigError as e:
        print("ERR", e)
""", cwd=str(tmp_path))
    lines = out.strip().splitlines()
    assert lines[0] == "ERR bad.json: acquirers.alpha.port: want int"
    assert lines[1].startswith("ERR broken.json: not valid JSON")
    assert lines[2].startswith("ERR absent.json: cannot be read")


def test_keystore_unwraps_working_keys_under_tmk_and_never_prints_keys(tmp_path):
    from hostlink.keys import wrap
    write_kld(tmp_path / "keys.kld")
    tak = bytes.fromhex("89ABCDEF01234567FEDCBA9876543210")      # TEST
    cg, cv = wrap(TEST_TMK["alpha"], tak)
    out = mp.run("""
import binascii
from pos.store.keystore import KeyStore, KeyStoreError
ks = KeyStore("keys.kld", ".", %s)
try:
    ks.working_key("alpha", "tak")
except KeyStoreError as e:
    print("E1", e)
ks.store_working_keys("alpha", {"tak": (binascii.unhexlify(%r), binascii.unhexlify(%r))})
try:
    ks.store_working_keys("alpha", {"tpk": (binascii.unhexlify(%r), b"\\x00\\x00\\x00")})
except KeyStoreError as e:
    print("E2", e)
ks2 = KeyStore("keys.kld", ".", %s)
print("TAK", binascii.hexlify(ks2.working_key("alpha", "tak")).decode() == %r)
s = ks2.seal("4761739001010119")
print("SEALED", "4761739001010119" not in s and "19" * 0 == "", ks2.unseal(s) == "4761739001010119")
""" % (DEV, cg.hex(), cv.hex(), cg.hex(), DEV, tak.hex()), cwd=str(tmp_path))
    assert "E1 no working keys for alpha (sign-on needed)" in out
    assert "E2 TPK for alpha: check value does not match" in out
    assert "TAK True" in out
    assert "SEALED True True" in out
    stored = (tmp_path / "wk_alpha.json").read_text()
    assert tak.hex() not in stored.lower() and cg.hex() in stored
    assert TEST_TMK["alpha"].hex() not in out.lower() and TEST_DEK.hex() not in out.lower()


def test_journal_larger_than_the_heap_is_streamed(tmp_path):
    out = mp.run("""
import gc, os
from pos.store.journal import Journal
j = Journal("journal.bin")
pad = "x" * 180
for i in range(1500):
    j.append({"t": "req", "stan": i + 1, "amt": i, "pad": pad})
j.close()
size = os.stat("journal.bin")[6]
gc.collect()
j2 = Journal("journal.bin")
total = 0
n = 0
for r in j2.replay():
    total += r["amt"]
    n += 1
print("SIZE", size, "COUNT", j2.count, n, "SUM", total)
""", cwd=str(tmp_path), heap="96K")
    words = out.split()
    size = int(words[words.index("SIZE") + 1])
    assert size > 300 * 1024                     # 3x the 96 KB heap it is read with
    assert "COUNT 1500 1500" in out and "SUM %d" % sum(range(1500)) in out
