"""A day's batch fits the board's heap: 200 sales replayed from the journal at boot."""
from hostlink.terminal import Terminal


def test_engine_boots_with_a_200_sale_batch_in_the_journal(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    t.run("""
for i in range(200):
    r = {"t": "req", "stan": 100 + i, "acq": "alpha", "kind": "sale", "mti": "0200", "amt": 100 + i,
         "cur": "978", "pan": "476173******0119", "ps": ks.seal("4761739001010119=2812"), "inv": i + 1,
         "batch": 1, "entry": "chip", "dt": "1122113015", "pc": "000000", "card": True}
    j.append(r)
    j.append({"t": "resp", "stan": 100 + i, "rc": "00", "auth": "123456", "rrn": "000000000001"})
    j.append({"t": "done", "stan": 100 + i, "ok": True})
""", timeout=120)
    st, tot, mem = t.run("""
import gc
gc.collect()
out(eng.pending); out(eng.totals("alpha")); out(gc.mem_free())
""")
    assert st == []
    assert tot == [200, sum(100 + i for i in range(200)), 0, 0]
    print("free after boot with 200 sales:", mem)
    assert mem > 12 * 1024
