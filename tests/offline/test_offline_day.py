"""The offline day on the whole counter with the cloud (the offline-day demo as a test, fewer
sales): basket sales with a promotion and a member while the cloud is unreachable, then the
link back; the cloud holds each sale once with its total, the stock moved by the pieces
scanned, the member's points are the receipts' in one ledger entry a sale and the terminal's
pending points are let go; the coupons redeemed here are marked used in the cloud, the one
also redeemed at another terminal flagged, and that terminal's coupon refused here once
synced.  Then the same with the member's second basket paid by a chip card: its lines move the
stock and its member earns points once.  Both on the product heap, as the demonstration."""
from smartpos.demos.offline import HEAP, offline_day


def test_offline_sales_reconcile_stock_points_and_sales():
    said = []
    ok, outcome = offline_day(out=said.append, sales=5, heap=HEAP)
    assert ok, outcome
    assert said[0].startswith("offline: 5 sales on the terminal, 0 in the cloud; 2 member sales, 2 pending")
    # 5 baskets: JUICE1L 2, RICE5 2, TEA 5, SOAP 2, MILK 4 pieces
    assert ("stock (before -> after, sold): JUICE1L 100->98 (-2), RICE5 100->98 (-2), TEA 100->95 (-5), "
            "SOAP 100->98 (-2), MILK 100->96 (-4)") in said
    receipt = said[1]
    assert "10% OFF DRINKS         -USD 0.25" in receipt and "POINTS EARNED                +23" in receipt
    assert "Li Wei" not in receipt
    # the member's sales: 23.58 (23 points) and 32.03 (32 points)
    assert "2 for a member, 0 of those by card" in outcome and "; %s heap" % HEAP in outcome
    # two coupons redeemed here offline; the other terminal's two, one of them also redeemed here
    assert ("coupons: 3 in the cloud's ledger, 1 redeemed at both terminals flagged (100003), the other "
            "terminal's coupon refused here after the sync") in said
    assert "the member's 55 points equal to the receipts' in 2 ledger entries" in outcome


def test_a_card_paid_basket_uploads_its_lines_and_names_its_member():
    said = []
    ok, outcome = offline_day(out=said.append, sales=5, cards=True, heap=HEAP)
    assert ok, outcome
    assert "2 for a member, 1 of those by card" in outcome and "; %s heap" % HEAP in outcome
    # the card-paid basket (sale 4: MILK 3, SOAP, RICE5) moved the stock like the cash ones
    assert ("stock (before -> after, sold): JUICE1L 100->98 (-2), RICE5 100->98 (-2), TEA 100->95 (-5), "
            "SOAP 100->98 (-2), MILK 100->96 (-4)") in said
    # its 32 points in the cloud once: 23 (cash) + 32 (card) in two ledger entries
    assert "the member's 55 points equal to the receipts' in 2 ledger entries" in outcome
