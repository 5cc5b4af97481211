# The promotions engine: the store's programs (data, anchored on Odoo's loyalty programs:
# promotion, promo_code, coupons, buy_x_get_y, loyalty, next_order_coupons) applied to a
# basket in integer minor units, in one fixed order (docs/promotions.md, "Order of
# application").  The same file runs on the terminal (MicroPython) and in the cloud
# (CPython, cloud/promotions loads it as is), so both compute the same discounts for the same
# basket: integers only, no floats, no dict order, no clock of its own.
#
#     progs = compile_programs(json_list)                # once, when the programs are loaded
#     out = apply(basket, progs, codes=("1234",), coupons=("WELCOME5",), member=None, now=t)
#     out.discount, out.points, out.issues, [r.text for r in out.rewards]
#
# A basket is any object with `n` (lines), `entry(i)` -> (category, pieces, amount), `sku(i)`
# (asked only by programs that name items) and `allot(i, minor)` (an item reward's share for
# line i).  `amount` is the line after manual
# discounts (0 for a void line), `pieces` its count (0 for a weighed line).  The engine keeps
# one bytearray of line marks (the basket's line limit) and a few integers per program: RAM
# does not grow with the basket beyond that.

PROMOTION = "promotion"
PROMO_CODE = "promo_code"
COUPONS = "coupons"
BUY_X_GET_Y = "buy_x_get_y"
LOYALTY = "loyalty"
NEXT_ORDER = "next_order_coupons"
KINDS = (PROMOTION, PROMO_CODE, COUPONS, BUY_X_GET_Y, LOYALTY, NEXT_ORDER)

# phases, in order of application
ITEMS = 0          # rewards on matching lines (buy X get Y, percent/fixed on items or categories)
ORDER = 1          # rewards on the order (percent/fixed on what is left after the item rewards)
POINTS = 2         # loyalty points on what the customer pays
ISSUE = 3          # next-order coupons to print

FREE = 0           # line marks: not yet taken by an item reward
TAKEN = 1
GIVEN = 2          # taken, and its free pieces already given (buy X get Y)
OFFERED = 3        # a buy X get Y line still in the running for free pieces


class PromoError(ValueError):
    """A program, a coupon or a code refused; the message says what to do."""


def half_up(n, d):
    """n / d rounded half away from zero (n >= 0, d > 0): the cart's rounding."""
    return (2 * n + d) // (2 * d)


def _int(d, k, default=0):
    v = d.get(k, default)
    if type(v) is not int or v < 0:
        raise PromoError("program %s: %s must be a whole number >= 0" % (d.get("id"), k))
    return v


