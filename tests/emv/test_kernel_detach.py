"""Between transactions (services.idle() at Ready calls Kernel.detach()): nothing of the finished
sale stays in the kernel's RAM, neither the card's data objects (PAN, track 2 equivalent) in its
tables nor the transaction's PAN, keys and outcome; the Transaction object itself is kept and set
again by the next sale (its table of attributes is not grown again), which runs as the first."""
from cardkit import HsmHost, MiniCard


def test_detach_lets_go_of_the_card_and_the_next_sale_runs_on_the_same_transaction(run, pki):
    rs = run(MiniCard(pki, oda="CDA", issuer="hsm"), {"amount": 6000}, {"amount": 6000},
             pins=["1234", "1234"], authorizer=HsmHost(), detach=True)
    assert [r.outcome["result"] for r in rs] == ["approved", "approved"]
    assert rs[0].outcome["cryptogram"] != rs[1].outcome["cryptogram"]     # a second sale, not a replay
    for r in rs:
        after = r.outcome["after_detach"]
        assert after == {"icc": 0, "terminal": 0, "pan": "", "pin_block": True, "keys": True,
                         "out": True, "same_tx": True}, after
