"""Remote key injection end to end: the cloud wraps (cloud.tms.keys), the terminal verifies and
stores (pos.tms.keyinject on real MicroPython with the board's heap), refusals store nothing."""
import json
import os

import pytest

from cloud.tms import keys
from smartpos.commands.keys import write_to_flash
from tests.tms.tr31_mp import run_on_flash


def flash_with(tmp_path, kek):
    d = tmp_path / "flash"
    d.mkdir(parents=True)
    (d / "keys.kld").write_text(json.dumps({"acquirers": {}}))
    if kek is not None:
        write_to_flash(str(d), kek)
    return d


def inject_lines(items):
    """items: [(acquirer, slot, block)] -> MicroPython lines answering each injection."""
    return "".join("answer(lambda: (lambda kb: {'kv': kb.key_version, 'kcv': kb.kcv().hex().upper(), "
                   "'usage': kb.usage})(keyinject.inject(ks, %r, %r, %r)))\n" % it for it in items)


def key_lines(items):
    return "".join("answer(lambda: {'key': keyinject.injected_key(ks, %r, %r).hex()})\n" % it for it in items)


@pytest.mark.parametrize("kek_alg", ["A", "T"])
def test_cloud_wraps_terminal_opens_every_slot(tmp_path, kek_alg):
    kek = keys.generate_kek(kek_alg)
    d = flash_with(tmp_path, kek)
    plan = [("acq1", "pin", "T", 16, {}), ("acq1", "mac", "T", 16, {}), ("acq1", "data", "A", 32, {}),
            ("acq1", "kek", "T", 24, {}), ("acq2", "pin", "A", 16, {"mode": "B"}),
            ("acq2", "mac", "T", 24, {"usage": "M1"}), ("acq2", "data", "T", 16, {"mode": "E"}),
            ("acq2", "kek", "A", 32, {"usage": "K1"})]
    sent = []
    for acq, slot, alg, n, kw in plan:
        key = keys.generate_working_key(slot, alg, n)
        sent.append((acq, slot, key, keys.wrap_working_key(kek, slot, key, 5, algorithm=alg, **kw)))
    out = run_on_flash(d, inject_lines([(a, s, b) for a, s, _, b in sent]) +
                       key_lines([(a, s) for a, s, _, _ in sent]))
    injected, opened = out[:len(sent)], out[len(sent):]
    for (acq, slot, key, block), (_, _, alg, _, _), a, o in zip(sent, plan, injected, opened):
        assert a["kv"] == "05" and a["kcv"] == keys.kcv(key, alg).hex().upper(), (slot, a)
        assert o["key"] == key.hex(), (acq, slot, o)
    # on flash: the blocks as received, never a clear key
    stored = "".join(p.read_text() for p in d.iterdir() if p.name.startswith("tr31_"))
    for _, _, key, block in sent:
        assert block in stored and key.hex().upper() not in stored.upper()


def test_replayed_and_unversioned_blocks_refused_and_the_held_key_stays(tmp_path):
    kek = keys.generate_kek("A")
    d = flash_with(tmp_path, kek)
    k2, k3 = keys.generate_working_key("pin"), keys.generate_working_key("pin")
    b2 = keys.wrap_working_key(kek, "pin", k2, 2)
    b1 = keys.wrap_working_key(kek, "pin", keys.generate_working_key("pin"), 1)
    b3_same = keys.wrap_working_key(kek, "pin", k2, 3)
    b3 = keys.wrap_working_key(kek, "pin", k3, 3)
    import psec
    b00 = psec.tr31.wrap(kek.key, "D0000P0TE00N0000", k3)
    out = run_on_flash(d, inject_lines([("acq1", "pin", b) for b in (b2, b2, b1, b3_same, b00)]) +
                       key_lines([("acq1", "pin")]) +
                       inject_lines([("acq1", "pin", b3), ("acq1", "pin", b2)]) + key_lines([("acq1", "pin")]))
    assert out[0]["kv"] == "02"
    assert [o.get("reason") for o in out[1:5]] == ["replayed block"] * 4
    assert "not newer than the stored 02" in out[1]["msg"] and "not newer" in out[2]["msg"]
    assert "already stored" in out[3]["msg"] and "numeric version" in out[4]["msg"]
    assert out[5]["key"] == k2.hex()                 # refusals left the held key alone
    assert out[6]["kv"] == "03" and out[7]["reason"] == "replayed block"
    assert out[8]["key"] == k3.hex()