class Program:
    __slots__ = ("id", "name", "kind", "phase", "seq", "code", "skus", "cats", "min_amount", "min_qty",
                 "start", "end", "days", "hours", "bp", "fixed", "cap", "buy", "free", "exclusive",
                 "members", "per_amount", "per", "per_item", "per_order", "issues")

    def __init__(self, d):
        self.id = str(d.get("id") or "")
        if not self.id:
            raise PromoError("a program without an id: fix the program list")
        self.name = str(d.get("name") or self.id)
        self.kind = d.get("type", PROMOTION)
        if self.kind not in KINDS:
            raise PromoError("program %s: unknown type %s" % (self.id, self.kind))
        self.seq = _int(d, "sequence", 100)
        self.code = str(d.get("code") or "")
        if self.kind == PROMO_CODE and not self.code:
            raise PromoError("program %s: a promo code program needs its code" % self.id)
        rule = d.get("rule") or {}
        self.skus = tuple(sorted(str(s) for s in rule.get("skus", ())))
        self.cats = tuple(sorted(int(c) for c in rule.get("categories", ())))
        self.min_amount = _int(rule, "min_amount")
        self.min_qty = _int(rule, "min_qty")
        self.start = _int(rule, "start")
        self.end = _int(rule, "end")
        self.days = tuple(int(x) for x in rule.get("days", ()))       # 0 Monday .. 6 Sunday
        h = rule.get("hours") or (0, 24)
        self.hours = (int(h[0]), int(h[1]))
        self.members = bool(rule.get("members_only", False))
        rew = d.get("reward") or {}
        self.bp = _int(rew, "percent")              # basis points: 1000 = 10 %
        self.fixed = _int(rew, "fixed")
        self.cap = _int(rew, "max")
        self.buy = _int(rew, "buy")
        self.free = _int(rew, "free")
        self.exclusive = bool(rew.get("exclusive", False))
        self.per_amount = _int(rew, "points_per_amount")   # points for each `per` minor units paid
        self.per = _int(rew, "per", 100)
        self.per_item = _int(rew, "points_per_item")
        self.per_order = _int(rew, "points_per_order")
        self.issues = str(rew.get("issues") or "")
        if self.kind == BUY_X_GET_Y:
            if not self.buy or not self.free:
                raise PromoError("program %s: buy X get Y needs buy and free above 0" % self.id)
            self.phase = ITEMS
        elif self.kind == LOYALTY:
            if not self.per:
                raise PromoError("program %s: points per 0 minor units" % self.id)
            self.phase = POINTS
        elif self.kind == NEXT_ORDER:
            if not self.issues:
                raise PromoError("program %s: which coupon program does it issue?" % self.id)
            self.phase = ISSUE
        else:
            if not self.bp and not self.fixed:
                raise PromoError("program %s: a percent or a fixed discount is wanted" % self.id)
            if self.bp > 10000:
                raise PromoError("program %s: more than 100 %%" % self.id)
            self.phase = ITEMS if rew.get("on", "order") == "items" else ORDER

    def matches(self, basket, i, cat):
        if not self.skus and not self.cats:
            return True
        if cat in self.cats:
            return True
        return bool(self.skus) and basket.sku(i) in self.skus

    def open_at(self, now):
        """The time window (now: seconds since 1970-01-01, the store's local time)."""
        if self.start and now < self.start:
            return False
        if self.end and now >= self.end:
            return False
        day = now // 86400
        if self.days and (day + 3) % 7 not in self.days:      # 1970-01-01 was a Thursday
            return False
        hour = now % 86400 // 3600
        return self.hours[0] <= hour < self.hours[1]


def _key(p):
    return (p.phase, p.seq, p.id)


def compile_programs(programs):
    """The programs (dicts as the cloud sends them) checked and put in their order of
    application; PromoError names the first bad one."""
    if not isinstance(programs, (list, tuple)):
        raise PromoError("the program list is not a list: reload the programs")
    out = []
    for d in programs:
        if not isinstance(d, dict) or not isinstance(d.get("rule", {}), dict) \
                or not isinstance(d.get("reward", {}), dict):
            raise PromoError("program %d is not an object with a rule and a reward: fix the program list"
                             % (len(out) + 1))
        try:
            out.append(Program(d))
        except PromoError:
            raise
        except (TypeError, ValueError, IndexError):
            raise PromoError("program %s: a field of the wrong kind: fix the program list" % d.get("id"))
    out.sort(key=_key)
    seen = set()
    for p in out:
        if p.id in seen:
            raise PromoError("program %s twice: fix the program list" % p.id)
        seen.add(p.id)
    return out


class Reward:
    __slots__ = ("program", "kind", "text", "discount", "points", "issues")

    def __init__(self, p, discount=0, points=0):
        self.program = p.id
        self.kind = p.kind
        self.discount = discount
        self.points = points
        self.issues = p.issues if p.kind == NEXT_ORDER else ""
        if points:
            self.text = "%s +%d PTS" % (p.name, points)
        elif self.issues:
            self.text = "%s: COUPON BELOW" % p.name
        else:
            self.text = p.name


class Outcome:
    __slots__ = ("rewards", "item_discount", "order_discount", "discount", "points", "issues")

    def __init__(self):
        self.rewards = []
        self.item_discount = 0
        self.order_discount = 0
        self.discount = 0
        self.points = 0
        self.issues = []


def _sums(basket, p, marks):
    """(amount, pieces, last line) of the lines p matches that no item reward took."""
    a = q = 0
    last = -1
    for i in range(basket.n):
        if marks[i] != FREE:
            continue
        cat, pieces, amount = basket.entry(i)
        if amount and p.matches(basket, i, cat):
            a += amount
            q += pieces
            last = i
    return a, q, last


