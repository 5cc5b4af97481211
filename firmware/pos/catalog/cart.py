# The basket of one sale: lines from scans and PLU keys, quantities, voids, supervisor price
# overrides, line and order discounts, and tax per rate under the store's rules, in integer
# minor units only (docs/catalog.md, "Tax").  Lines live in one preallocated bytearray (the
# item's name stays on flash and is read again to show or print a line), so the heap a
# basket takes is fixed when the cart opens.  A line past the limit is refused with a
# message and the basket is left as it was.
#
#     cart = Cart(catalog, Rules({"tax": {"mode": "exclusive", "rounding": "line",
#                                         "rates": {"1": 600}}}))
#     n = cart.scan("4006381333931")      # CatalogError: unknown, malformed, basket full
#     total, rates = cart.totals()        # rates: [(category, bp, net, tax)]
#     cart.promote(programs, now)         # the promotions engine's rewards (pos.promo.engine)
import struct

from micropython import const

from pos.catalog import CatalogError, barcode

LINE = const(20)            # record i32, unit price i32, quantity i32, line discount i32, tax, unit, flags, category
CATEGORY = const(19)        # the item's category, kept in the line for the promotions engine
_LINE = ">iiiiBBBx"
VOID = const(1)
OVERRIDE = const(2)
EMBEDDED = const(4)         # the price came from an in-store code
MAX_LINES = const(150)
MAX_QTY = const(99999)      # pieces, or grams of a weighed item


def half_up(n, d):
    """n / d rounded half away from zero (n >= 0, d > 0)."""
    return (2 * n + d) // (2 * d)


class Rules:
    """The store's tax and basket rules (config/catalog.json): mode "exclusive" (tax added to
    prices) or "inclusive" (prices include tax), rounding per "line" or per "total" (of each
    rate), rates in basis points per tax category, the basket's line limit, in-store layouts."""

    def __init__(self, d=None):
        d = d or {}
        tax = d.get("tax", {})
        self.inclusive = tax.get("mode", "exclusive") == "inclusive"
        self.per_line = tax.get("rounding", "line") == "line"
        self.rates = {}
        for k, v in tax.get("rates", {}).items():
            self.rates[int(k)] = int(v)
        self.max_lines = int(d.get("max_lines", MAX_LINES))
        self.layouts = d.get("layouts") or barcode.LAYOUTS


def load_rules(path="config/catalog.json"):
    import json
    try:
        with open(path) as f:
            return Rules(json.load(f))
    except OSError:
        return Rules()
    except (ValueError, AttributeError, TypeError):
        raise CatalogError("config/catalog.json unreadable: fix the store settings")


