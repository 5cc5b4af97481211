"""Online flows on MicroPython against the acquirer host simulator on loopback."""
from hostlink.terminal import Terminal

PAN = "4761739001010119"


def test_sign_on_and_online_approve(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha})
    before = alpha.db.balance(PAN)
    (r, st) = t.run("""
req, r = sale(1234)
out(resp_dict(r)); out(state())
print("\\n".join(_LOG))
""")
    assert r["approved"] and r["rc"] == "00" and len(r["auth"]) == 6 and len(r["rrn"]) == 12
    assert r["acq"] == "alpha" and r["text"] == "Approved"
    assert alpha.db.balance(PAN) == before - 1234
    assert st["net"] == 1234 and st["pending"] == [] and st["writes"] == 2
    assert "TERM0001" in alpha.terminal_keys            # signed on: working keys issued
    assert alpha.db.txn("TERM0001", r["stan"])["rc"] == "00"


def test_online_decline_insufficient_funds(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha})
    (r, st) = t.run("""
req, r = sale(5000, pan="4761739001010010")
out(resp_dict(r)); out(state())
""")
    assert not r["approved"] and r["rc"] == "51" and r["text"] == "Insufficient funds"
    assert alpha.db.balance("4761739001010010") == 1000
    assert st["net"] == 0 and st["pending"] == []


def test_response_codes_from_the_issuer(tmp_path, alpha):
    alpha.db.add_account("4761739001010028", 500000, blocked="lost")
    alpha.db.add_account("4761739001010036", 500000)
    alpha.db.set("4761739001010036", issuer_online=0)
    t = Terminal(tmp_path, {"alpha": alpha})
    got = t.run("""
for pan, exp, amt in (("4761739001010200", "2812", 100), ("4761739001010309", "2001", 100),
                      ("4761739001010118", "2812", 100), ("4761739001010119", "2812", 0),
                      ("4761739001010119", "2812", 300000), ("4761739001010028", "2812", 100),
                      ("4761739001010036", "2812", 100)):
    req, r = sale(amt, pan=pan, expiry=exp)
    out([r.response_code, r.text])
""")
    assert got == [["57", "Transaction not permitted to cardholder"], ["54", "Expired card"],
                   ["14", "Invalid card number"], ["13", "Invalid amount"], ["61", "Exceeds amount limit"],
                   ["41", "Lost card - pick up"], ["91", "Issuer unavailable - try again"]]


def test_tls_link(tmp_path):
    from host_sim.hosts.acquirer import AcquirerHost
    h = AcquirerHost(port=0, name="alpha", tls=True).start()
    try:
        t = Terminal(tmp_path, {"alpha": h})
        t.config["acquirers"]["alpha"]["tls"] = True
        import json, os
        with open(os.path.join(t.flash, "config", "acquirers.json"), "w") as f:
            json.dump(t.config, f)
        before = h.db.balance(PAN)
        (r,) = t.run("req, r = sale(321); out(resp_dict(r))")
        assert r["approved"] and h.db.balance(PAN) == before - 321
    finally:
        h.stop()


def test_void_refund_preauth_and_balance_inquiry(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    before = alpha.db.balance(PAN)
    s, v, v2, rf, pa, bal, st = t.run("""
req, s = sale(1000); out(resp_dict(s))
orig = eng.original(int(s.stan))
req, v = sale(1000, kind="void", original=orig); out(resp_dict(v))
req, v2 = sale(1000, kind="void", original=orig); out(resp_dict(v2))
req, r = sale(250, kind="refund"); out(resp_dict(r))
req, p = sale(5000, kind="preauth"); out(resp_dict(p))
req, b = sale(0, kind="balance"); out(resp_dict(b))
out(state())
""")
    assert s["approved"] and v["approved"]
    assert v2["rc"] == "25"                        # already voided: original not found
    assert rf["approved"] and pa["approved"] and bal["approved"]
    assert alpha.db.balance(PAN) == before + 250   # sale voided, refund credited, preauth holds nothing
    assert alpha.db.txn("TERM0001", pa["stan"])["mti"] == "0100"
    assert st["net"] == -250 and st["states"][str(int(s["stan"]))] == "voided"   # journal = host