def _eligible(p, a, q, codes, coupons, member, now):
    if p.kind == PROMO_CODE and p.code not in codes:
        return False
    if p.kind == COUPONS and p.id not in coupons:
        return False
    if p.members and member is None:
        return False
    if p.kind == LOYALTY and member is None:
        return False
    return a > 0 and a >= p.min_amount and q >= p.min_qty and p.open_at(now)


def _discount(p, base):
    d = half_up(base * p.bp, 10000) if p.bp else p.fixed
    if p.cap and d > p.cap:
        d = p.cap
    return d if d < base else base


def _share(basket, p, marks, total, amount, last):
    """Item discount `total` over the lines p matches (each its part of `amount`, rounded down,
    the last line the remainder); the lines marked taken."""
    left = total
    for i in range(basket.n):
        if marks[i] != FREE:
            continue
        cat, _, a = basket.entry(i)
        if not a or not p.matches(basket, i, cat):
            continue
        s = left if i == last else total * a // amount
        left -= s
        marks[i] = TAKEN
        if s:
            basket.allot(i, s)


def _buy_x_get_y(basket, p, marks, pieces):
    """For every buy + free matching pieces, `free` of them cost nothing: the cheapest ones
    (by the line's amount per piece; a tie goes to the earlier line).  Weighed lines take no
    part.  The discount given."""
    free = pieces // (p.buy + p.free) * p.free
    if not free:
        return 0                                 # no reward: its lines stay free for the next
    for i in range(basket.n):                    # the matching lines are this reward's
        if marks[i] == FREE:
            cat, q, a = basket.entry(i)
            if a and q and p.matches(basket, i, cat):
                marks[i] = OFFERED
    given = 0
    while free:
        best = -1
        bq = ba = 0
        for i in range(basket.n):
            if marks[i] != OFFERED:
                continue
            _, q, a = basket.entry(i)
            if best < 0 or a * bq < ba * q:     # a/q < ba/bq, in integers
                best, bq, ba = i, q, a
        if best < 0:
            break
        k = free if free < bq else bq
        s = ba if k == bq else ba * k // bq
        marks[best] = GIVEN
        basket.allot(best, s)
        given += s
        free -= k
    for i in range(basket.n):
        if marks[i] == OFFERED:
            marks[i] = TAKEN
    return given


def apply(basket, programs, codes=(), coupons=(), member=None, now=0, marks=None):
    """The rewards the basket earns under `programs` (compiled), in order of application.
    codes: promo codes entered; coupons: program ids of the coupons presented (each checked by
    pos.promo.coupon first); member: the identified member or None (loyalty and members-only
    programs need one); now: seconds since 1970-01-01, store time.  marks: a bytearray of at
    least basket.n bytes to reuse (the cart keeps one)."""
    n = basket.n
    if marks is None:
        marks = bytearray(n)
    else:
        for i in range(n):
            marks[i] = FREE
    out = Outcome()
    subtotal = 0
    for i in range(n):
        subtotal += basket.entry(i)[2]
    left = subtotal
    stop = False
    for p in programs:
        if p.phase == ITEMS:
            a, q, last = _sums(basket, p, marks)
            if not _eligible(p, a, q, codes, coupons, member, now):
                continue
            if p.kind == BUY_X_GET_Y:
                d = _buy_x_get_y(basket, p, marks, q)
            else:
                d = _discount(p, a)
                if d:
                    _share(basket, p, marks, d, a, last)
            if d:
                out.item_discount += d
                left -= d
                out.rewards.append(Reward(p, d))
            continue
        # conditions of the later phases: the matching lines before any promotion
        a = q = 0
        for i in range(n):
            cat, pieces, amount = basket.entry(i)
            if amount and p.matches(basket, i, cat):
                a += amount
                q += pieces
        if not _eligible(p, a, q, codes, coupons, member, now):
            continue
        if p.phase == ORDER:
            if stop or not left:
                continue
            d = _discount(p, left)
            if d:
                out.order_discount += d
                left -= d
                out.rewards.append(Reward(p, d))
                stop = p.exclusive
        elif p.phase == POINTS:
            pts = p.per_order + p.per_item * q + (left // p.per) * p.per_amount
            if pts:
                out.points += pts
                out.rewards.append(Reward(p, 0, pts))
        else:
            out.issues.append(p.issues)
            out.rewards.append(Reward(p))
    out.discount = out.item_discount + out.order_discount
    return out
