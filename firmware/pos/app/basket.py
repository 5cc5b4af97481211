# The scan-or-PLU sale (Ready, F2): items scanned or keyed by PLU into the cart
# (pos.catalog.cart), the store's promotions applied after every change (pos.promo.engine,
# config/promotions.json) and coupon QR codes scanned into the sale (pos.promo.coupon), the
# last lines, the savings and the total on the display, then the total is the
# sale's amount for every tender (pos.app.sale.SaleFlow.pay) and the receipt lists the lines
# and the tax per rate (print_lines).  The catalog modules load only here, when the basket
# opens, and go when the sale ends (pos.modules).
#
#   digits ENTER: PLU key    ENTER: pay    F3: void the last line    CLEAR: a digit back
#   F1: the member    MENU: quantity, void a line, price override (supervisor), line and order
#         discount, promo code, the promotions applied (each with its explanation), member
#
# A member (pos.app.member: card, member QR, phone; a member QR scanned into the basket too)
# goes with the sale: shown under the lines, named in the upload, the points earned kept
# provisionally (pos.members.book), printed on the receipt and shown to the customer after.
import time

from pos import hw, log
from pos.app import money
from pos.catalog import CatalogError
from pos.drivers import escpos
from pos.payments.clock import unix_time
from pos.promo import COUPON_PREFIX
from pos.ui.screen import Screen
from pos.ui.widgets import AmountEntry, Info, Menu, format_amount, wrap

CURRENCY = money.CODE
SHOWN = 6                      # lines of the basket on the display (the last ones)
PROGRAMS = "config/promotions.json"
HOLD_MS = 3000                  # a scan that met no heap is read again for this long
NEXT_ORDER_DAYS = 30           # a next-order coupon printed today is good for this many days


def load_programs(path=PROGRAMS):
    """The store's programs compiled once (pos.promo.engine); none when the file is absent."""
    import json
    try:
        with open(path) as f:
            d = json.load(f)
    except OSError:
        return []                       # no programs: the engine is never loaded
    except ValueError:
        raise CatalogError("config/promotions.json unreadable: reload the programs")
    from pos.promo import engine
    try:
        return engine.compile_programs(d.get("programs", ()) if isinstance(d, dict) else d)
    except engine.PromoError as e:
        raise CatalogError(str(e))


def open_basket(merchant):
    """The basket screen, or why there is none (no catalog, store settings unreadable)."""
    from pos.catalog.cart import Cart, load_rules
    from pos.catalog.store import Catalog
    try:
        rules = load_rules()            # first: a bad setting leaves no file open
        programs = load_programs()
        from pos.app import cart_space
        cart = Cart(Catalog(), rules, cart_space.lend(rules.max_lines))
    except CatalogError as e:
        return ("push", Info("BASKET", [str(e)[:28], str(e)[28:56]]))
    return ("push", Basket(merchant, cart, programs))


def _masked(number):
    return "*" + number[-4:]


