# The cart's buffers (pos.catalog.cart: 20 bytes a line, 4 for its share of the promotions, 1
# for the engine's mark), for the default line limit: 3,750 B made once at boot on a counter
# that has a catalog, while the heap is whole (main.py), and lent to each basket.  Made when a
# basket opened, amid a trading day's garbage, the member copy's refreshes and an enrolment,
# the lines' 3,000-byte block was not there on the product heap (MemoryError ... allocating
# 3000 bytes) with tens of KB free in smaller pieces.
from micropython import const

_LINES = const(150)           # pos.catalog.cart.MAX_LINES (the catalog loads only with a basket)
_space = None


def reserve():
    """At boot, before the payment services and the UI load."""
    global _space
    if _space is None:
        _space = (bytearray(_LINES * 20), bytearray(_LINES * 4), bytearray(_LINES))


def lend(lines):
    """The (lines, promotions, marks) buffers for a cart of at most `lines` lines, the
    promotions and marks zeroed; None when none were reserved or the limit is above them
    (the cart then allocates its own)."""
    if _space is None or lines > _LINES:
        return None
    for b in _space[1:]:
        for i in range(len(b)):
            b[i] = 0
    return _space
