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


def _host_rows(host):
    with host.db.lock:
        return host.db.db.execute("SELECT count(*) FROM transactions").fetchone()[0]


def test_a_full_batch_refuses_the_next_request_and_settling_makes_room(tmp_path, alpha):
    """The open batch holds BATCH_CAPACITY transactions (the engine's table, made once):
    at capacity the next request is declined with BATCH FULL - SETTLE before anything is
    journaled or sent, none recorded is lost, and the settlement empties the table."""
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    cap, = t.run("from pos.payments import engine\nout(engine.BATCH_CAPACITY)")
    # declined sales fill the table (the batch's totals stay those the host has: nothing)
    t.run("""
for i in range(%d):
    j.append({"t": "req", "stan": 1000 + i, "acq": "alpha", "kind": "sale", "mti": "0200", "amt": 100,
              "cur": "978", "pan": "476173******0119", "inv": i + 1, "batch": 1, "entry": "chip",
              "dt": "1122113015", "pc": "000000", "card": False})
    j.append({"t": "resp", "stan": 1000 + i, "rc": "51", "auth": "", "rrn": ""})
""" % (cap - 3), timeout=240)
    rows0 = _host_rows(alpha)
    full0, n0, r1, full1, w1, r2, w2, n2, net = t.run("""
out(eng.batch_full()); out(len(eng.txns))
req, r = sale(1234)
req, r = sale(500)
out(resp_dict(r)); out(eng.batch_full()); out(j.writes)
req, r = sale(777)
out(resp_dict(r)); out(j.writes); out(len(eng.txns)); out(eng.net_charged())
""")
    assert full0 is False and n0 == cap - 3
    assert r1["approved"] is True and full1 is True
    assert r2["approved"] is False and r2["text"] == "BATCH FULL - SETTLE" and not r2["unable"]
    assert w2 == w1 and n2 == cap - 1 and net == 1734               # nothing journaled, nothing lost
    assert _host_rows(alpha) == rows0 + 2                            # nor sent
    res, n, full, r3 = t.run("out(list(eng.settle('alpha'))); out(len(eng.txns)); out(eng.batch_full())\n"
                             "req, r = sale(777)\nout(resp_dict(r))", timeout=240)
    assert res[0] == "balanced" and res[1] == [2, 1734, 0, 0]
    assert n == 0 and full is False
    assert r3["approved"] is True
    # after a reboot the journal gives back the new batch; the settled one is gone
    n4, tot4 = t.run("out(len(eng.txns)); out(eng.totals('alpha'))")
    assert n4 == 1 and tot4 == [1, 777, 0, 0]
