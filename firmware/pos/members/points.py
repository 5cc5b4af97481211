# The points rule: every whole spend_unit of a sale's total (tax included, tip excluded)
# earns points_per_unit points.  The cloud books the same rule (cloud/members/points.py) and
# its ledger is the authority; the terminal computes it to show the points at once and to
# keep them provisionally while offline.  The one place a promotions engine will be called.


def points_for(total, programme):
    """Points earned by a sale of `total` minor units."""
    if total <= 0 or programme.spend_unit <= 0:
        return 0
    return total // programme.spend_unit * programme.points_per_unit


def next_reward(points, programme):
    """Points still wanted for the next reward (a balance on a step wants the next one)."""
    step = programme.reward_points
    return step - points % step
