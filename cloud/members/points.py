"""The points rule and the points ledger fed by the sales ingest.

    points_for(1540, programme)     # 15 with 1 point per 1.00 spent

The rule is the programme's points per amount: every whole ``spend_unit`` of the sale's total
(lines less discounts, tax included, tip excluded) earns ``points_per_unit`` points.  The
terminal computes the same (firmware pos.members.points) to show them at once; the cloud's
ledger is the authority.  A promotions engine, when it exists, is called from points_for only.

accrue() runs inside the ingest's transaction for a new sale key only (cloud.sales.ingest.book)
and the ledger's unique sale id refuses a second entry: a sale accrues exactly once.  A refund
takes back the points of its amount, never more than its original earned; a void takes back
all its original earned.
"""
from sqlalchemy import select

from cloud.members.models import Member, MemberProgramme, PointsEntry
from cloud.sales.models import Sale


def points_for(total, programme):
    """Points earned by a sale of `total` minor units under `programme`."""
    if total <= 0 or programme.spend_unit <= 0:
        return 0
    return total // programme.spend_unit * programme.points_per_unit


def next_reward(points, programme):
    """Points still wanted for the next reward (never 0: a balance on a threshold wants the next)."""
    step = max(1, programme.reward_points)
    return step - points % step


def _original(db, sale, original_invoice):
    return db.scalar(select(Sale).where(Sale.terminal_id == sale.terminal_id, Sale.invoice == original_invoice))


def accrue(db, sale, sale_in):
    """The points entry of a stored sale naming a member of its merchant (flushed, not
    committed), or None: no member named, the member unknown to the merchant, no programme."""
    if not sale.member_id:
        return None
    member = db.scalar(select(Member).where(Member.merchant_id == sale.merchant_id, Member.number == sale.member_id)
                       .with_for_update())
    programme = db.get(MemberProgramme, sale.merchant_id)
    if member is None or programme is None:
        return None
    earned_before = None
    if sale.kind in ("refund", "void") and sale_in.original_invoice is not None:
        orig = _original(db, sale, sale_in.original_invoice)
        if orig is not None:
            e = db.scalar(select(PointsEntry).where(PointsEntry.sale_id == orig.id))
            earned_before = e.points if e is not None and e.points > 0 else 0
    if sale.kind == "sale":
        change = points_for(sale.total, programme)
    elif sale.kind == "void":
        change = -(earned_before or 0)
    else:
        change = -points_for(sale.total, programme)
        if earned_before is not None:
            change = max(change, -earned_before)
    member.points += change
    entry = PointsEntry(merchant_id=sale.merchant_id, member_id=member.id, sale_id=sale.id, kind=sale.kind,
                        points=change, balance=member.points, note="invoice %d" % sale.invoice)
    db.add(entry)
    db.flush()
    return entry
