"""Every injected host fault ends in a reversal or a clean decline: no lost, no double charge."""
import pytest

from host_sim.hosts.acquirer import AcquirerHost
from hostlink.terminal import Terminal

PAN = "4761739001010119"

SALE = """
req, r = sale(700)
out(resp_dict(r)); out(state())
out([l for l in _LOG])
"""


@pytest.mark.parametrize("fault,unable", [("drop", True), ("delay", True), ("close", True),
                                          ("malformed", False), ("bad_mac", False)])
def test_fault_after_host_charged_ends_in_reversal(tmp_path, alpha, fault, unable):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1500)
    before = alpha.db.balance(PAN)
    alpha.faults.set(fault, seconds=3.0)
    r, st, logs = t.run(SALE)
    assert alpha.faults.fired == [(fault, "0210")]
    assert not r["approved"]
    assert r["unable"] is unable                 # no answer: terminal decides; bad answer: decline
    stan = int(max(st["states"]))
    assert st["states"][str(stan)] == "reversed" and st["pending"] == []
    assert alpha.db.balance(PAN) == before       # charged by the 0200, given back by the 0400
    assert alpha.db.txn("TERM0001", "%06d" % stan)["reversed"] == 1
    assert st["net"] == 0
    text = "\n".join(logs)
    assert "reversal queued" in text and "reversed" in text
    assert PAN not in text and "476173******0119" not in text or PAN not in text


def test_duplicate_reply_is_ignored_by_stan(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1500)
    before = alpha.db.balance(PAN)
    alpha.faults.set("duplicate")
    r1, r2, st, logs = t.run("""
req, r = sale(100); out(resp_dict(r))
req, r = sale(200); out(resp_dict(r))
out(state()); out(_LOG)
""")
    assert r1["approved"] and r2["approved"] and r1["stan"] != r2["stan"]
    assert alpha.db.balance(PAN) == before - 300
    assert st["net"] == 300 and st["pending"] == []
    assert any("unexpected reply ignored" in l and "stan=%s" % r1["stan"] in l for l in logs)


def test_refused_connection_is_a_clean_unable_to_go_online_without_reversal(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1500)
    (r0,) = t.run("out(eng.echo('alpha'))")          # signs on first
    assert r0 is True
    alpha.faults.set("refuse", seconds=30)
    before = alpha.db.balance(PAN)
    r, st = t.run(SALE)[:2]
    assert r["unable"] and not r["approved"]
    assert list(st["states"].values()) == ["failed"] and st["pending"] == []
    assert alpha.db.balance(PAN) == before


def test_secondary_host_on_connect_failure(tmp_path, alpha):
    alpha.faults.set("refuse", seconds=60)
    backup = AcquirerHost(port=0, name="alpha", db=alpha.db).start()   # same issuer, same HSM keys
    backup.terminal_keys = alpha.terminal_keys
    try:
        t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1500,
                     secondary={"alpha": {"host": "127.0.0.1", "port": backup.port}})
        before = alpha.db.balance(PAN)
        r, st, logs = t.run(SALE)
        assert r["approved"] and backup.stats["replies"] >= 2        # sign-on + sale went to the backup
        assert alpha.db.balance(PAN) == before - 700
        assert any("using secondary" in l for l in logs)
    finally:
        backup.stop()


def test_card_declines_after_host_approval_reverses(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha})
    seen = []
    alpha.trace = lambda d, mti, doc: seen.append((mti, doc))
    before = alpha.db.balance(PAN)
    r, st = t.run("""
req, r = sale(900, entry="chip")
eng.complete(req, r, False, bytes.fromhex("9F270100"))     # ARPC failure / AAC at 2nd GENERATE AC
out(resp_dict(r)); out(state())
""")
    assert r["approved"]
    rev = [doc for mti, doc in seen if mti == "0400"]
    assert rev and rev[0]["55"] == "9F270100"             # the card's AAC data goes with the reversal
    assert st["states"][str(int(r["stan"]))] == "reversed"
    assert alpha.db.balance(PAN) == before and st["net"] == 0


def test_pending_reversal_survives_reboot_and_goes_first(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1500)
    before = alpha.db.balance(PAN)
    alpha.faults.set("drop")
    alpha.faults.set("drop", mtis=("0410",))      # the reversal is not acknowledged either
    r, st = t.run(SALE)[:2]
    # the host undid the charge but its 0410s were lost: the terminal still has it pending
    assert st["pending"] and alpha.db.balance(PAN) == before
    assert alpha.faults.fired == [("drop", "0210"), ("drop", "0410")]
    alpha.faults.clear()
    # reboot: the queued reversal is sent before anything else
    st2, r2 = t.run("""
out(state())
req, r = sale(50); out(resp_dict(r))
""")
    assert st2["pending"] == [] and list(st2["states"].values())[0] == "reversed"
    assert r2["approved"]
    assert alpha.db.balance(PAN) == before - 50          # the repeated 0400 did not credit twice


def test_reversals_retry_with_backoff_in_order(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1000, base_ms=100)
    alpha.faults.set("drop", count=2)
    alpha.faults.set("drop", mtis=("0410",), count=4)
    res = t.run("""
req, r = sale(10)
req, r = sale(20)
out(state())
import time
order = []
n = 0
while eng.pending and n < 40:
    eng.pump(); time.sleep_ms(60); n += 1
out(state()); out([l for l in _LOG if "retry later" in l])
out([l.split("stan=")[1] for l in _LOG if l.startswith("INFO engine reversed")])
""")
    st1, st2, retries, order = res
    assert len(st1["pending"]) == 2
    assert st2["pending"] == []
    delays = [int(l.split("delay_ms=")[1].split()[0]) for l in retries]
    assert delays == [100, 200, 400, 800]        # exponential backoff, one queue per acquirer
    assert order == [str(s) for s in st1["pending"]]   # journal order
    assert alpha.db.balance(PAN) == 500000
