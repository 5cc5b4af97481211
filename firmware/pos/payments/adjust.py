# Tip adjust before settlement (kept out of engine.py: only the tip flow loads it).
from pos.payments.authorizer import AuthError


def adjust(engine, stan, amount):
    """`amount` becomes the total of the approved sale `stan` of the open batch.  Nothing is
    sent now: the settlement's totals carry it and the host takes the terminal's amounts
    from the batch upload (0320) on a mismatch."""
    x = engine.txns.get(stan)
    if x is None or x.kind not in ("sale", "completion") or not x.charged():
        raise AuthError("STAN %06d is not an approved sale" % stan)
    if x.batch != engine.batches[x.acq]:
        raise AuthError("STAN %06d is in a settled batch" % stan)
    if not isinstance(amount, int) or amount < 0:
        raise AuthError("amount must be a non-negative int in minor units")
    engine._write({"t": "adj", "stan": stan, "amt": amount})