class Cart:
    def __init__(self, catalog, rules, space=None):
        # space: (lines, promotions, marks) buffers made once and lent to each cart
        # (pos.app.cart_space), at least as long as the line limit asks; else allocated here
        self.catalog = catalog
        self.rules = rules
        if space is None:
            space = (bytearray(rules.max_lines * LINE), bytearray(rules.max_lines * 4), bytearray(rules.max_lines))
        self.lines, self.promo, self.marks = space
        self.n = 0
        self.order_discount = 0
        self.overrides = []           # (line, supervisor) for the receipt and the journal
        # promotions (docs/promotions.md): each line's share of the item rewards, the order
        # rewards, the engine's line marks, the codes and coupons presented, the last outcome
        self.promo_order = 0
        self.codes = []
        self.coupons = []             # pos.promo.coupon.Coupon, checked when presented
        self.outcome = None

    # -- lines ---------------------------------------------------------------
    def line(self, i):
        """(record, unit price, quantity, line discount, tax, unit, flags) of line i."""
        if i < 0 or i >= self.n:
            raise CatalogError("no line %d" % (i + 1))
        return struct.unpack_from(_LINE, self.lines, i * LINE)

    def _put(self, i, rec, price, qty, disc, tax, unit, flags):
        cat = self.lines[i * LINE + CATEGORY]          # the pad byte of _LINE: kept
        struct.pack_into(_LINE, self.lines, i * LINE, rec, price, qty, disc, tax, unit, flags)
        self.lines[i * LINE + CATEGORY] = cat

    def add(self, item, qty=1, price=None, flags=0):
        """A line for `item`; its number (0-based).  CatalogError when the basket is full."""
        if self.n >= self.rules.max_lines:
            raise CatalogError("basket full (%d lines): pay, then start another sale" % self.rules.max_lines)
        if not 0 < qty <= MAX_QTY:
            raise CatalogError("quantity out of range")
        self._put(self.n, item.index, item.price if price is None else price, qty, 0, item.tax, item.unit, flags)
        self.lines[self.n * LINE + CATEGORY] = item.category
        self.n += 1
        return self.n - 1

    def scan(self, code):
        """A scanned code into the basket; the new line's number."""
        key, kind, value = barcode.parse(code, self.rules.layouts)
        c = self.catalog
        i = c.by_barcode(key)
        if i < 0:
            raise CatalogError("unknown barcode: key the item or call a supervisor")
        item = c.item(i)
        if kind == "price":
            return self.add(item, 1, value, EMBEDDED)
        if kind == "weight":
            if item.unit != 1:
                raise CatalogError("weight code for an item sold by the piece: call a supervisor")
            if value == 0:
                raise CatalogError("weight 0 on the label: weigh again")
            return self.add(item, value)
        if item.unit == 1:
            raise CatalogError("weighed item: weigh it and scan the label")
        return self.add(item)

    def plu(self, number):
        i = self.catalog.by_plu(number)
        if i < 0:
            raise CatalogError("no PLU key %d" % number)
        item = self.catalog.item(i)
        if item.unit == 1:
            raise CatalogError("weighed item: weigh it and scan the label")
        return self.add(item)

    def set_quantity(self, i, qty):
        rec, price, _, disc, tax, unit, flags = self.line(i)
        if flags & (VOID | EMBEDDED) or unit == 1:
            raise CatalogError("quantity of this line cannot change")
        if not 0 < qty <= MAX_QTY:
            raise CatalogError("quantity out of range")
        if disc > self._gross(price, qty, unit):
            raise CatalogError("line discount larger than the line")
        self._put(i, rec, price, qty, disc, tax, unit, flags)

    def void(self, i):
        """The line stays (the journal shows it) and counts for nothing."""
        rec, price, qty, disc, tax, unit, flags = self.line(i)
        if flags & VOID:
            raise CatalogError("line %d already void" % (i + 1))
        self._put(i, rec, price, qty, disc, tax, unit, flags | VOID)

    def override(self, i, price, supervisor):
        """A new unit price for line i, allowed by `supervisor` (an operator's name)."""
        rec, _, qty, disc, tax, unit, flags = self.line(i)
        if flags & VOID:
            raise CatalogError("line %d is void" % (i + 1))
        if not 0 <= price < 0x7FFFFFFF or disc > self._gross(price, qty, unit):
            raise CatalogError("price out of range")
        self._put(i, rec, price, qty, disc, tax, unit, flags | OVERRIDE)
        self.overrides.append((i, supervisor))

    def discount_line(self, i, minor):
        rec, price, qty, _, tax, unit, flags = self.line(i)
        if flags & VOID:
            raise CatalogError("line %d is void" % (i + 1))
        if not 0 <= minor <= self._gross(price, qty, unit):
            raise CatalogError("line discount larger than the line")
        self._put(i, rec, price, qty, minor, tax, unit, flags)

    def discount_order(self, minor):
        if not 0 <= minor <= self.subtotal():
            raise CatalogError("order discount larger than the sale")
        self.order_discount = minor

    # -- promotions (the engine's view of the basket: pos.promo.engine) ---------------
    def entry(self, i):
        """(category, pieces, amount before promotions) of line i; pieces 0 when weighed."""
        b = self.lines
        at = i * LINE
        if b[at + 18] & VOID:                          # flags
            return 0, 0, 0
        price, qty, disc = struct.unpack_from(">iii", b, at + 4)
        unit = b[at + 17]
        return b[at + CATEGORY], 0 if unit == 1 else qty, self._gross(price, qty, unit) - disc

    def sku(self, i):
        """Line i's SKU, read from the catalog (only programs naming items ask)."""
        return self.catalog.sku(struct.unpack_from(">i", self.lines, i * LINE)[0])

    def allot(self, i, minor):
        struct.pack_into(">i", self.promo, i * 4, struct.unpack_from(">i", self.promo, i * 4)[0] + minor)

    def promoted(self, i):
        """Line i's share of the item rewards."""
        return struct.unpack_from(">i", self.promo, i * 4)[0]

    def promote(self, programs, now, member=None):
        """The programs applied afresh to the basket as it is now (after every change); the
        engine's Outcome, kept in self.outcome."""
        from pos.promo import engine
        for i in range(self.n * 4):
            self.promo[i] = 0
        self.promo_order = 0
        ids = [c.program for c in self.coupons]
        out = engine.apply(self, programs, self.codes, ids, member, now, self.marks)
        self.promo_order = out.order_discount
        self.outcome = out
        return out

    # -- amounts ----------------------------------------------------------------
    @staticmethod
    def _gross(price, qty, unit):
        # a weighed line: price per kg times grams, rounded half up to the minor unit
        return half_up(price * qty, 1000) if unit == 1 else price * qty

    def amount(self, i):
        """Line i after its line discount (0 for a void line)."""
        _, price, qty, disc, _, unit, flags = self.line(i)
        return 0 if flags & VOID else self._gross(price, qty, unit) - disc

    def subtotal(self):
        s = 0
        for i in range(self.n):
            s += self.amount(i)
        return s

    def totals(self):
        """(total, [(category, bp, net, tax)]) with each line's item rewards taken off it and
        the order discount (the cashier's and the order rewards) shared over the lines
        in proportion to their amounts (the last line takes the remainder), so each rate
        bears its part.  Exclusive: total = nets + taxes.  Inclusive: total = the amounts,
        tax = amount * bp / (10000 + bp) and net = amount - tax."""
        rules = self.rules
        sub = 0
        last = -1
        for i in range(self.n):
            a = self.amount(i)
            if a:
                a -= self.promoted(i)
            if a:
                sub += a
                last = i
        od = left = min(self.order_discount + self.promo_order, sub)      # lines voided after the discount
        acc = {}                      # category -> [amount, tax]
        for i in range(self.n):
            _, price, qty, disc, cat, unit, flags = struct.unpack_from(_LINE, self.lines, i * LINE)
            if flags & VOID:
                continue
            a = self._gross(price, qty, unit) - disc - self.promoted(i)
            if not a:
                continue
            share = left if i == last else od * a // sub
            left -= share
            a -= share
            bp = rules.rates.get(cat, 0)
            r = acc.get(cat)
            if r is None:
                r = acc[cat] = [0, 0]
            r[0] += a
            if rules.per_line:
                r[1] += half_up(a * bp, 10000 + bp) if rules.inclusive else half_up(a * bp, 10000)
        total = 0
        out = []
        for cat in sorted(acc):
            a, tax = acc[cat]
            bp = rules.rates.get(cat, 0)
            if not rules.per_line:
                tax = half_up(a * bp, 10000 + bp) if rules.inclusive else half_up(a * bp, 10000)
            net = a - tax if rules.inclusive else a
            total += a if rules.inclusive else a + tax
            out.append((cat, bp, net, tax))
        return total, out