def test_wrong_usage_for_the_slot_refused_nothing_stored(tmp_path):
    import psec
    kek = keys.generate_kek("T")
    d = flash_with(tmp_path, kek)
    k = keys.generate_working_key("pin")
    blocks = [
        ("pin", keys.wrap_working_key(kek, "pin", k, 1, usage="D0", mode="E")),    # a data key in the PIN slot
        ("mac", keys.wrap_working_key(kek, "mac", k, 1, usage="P0", mode="E")),    # a PIN key in the MAC slot
        ("pin", keys.wrap_working_key(kek, "pin", k, 1, mode="D")),                # PIN key for decryption
        ("pin", keys.wrap_working_key(kek, "pin", k, 1, exportability="S")),       # exportable under untrusted keys
        ("mac", keys.wrap_working_key(kek, "mac", os.urandom(16), 1, algorithm="A")),   # M3 is a DES MAC
        ("mac", keys.wrap_working_key(kek, "mac", k, 1, mode="V")),                # verify-only MAC key
        ("data", psec.tr31.wrap(kek.key, "B0000K0TB01N0000", k)),                  # a KEK in the data slot
        ("cash", keys.wrap_working_key(kek, "pin", k, 1)),                          # no such slot
    ]
    out = run_on_flash(d, inject_lines([("acq1", s, b) for s, b in blocks]) +
                       key_lines([("acq1", s) for s in ("pin", "mac", "data")]))
    for (slot, _), o in zip(blocks, out[:len(blocks)]):
        assert o.get("err") == "KeyBlockUsageError" and o["reason"] == "wrong usage", (slot, o)
    assert "D0 cannot fill the pin slot" in out[0]["msg"]
    assert "DES MAC" in out[4]["msg"]
    for o in out[len(blocks):]:
        assert o["err"] == "KeyStoreError" and "no " in o["msg"]
    assert not [p for p in os.listdir(d) if p.startswith("tr31_")]


def test_bad_mac_other_terminals_kek_no_kek_and_tampered_store(tmp_path):
    kek, other = keys.generate_kek("A"), keys.generate_kek("A")
    d = flash_with(tmp_path, kek)
    k = keys.generate_working_key("mac")
    good = keys.wrap_working_key(kek, "mac", k, 7)
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    out = run_on_flash(d, inject_lines([("acq1", "mac", flipped),
                                        ("acq1", "mac", keys.wrap_working_key(other, "mac", k, 7)),
                                        ("acq1", "mac", good[:-10])]) +
                       key_lines([("acq1", "mac")]) + inject_lines([("acq1", "mac", good)]))
    assert [o.get("reason") for o in out[:3]] == ["bad MAC", "wrong KBPK", "length mismatch"]
    assert out[3]["err"] == "KeyStoreError"
    assert out[4]["kv"] == "07"
    # a byte of the stored block altered on flash: the key is not handed out
    path = d / "tr31_acq1.json"
    rec = json.loads(path.read_text())
    blk = rec["mac"][0]
    rec["mac"][0] = blk[:-40] + ("A" if blk[-40] != "A" else "B") + blk[-39:]      # in the encrypted key
    path.write_text(json.dumps(rec))
    out = run_on_flash(d, key_lines([("acq1", "mac")]))
    assert out[0]["err"] == "KeyBlockMacError"
    # no KEK loaded, and a KEK file whose check value is wrong
    bare = flash_with(tmp_path / "bare", None)
    out = run_on_flash(bare, inject_lines([("acq1", "mac", good)]))
    assert out[0]["err"] == "KeyStoreError" and "load-kek" in out[0]["msg"]
    kf = d / "kbpk.json"
    k_rec = json.loads(kf.read_text())
    k_rec["kcv"] = "000000"
    kf.write_text(json.dumps(k_rec))
    out = run_on_flash(d, inject_lines([("acq1", "mac", good)]))
    assert out[0]["err"] == "KeyStoreError" and "check value" in out[0]["msg"]
