"""The member's sale on the whole counter with the cloud (the member-loyalty demo as a test):
bad member input refused with the basket intact, the member shown masked, points on the
receipt and the customer's screen, the upload naming the member, the cloud's balance once."""
from smartpos.demos.members import member_loyalty


def test_member_sale_end_to_end_with_the_cloud():
    said = []
    ok, outcome = member_loyalty(out=said.append)
    assert ok, outcome
    assert any("unknown card: not a member" in s for s in said)
    assert any("member QR expired" in s for s in said)
    assert any("QR not signed by this shop" in s for s in said)
    receipt = said[-1]
    assert "POINTS EARNED                +23" in receipt and "L* W**" in receipt and "Li Wei" not in receipt