def _qty(qty, unit):
    return "%d.%03dkg" % (qty // 1000, qty % 1000) if unit == 1 else "x%d" % qty


class Basket(Screen):
    timeout_ms = 600000

    def __init__(self, merchant, cart, programs=()):
        self.merchant = merchant
        self.cart = cart
        self.programs = programs
        self.typed = ""
        self.note = ""
        self.held = None                # a scan that met a moment without heap: (code, until ticks)
        self.issued = []               # next-order coupons of this sale, once paid (texts)
        self.member = None          # pos.members.book.Member once identified
        self.paid_entry = None      # the paid sale's transaction-list entry
        self.programme = None       # pos.members.programme.Programme, loaded with the first member
        self.earned = 0             # points the paid sale earned the member
        self._ckey = None           # the coupon key, once a coupon is scanned (_coupon_key)
        sc = hw.scanner()
        if sc is not None:
            sc.flush()          # a code read before the basket opened is not this sale's

    def draw(self, c):
        cart = self.cart
        c.title("BASKET %d" % cart.n, format_amount(cart.totals()[0], CURRENCY))
        from pos.ui import messages
        zh = messages.language == "zh"
        first = max(0, cart.n - SHOWN)
        for row, i in enumerate(range(first, cart.n)):
            rec, _, qty, _, _, unit, flags = cart.line(i)
            it = cart.catalog.item(rec)
            right = "VOID" if flags & 1 else format_amount(cart.amount(i), CURRENCY)
            q = _qty(qty, unit)
            room = max(1, 28 - 3 - len(q) - 1 - 1 - len(right))    # "NN name qty amount", a space apart
            name = (it.name_zh if zh and it.name_zh else it.name)[:room]
            c.text("%2d %s%s %s" % (i + 1, name, " " * (room - len(name)), q), row)
            c.text(right, row, col=28 - len(right))
        out = cart.outcome
        if out is not None and out.rewards:
            saved = format_amount(out.discount, CURRENCY)
            left = "%d PROMOTION%s MENU" % (len(out.rewards), "S" if len(out.rewards) > 1 else "")
            c.text(left, 6)
            c.text("-" + saved, 6, col=27 - len(saved))
        m = self.member
        if m is not None:
            c.text(("%s %s %dPT SV %s" % (_masked(m.number), m.tier, m.points,
                                          format_amount(m.stored_value, "", money.EXPONENT).strip()))[:28], 10)
        if self.note:
            for row, part in enumerate(wrap(self.note, 28)[:2]):      # broken at spaces
                c.text(part, 7 + row)
        if self.typed:
            c.text("PLU %s_" % self.typed, 9)
        c.footer("ENTER pay/PLU F3 void MENU")

    def tick(self, c):
        sc = hw.scanner()
        if sc is None:
            return False
        code = had = None
        try:
            code = self.held[0] if self.held is not None else sc.poll()
            if code is None:
                return False                # most ticks: nothing scanned, nothing allocated
            had = (self.cart.n, len(self.cart.coupons))
            if code.startswith("SPM1."):      # a member QR (pos.members.qr) shown at the basket
                r = self._member_qr(code)
                self.held = None
                return r
            if code.startswith(COUPON_PREFIX):     # the coupon reader loads only for a coupon
                self.note = self._coupon(code)
            else:
                self.cart.scan(code)
                self.note = ""
            self.held = code = None         # in the sale: never read twice
            self._promote()
        except MemoryError as e:          # a moment without heap (a background pull holds it):
            import gc                     # the scan is kept and read again, never lost unsaid
            gc.collect()
            if had is not None and (self.cart.n, len(self.cart.coupons)) != had:
                code = None                 # it reached the sale before the heap ran out
            if code is None:
                self.held = None
                self.note = str(e)
            else:
                now = time.ticks_ms()
                if self.held is None:
                    self.held = (code, time.ticks_add(now, HOLD_MS))
                if time.ticks_diff(self.held[1], now) > 0:
                    return False
                self.held = None
                self.note = "%s: scan again" % (e,)
            log.warning("basket", "scan failed", err=str(e))
        except Exception as e:            # CatalogError, PromoError, ScannerError: the message, the basket kept
            self.held = None
            self.note = str(e)
            log.info("basket", "refused", err=self.note)
        return "redraw"

    def _do(self, f, *args):
        try:
            f(*args)
            self.note = ""
            self._promote()
        except CatalogError as e:
            self.note = str(e)
        return "redraw"

    # -- promotions and coupons ---------------------------------------------------
    def _promote(self):
        if self.programs:
            self.cart.promote(self.programs, unix_time())

    def _coupon(self, text):
        """A scanned coupon into the sale, or PromoError saying why not (the basket as it was)."""
        from pos.promo import coupon, engine
        key = self._coupon_key()
        if key is None:
            raise engine.PromoError("no coupon key on this terminal: coupons cannot be checked")
        c = coupon.read(text, key, unix_time())
        for had in self.cart.coupons:
            if had.serial == c.serial:
                raise engine.PromoError("coupon %s already in this sale" % c.serial)
        coupon.Redeemed().check(c.serial)
        if not any(p.id == c.program and p.kind == engine.COUPONS for p in self.programs):
            raise engine.PromoError("coupon for %s: no such program running here" % c.program)
        self.cart.coupons.append(c)
        log.info("basket", "coupon", serial=c.serial, program=c.program)
        self._promote()
        out = self.cart.outcome
        if out is not None and any(r.program == c.program for r in out.rewards):
            return "COUPON %s ACCEPTED" % c.serial
        return "COUPON %s KEPT: NOT MET YET" % c.serial

    def _coupon_key(self):
        """The coupon key (None: none on this terminal): the payment engine's open key store
        has it; without the engine the sealed store is opened once for this basket.  Opened on
        each scan, the whole store was read and decrypted again (its blocks asked of the heap
        at every coupon: docs/offline.md, "A coupon scanned right after the catch-up")."""
        if self._ckey is None:
            from pos.app import services
            from pos.store.config import ConfigError
            from pos.store.keystore import KeyStore, KeyStoreError
            eng = services.loaded_engine()
            try:
                ks = eng.keystore if eng is not None else KeyStore("keys.kld", ".")
                self._ckey = ks.secret("coupon")
            except (KeyStoreError, ConfigError):
                return None
        return self._ckey

    def redeem(self, invoice):
        """The sale is paid: its coupons are redeemed on this terminal (never again here; the
        cloud refuses them at upload too) and its next-order coupons signed for the receipt."""
        from pos.promo import coupon
        used = coupon.Redeemed()
        for c in self.cart.coupons:
            used.record(c.serial)
            log.info("basket", "coupon redeemed", serial=c.serial, inv=invoice)
        out = self.cart.outcome
        if out is None or not out.issues:
            return
        from pos.app import services
        key = self._coupon_key()
        if key is None:
            log.warning("basket", "no coupon key: next-order coupons not printed")
            return
        tid = "".join(ch for ch in services.terminal_ids()[1] if "0" <= ch <= "9" or "A" <= ch <= "Z")[-8:]
        until = unix_time() // 86400 * 86400 + (NEXT_ORDER_DAYS + 1) * 86400
        for n, prog in enumerate(out.issues):
            self.issued.append(coupon.sign(key, prog, "N%s%06d%d" % (tid, invoice, n), until))

    def _promotions(self):
        out = self.cart.outcome
        rows = []
        if out is not None:
            for r in out.rewards:
                amount = ("-" + format_amount(r.discount, CURRENCY)) if r.discount else ""
                if len(r.text) + 1 + len(amount) <= 28:
                    rows.append(r.text + " " + amount)
                else:                                   # the explanation whole, the amount below it
                    rows.append(r.text[:28])
                    rows.append(" " * (28 - len(amount)) + amount)
        for c in self.cart.coupons:
            rows.append("COUPON %s %s" % (c.serial, c.program))
        return ("replace", Info("PROMOTIONS", rows[:9] or ["no promotion applies"]))

    def _promo_code(self):
        from pos.app.flows import NumberEntry

        def entered(number):
            from pos.promo import engine
            code = str(number)
            if code in self.cart.codes:
                self.note = "promo code %s already in this sale" % code
            elif any(p.kind == engine.PROMO_CODE and p.code == code for p in self.programs):
                self.cart.codes.append(code)
                self._promote()
                self.note = "PROMO CODE %s TAKEN" % code
            else:
                self.note = "promo code %s: no such promotion here" % code
            return ("pop",)
        return ("replace", NumberEntry("Promo code", "Promo code", entered, 8))

    def on_key(self, key):
        cart = self.cart
        if len(key) == 1 and "0" <= key <= "9" and len(self.typed) < 5:
            self.typed += key
            return "redraw"
        if key == "CLEAR":
            self.typed = self.typed[:-1]
            return "redraw"
        if key == "ENTER" and self.typed:
            n = int(self.typed)
            self.typed = ""
            return self._do(cart.plu, n)
        if key == "ENTER" and cart.n:
            return self._pay()
        if key == "F3" and cart.n:
            return self._do(cart.void, cart.n - 1)
        if key == "MENU" and cart.n:
            return ("push", self._menu())
        if key == "F1":
            return self._member_screen("push")
        if key == "CANCEL":
            self.end()                    # nothing paid: its coupons stay unredeemed
            return ("pop",)
        return None

    def end(self):
        """The sale is over (paid or cancelled): the catalog file closed, its modules let go."""
        from pos.app import batch
        batch.paying = None
        self.cart.catalog.close()
        from pos import modules
        # the member's own modules (pos.app.member, pos.members: book, points, programme) stay:
        # loaded at boot on a counter with a member programme (main.py), or at the first member
        # sale, they are not loaded again into a heap a day of sales has fragmented; the
        # modules table itself is made at boot at its full size (pos.modules.reserve)
        modules.unload(("pos.catalog.cart", "pos.catalog.store", "pos.catalog.barcode", "pos.catalog",
                        "pos.promo.coupon", "pos.promo.engine", "pos.promo", "pos.app.basket",
                        "pos.members.qr", "pos.members.enrol"))
        if self.member is not None and self.paid_entry is not None:
            from pos.app.member import MemberThanks
            return ("replace", MemberThanks(self.member, self.earned, self.programme))
        return None

    # -- the member ----------------------------------------------------------------
    def _programme(self):
        if self.programme is None:
            from pos.members import programme
            self.programme = programme.load()
        return self.programme

    def _member_screen(self, how):
        from pos.app import member
        from pos.members import MemberError
        try:
            return (how, member.MemberScreen(self, self._programme()))
        except MemberError as e:
            return (how, Info("MEMBER", [str(e)[:28], str(e)[28:56]]))

    def member_found(self, m):
        """The member identified (card, QR, phone); their recommended items (the member copy's
        "often bought with", docs/insights.md) shown as the basket's note: up to three names
        from the catalog, none already in the basket, none the catalog lacks."""
        self.member = m
        self.note = ""
        cart = self.cart
        names = []
        if m.recommended:
            from pos.ui import messages
            zh = messages.language == "zh"
            have = [cart.catalog.sku(cart.line(i)[0]) for i in range(cart.n)]
            for sku in m.recommended:
                rec = -1 if type(sku) is not str or len(sku) > 12 or sku in have else cart.catalog.by_sku(sku)
                if rec >= 0:
                    it = cart.catalog.item(rec)
                    names.append(it.name_zh if zh and it.name_zh else it.name)
                    if len(names) == 3:
                        break
            if names:
                self.note = messages.t("often_bought") + " " + ", ".join(names)

    def _member_qr(self, code):
        from pos.app import member
        from pos.members import MemberError
        try:
            self.member_found(member.from_qr(code, self._programme()))
        except MemberError as e:
            self.note = str(e)
            log.info("basket", "member refused", err=self.note)
        return "redraw"

    def paid(self, entry):
        """The sale is paid: its transaction-list entry, as the tender that took the whole total
        writes it (pos.app.batch.record, whatever the tender), gets the basket's lines and
        discounts, its coupons (serial, program, discount: the cloud marks them used) and the
        member's number (the upload names the member); the points it earns are kept
        provisionally until the cloud has booked them (pos.members.book).  One entry a basket:
        a part of a split tender, or anything else written meanwhile, is left as it is."""
        from pos.app import batch
        if (self.paid_entry is not None or entry.get("kind") != "sale" or not entry.get("ok")
                or entry.get("amount") != self.cart.totals()[0]):
            return
        batch.paying = None
        self.paid_entry = entry
        entry["lines"], entry["less"] = self.sold()
        if self.cart.coupons:
            out = self.cart.outcome
            entry["cpn"] = [[c.serial, c.program,
                             sum(r.discount for r in out.rewards if r.program == c.program) if out else 0]
                            for c in self.cart.coupons]
        if self.member is None:
            return
        from pos.members import book, points
        entry["member"] = self.member.number
        self.earned = points.points_for(entry["amount"], self.programme)
        if self.earned:
            book.provisional(entry["inv"], self.member.number, self.earned)
            self.member.pending += self.earned

    def sold(self):
        """The basket as the upload names it (docs/sales-sync.md, "The upload"): the lines
        ([sku, qty, unit price tax included, rate bp], each line not voided; a weighed line as
        one of its amount) and what was taken off at each rate ([bp, amount]: promotions, the
        cashier's discounts and the tax's rounding together), so that the lines less what was
        taken off are the total paid.  The cloud moves stock by these lines (docs/stock.md)."""
        from pos.catalog.cart import VOID
        cart = self.cart
        rules = cart.rules
        lines = []
        gross = {}
        for i in range(cart.n):
            rec, price, qty, disc, tax, unit, flags = cart.line(i)
            if flags & VOID:
                continue
            bp = rules.rates.get(tax, 0)
            each, n = (cart.amount(i) + disc, 1) if unit == 1 else (price, qty)
            if not rules.inclusive:
                each = (each * (10000 + bp) + 9999) // 10000     # up: never below the tax charged
            lines.append([cart.catalog.sku(rec), n, each, bp])
            gross[bp] = gross.get(bp, 0) + n * each
        for _, bp, net, tax in cart.totals()[1]:
            gross[bp] -= net + tax
        return lines, [[bp, gross[bp]] for bp in sorted(gross) if gross[bp] > 0]

    def print_member(self, p):
        """The member on the receipt (masked), the points earned, the balance, the next reward."""
        m = self.member
        if m is None:
            return
        from pos.members import points
        w = escpos.COLUMNS
        p.line("-" * w)
        p.columns("MEMBER " + _masked(m.number), m.tier)
        p.line(m.name[:w])
        p.columns("POINTS EARNED", "+%d" % self.earned)
        p.columns("POINTS BALANCE", "%d" % m.points)
        if m.pending:
            p.line(("  INCL. %d PENDING SYNC" % m.pending)[:w])
        p.columns("STORED VALUE", format_amount(m.stored_value, CURRENCY))
        p.line(("%d POINTS TO NEXT REWARD" % points.next_reward(m.points, self.programme))[:w])
        p.line(self.programme.reward_text[:w])

    # -- the basket's menu -------------------------------------------------------
    def _menu(self):
        last = self.cart.n - 1
        return Menu("BASKET", [
            ("Quantity", lambda: self._number("Quantity", lambda q: self.cart.set_quantity(last, q))),
            ("Void line", lambda: self._number("Void line", lambda n: self.cart.void(n - 1))),
            ("Price override", lambda: self._override(last)),
            ("Line discount", lambda: self._amount("Line discount", lambda a: self.cart.discount_line(last, a))),
            ("Order discount", lambda: self._amount("Order discount", self.cart.discount_order)),
            ("Promo code", self._promo_code),
            ("Promotions", self._promotions),
            ("Member", lambda: self._member_screen("replace")),
        ])

    def _back(self, f, v):
        self._do(f, v)
        return ("pop",)

    def _number(self, title, f):
        from pos.app.flows import NumberEntry
        return ("replace", NumberEntry(title, title, lambda v: self._back(f, v), 5))

    def _amount(self, title, f, allow_zero=True):
        return ("replace", AmountEntry(title, lambda v: self._back(f, v), CURRENCY, money.EXPONENT,
                                       allow_zero=allow_zero))

    def _override(self, i):
        from pos.app.flows import PinPrompt

        def allowed(op):
            log.info("basket", "price override", line=i + 1, op=op.name)
            return self._amount("Price override", lambda a: self.cart.override(i, a, op.name))
        return ("replace", PinPrompt("Price override", "price_override", allowed))

    # -- paying --------------------------------------------------------------------
    def _pay(self):
        from pos.app.sale import SaleFlow
        from pos.app import batch
        total = self.cart.totals()[0]
        flow = SaleFlow(hw.printer(), self.merchant, basket=self)
        batch.paying = self             # the tender that pays the total writes the basket's entry
        return flow.pay(total)

    def print_lines(self, p):
        """The basket on a receipt: each line, its discount, override or promotion, the rewards
        with their explanations, the coupons, then the tax per rate."""
        cart = self.cart
        w = escpos.COLUMNS
        for i in range(cart.n):
            rec, price, qty, disc, _, unit, flags = cart.line(i)
            it = cart.catalog.item(rec)
            p.line(it.name[:w])
            if flags & 1:
                p.columns("  VOID", "")
                continue
            each = format_amount(price, "", money.EXPONENT).strip() + ("/kg" if unit == 1 else "")
            p.columns("  %s x %s" % (_qty(qty, unit) if unit == 1 else qty, each), format_amount(cart.amount(i) + disc, CURRENCY))
            for j, who in cart.overrides:
                if j == i:
                    p.line(("  PRICE SET BY " + who)[:w])
            if disc:
                p.columns("  LINE DISCOUNT", "-" + format_amount(disc, CURRENCY))
            if cart.promoted(i):
                p.columns("  PROMOTION", "-" + format_amount(cart.promoted(i), CURRENCY))
        p.line("-" * w)
        p.columns("SUBTOTAL", format_amount(cart.subtotal(), CURRENCY))
        out = cart.outcome
        for r in (out.rewards if out is not None else ()):
            # each reward with its explanation (docs/promotions.md, "On screen and receipt")
            amount = ("-" + format_amount(r.discount, CURRENCY)) if r.discount else ""
            p.columns(r.text[:w - len(amount) - 1], amount)
        for c in cart.coupons:
            p.line(("  COUPON %s (%s)" % (c.serial, c.program))[:w])
        if cart.order_discount:
            p.columns("ORDER DISCOUNT", "-" + format_amount(min(cart.order_discount, cart.subtotal()), CURRENCY))
        total, rates = cart.totals()
        inc = cart.rules.inclusive
        for _, bp, net, tax in rates:
            p.columns("TAX %d.%02d%% %s %s" % (bp // 100, bp % 100, "IN" if inc else "ON",
                                               format_amount(net + tax if inc else net, CURRENCY)),
                      format_amount(tax, CURRENCY))

    def print_coupons(self, p):
        """The sale's next-order coupons at the end of its receipt: each a QR code and its last day."""
        if not self.issued:
            return
        from pos.promo import coupon
        for text in self.issued:
            p.line("-" * escpos.COLUMNS)
            p.line("NEXT VISIT COUPON")
            p.qr(text)
            p.line("GOOD UNTIL %s" % coupon.date(int(text.split(":")[3]) - 1))
