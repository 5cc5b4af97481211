"""The asyncio host link: the UI loop keeps ticking while the host takes its time."""
from hostlink.terminal import Terminal

PAN = "4761739001010119"

BODY = """
import asyncio
from pos.payments.aio import AsyncAuthorizer
aa = AsyncAuthorizer(eng)
ticks = [0]
async def ui():
    while True:
        ticks[0] += 1
        await asyncio.sleep_ms(10)
async def main():
    t = asyncio.create_task(ui())
    res = []
    for amt, pan in %s:
        req = AuthRequest("sale", amt, "978", pan, "2812", entry_mode="chip")
        before = ticks[0]
        r = await aa.authorize(req)
        await aa.complete(req, r, r.approved)
        res.append([resp_dict(r), ticks[0] - before])
    t.cancel()
    return res
out(asyncio.run(main())); out(state())
"""


def test_async_authorize_does_not_block_the_ui_loop(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=3000, drop_missing=True)
    t.run("out(eng.echo('alpha'))")                  # sign on first (synchronously)
    alpha.faults.set("delay", seconds=0.6)           # slow host, but within the timeout
    before = alpha.db.balance(PAN)
    res, st = t.run(BODY % repr([(300, PAN)]))
    (r, ui_ticks), = res
    assert r["approved"] and alpha.db.balance(PAN) == before - 300
    assert ui_ticks >= 30                            # the UI ran ~every 10 ms during the 0.6 s wait
    assert st["net"] == 300 and st["pending"] == []


def test_async_timeout_reverses(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1000, drop_missing=True)
    alpha.faults.set("drop")
    before = alpha.db.balance(PAN)
    res, st = t.run(BODY % repr([(400, PAN), (50, PAN)]))
    (r1, k1), (r2, k2) = res
    assert r1["unable"] and r2["approved"] and k1 >= 30
    assert st["pending"] == [] and "reversed" in st["states"].values()
    assert alpha.db.balance(PAN) == before - 50


def test_async_card_decline_after_approval_reverses(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    before = alpha.db.balance(PAN)
    res, st = t.run(BODY.replace("await aa.complete(req, r, r.approved)", "await aa.complete(req, r, False)")
                    % repr([(600, PAN)]))
    assert res[0][0]["approved"] and st["pending"] == [] and list(st["states"].values()) == ["reversed"]
    assert alpha.db.balance(PAN) == before


def test_async_over_tls(tmp_path):
    import json
    import os
    from host_sim.hosts.acquirer import AcquirerHost
    h = AcquirerHost(port=0, name="alpha", tls=True).start()
    try:
        t = Terminal(tmp_path, {"alpha": h}, drop_missing=True)
        t.config["acquirers"]["alpha"]["tls"] = True
        with open(os.path.join(t.flash, "config", "acquirers.json"), "w") as f:
            json.dump(t.config, f)
        before = h.db.balance(PAN)
        res, st = t.run(BODY % repr([(111, PAN)]))
        assert res[0][0]["approved"] and h.db.balance(PAN) == before - 111
    finally:
        h.stop()
