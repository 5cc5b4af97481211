# Stock at the counter (Menu > Stock, an operator's PIN): goods received against a purchase order
# of the store and stock takes, counted by scanning (pos.catalog.tally) and posted to the cloud's
# device API (docs/stock.md, "At the terminal").
#
#   Receive goods: the store's open orders (GET .../stock/orders), one chosen, its lines with
#       what is still expected and what was counted, over and under marked; ENTER posts the
#       delivery (POST .../stock/receipts).
#   Stock take: the counted items; ENTER posts them to the store's open take (one is opened
#       when none is: POST .../stock/counts) and shows each item's count, the book stock and
#       the variance, with the variance's total in pieces, grams and value.
#
#   scanner: a code adds one (a weight label its grams)    digits ENTER: the last line's count
#   ENTER: post    UP/DOWN: scroll    CLEAR: a digit back    CANCEL: drop the count
#
# Each request is kept on flash before it is sent, with a reference of the terminal's own; an
# answer that does not come leaves it there, and "Send kept count" sends the same bytes again:
# the cloud books a reference once.  The catalog modules load when the menu opens and go with it.
import asyncio

from pos import log
from pos.app import money
from pos.catalog import CatalogError, tally
from pos.ui.screen import Screen
from pos.ui.widgets import Info, Menu, format_amount, wrap

MAX_LINES = 100                 # lines of one count (8 bytes each, pos.catalog.tally)
SHOWN = 9                       # lines on the display at once
TITLE = "STOCK"


def menu(merchant):
    """Menu > Stock: the operator's PIN, then the stock menu."""
    from pos.app.flows import PinPrompt
    return ("push", PinPrompt(TITLE, "stock", lambda op: ("replace", StockMenu(op.name))))


def _link():
    """(tally.Link to the cloud's stock API, the terminal's controller id); CatalogError when
    the terminal is not enrolled in a cloud."""
    import json
    from pos.tms import service
    try:
        with open(service.CONFIG) as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        raise CatalogError("not enrolled in a cloud: Settings > Cloud enrollment")
    token = service.target_token()
    if not token:
        raise CatalogError("no cloud token on this terminal: enrol it again")
    pin = None
    if cfg["url"].startswith("https://"):
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    return tally.Link(cfg["url"], cfg["tenant"], cfg["controller_id"], token, pin), cfg["controller_id"]


def _say(title, text):
    return ("push", Info(title, wrap(text, 28)[:8]))


def _close():
    """The stock screens are gone: their modules let go."""
    from pos import modules
    modules.unload(("pos.app.stock", "pos.catalog.tally", "pos.catalog.store", "pos.catalog.barcode",
                    "pos.catalog"))


class StockMenu(Menu):
    def __init__(self, who):
        self.who = who
        items = [("Receive goods", self._receive), ("Stock take", self._take)]
        if tally.kept() is not None:
            items.append(("Send kept count", self._send_kept))
        super().__init__(TITLE, items)

    def on_key(self, key):
        if key == "CANCEL":
            _close()
        return super().on_key(key)

    def _ready(self):
        """The link, or the reason there is none; a kept request goes first."""
        if tally.kept() is not None:
            raise CatalogError("a count waits to be sent: Send kept count first")
        return _link()

    def _receive(self):
        try:
            link, tid = self._ready()
        except CatalogError as e:
            return _say(TITLE, str(e))
        return ("push", Orders(link, tid))

    def _take(self):
        try:
            link, tid = self._ready()
            screen = Count(link, tid, None)
        except CatalogError as e:
            return _say(TITLE, str(e))
        return ("push", screen)

    def _send_kept(self):
        try:
            link = _link()[0]
        except CatalogError as e:
            return _say(TITLE, str(e))
        return ("push", Sending(link, None))


class Working(Screen):
    """A request to the cloud running; `done()` gives the next stack action."""
    timeout_ms = 0
    title = TITLE

    def start(self, coro):
        self.result = None
        self.task = asyncio.create_task(self._run(coro))

    async def _run(self, coro):
        try:
            self.result = await coro
        except Exception as e:               # HttpError, flash, heap: said on the screen
            self.result = e

    def draw(self, c):
        c.title(self.title)
        c.center("ASKING THE CLOUD", 3)
        c.footer("please wait")

    def tick(self, c):
        if self.task is None or not self.task.done():
            return False
        self.task = None
        return self.done(self.result)


class Orders(Working):
    """The store's purchase orders still to receive; one is chosen to count against."""

    def __init__(self, link, tid):
        self.link, self.tid = link, tid
        self.orders = None
        self.sel = 0
        self.start(link.get("orders"))

    def done(self, result):
        if isinstance(result, Exception):
            return ("replace", Info(TITLE, wrap("cloud not reached: %s" % result, 28)[:6]))
        st, answer = result
        if st != 200:
            return ("replace", Info(TITLE, wrap("cloud answered %d: %s" % (st, answer), 28)[:6]))
        if not answer:
            return ("replace", Info(TITLE, ["no purchase order to receive"]))
        self.orders = answer
        return "redraw"

    def draw(self, c):
        if self.orders is None:
            return Working.draw(self, c)
        c.title("RECEIVE: ORDER")
        for i, po in enumerate(self.orders[:SHOWN]):
            c.text(("PO %d %s %dL" % (po["id"], po["supplier"], len(po["lines"])))[:28], i, inverted=i == self.sel)
        c.footer("ENTER count it  CANCEL")

    def on_key(self, key):
        if self.orders is None:
            return None
        n = min(len(self.orders), SHOWN)
        if key == "UP":
            self.sel = (self.sel - 1) % n
            return "redraw"
        if key == "DOWN":
            self.sel = (self.sel + 1) % n
            return "redraw"
        if key == "CANCEL":
            return ("pop",)
        if key == "ENTER":
            try:
                return ("replace", Count(self.link, self.tid, self.orders[self.sel]))
            except CatalogError as e:
                return ("replace", Info(TITLE, wrap(str(e), 28)[:6]))
        return None


def _qty(qty, unit):
    return "%d.%03dkg" % (qty // 1000, qty % 1000) if unit == 1 else "%d" % qty


class Count(Screen):
    """Counting by scanning: against a purchase order (`order`: {id, supplier, lines [[sku,
    still expected]]}) or for the stock take (`order` None)."""
    timeout_ms = 0                  # a count is never dropped for want of a key press

    def __init__(self, link, tid, order):
        from pos.catalog.store import Catalog
        from pos import hw
        self.link, self.tid, self.order = link, tid, order
        self.tally = tally.Tally(Catalog(), MAX_LINES)
        self.typed = ""
        self.note = ""
        self.top = 0
        self.last = -1              # the line the last scan went to (keyed counts go there)
        sc = hw.scanner()
        if sc is not None:
            sc.flush()              # a code read before the count opened is not this count's

    # -- what is shown -------------------------------------------------------------
    def rows(self):
        """[(text, right)] of the count: the order's lines (counted/expected, over or under)
        then what was scanned and is not on it; or the counted items."""
        t = self.tally
        cat = t.catalog
        out = []
        if self.order is None:
            for i in range(t.n):
                item, qty = t.line(i)
                out.append((item.name, _qty(qty, item.unit)))
            return out
        on_order = []
        for sku, expected in self.order["lines"]:
            on_order.append(sku)
            rec = cat.by_sku(sku)
            item = cat.item(rec) if rec >= 0 else None
            got = t.counted(sku)
            mark = "" if got == expected else ("+%d" % (got - expected) if got > expected else "-%d" % (expected - got))
            name = item.name if item is not None else sku
            out.append((name, "%d/%d%s" % (got, expected, (" " + mark) if mark else "")))
        for i in range(t.n):
            item, qty = t.line(i)
            if item.sku not in on_order:
                out.append((item.name, "%d NOT ORDERED" % qty))
        return out

    def short_over(self):
        """(lines short, lines over, lines not ordered) of a delivery."""
        short = over = extra = 0
        skus = []
        for sku, expected in self.order["lines"]:
            skus.append(sku)
            got = self.tally.counted(sku)
            if got < expected:
                short += 1
            elif got > expected:
                over += 1
        for i in range(self.tally.n):
            if self.tally.line(i)[0].sku not in skus:
                extra += 1
        return short, over, extra

    def draw(self, c):
        if self.order is None:
            c.title("STOCK TAKE", "%d ITEMS" % self.tally.n)
        else:
            c.title("RECEIVE PO %d" % self.order["id"], self.order["supplier"][:10])
        rows = self.rows()
        for r, (name, right) in enumerate(rows[self.top:self.top + SHOWN]):
            room = 27 - len(right)
            c.text(name[:room], r)
            c.text(right, r, col=28 - len(right))
        if self.order is not None:
            short, over, extra = self.short_over()
            c.text(("UNDER %d OVER %d NOT ORDERED %d" % (short, over, extra))[:28], SHOWN + 1)
        for r, part in enumerate(wrap(self.note, 28)[:2]):
            c.text(part, SHOWN + 2 + r)
        if self.typed:
            c.text("COUNT %s_" % self.typed, SHOWN + 4)
        c.footer("ENTER post  CANCEL drop")

    # -- counting ------------------------------------------------------------------
    def tick(self, c):
        from pos import hw
        sc = hw.scanner()
        if sc is None:
            return False
        try:
            code = sc.poll()
            if code is None:
                return False
            item, qty = self.tally.scan(code)
            self.last = self._line_of(item.sku)
            self.note = "%s %s" % (item.name, _qty(qty, item.unit))
        except Exception as e:          # CatalogError, ScannerError: the message, the count kept
            self.note = str(e)
            log.info("stock", "refused", err=self.note)
        self._follow()
        return "redraw"

    def _line_of(self, sku):
        for i in range(self.tally.n):
            if self.tally.line(i)[0].sku == sku:
                return i
        return -1

    def _follow(self):
        """Scroll so that the last counted line shows."""
        n = len(self.rows())
        if n > SHOWN and self.top + SHOWN < n and self.order is None:
            self.top = n - SHOWN

    def on_key(self, key):
        if len(key) == 1 and "0" <= key <= "9" and len(self.typed) < 6:
            self.typed += key
            return "redraw"
        if key == "CLEAR":
            self.typed = self.typed[:-1]
            return "redraw"
        if key == "ENTER" and self.typed:
            q = int(self.typed)
            self.typed = ""
            if self.last < 0:
                self.note = "scan the item first, then key its count"
            else:
                self.tally.set(self.last, q)
                item, qty = self.tally.line(self.last)
                self.note = "%s %s KEYED" % (item.name, _qty(qty, item.unit))
            return "redraw"
        if key == "ENTER":
            return self._post()
        if key == "UP":
            self.top = max(0, self.top - 1)
            return "redraw"
        if key == "DOWN":
            self.top = min(max(0, len(self.rows()) - SHOWN), self.top + 1)
            return "redraw"
        if key == "CANCEL":
            self.tally.catalog.close()
            return ("pop",)
        return None

    def _post(self):
        """The count kept on flash with a new reference, then sent."""
        import json
        t = self.tally
        if not any(t.line(i)[1] for i in range(t.n)) and (self.order is not None or not t.n):
            self.note = "nothing counted yet: scan the goods"
            return "redraw"
        ref = tally.next_ref(self.tid)
        if self.order is None:
            tally.keep("counts", t.body('"ref":%s,"start":true,' % json.dumps(ref)))
        else:
            tally.keep("receipts", t.body('"order_id":%d,"ref":%s,' % (self.order["id"], json.dumps(ref)), False))
        log.info("stock", "kept", ref=ref, lines=t.n)
        return ("push", Sending(self.link, self))


class Sending(Working):
    """The kept request sent; the outcome shown.  `count`: the Count screen it came from (kept
    open when the cloud refuses the count, to correct it), None for a kept count sent again."""

    def __init__(self, link, count):
        self.link, self.count = link, count
        self.start(tally.send_kept(link))

    def done(self, result):
        count = self.count
        if isinstance(result, Exception):
            result = (None, 0, str(result))
        path, st, answer = result
        log.info("stock", "sent", path=path, status=st)
        if st in (200, 201):
            if count is not None:
                count.tally.catalog.close()
            return ("replace", Outcome(path, answer))
        if st == 0 or (st == 409 and "again" in str(answer)) or st in (401, 500, 502, 503):
            if count is not None:
                count.tally.catalog.close()
            text = "NO ANSWER FROM THE CLOUD: COUNT KEPT, SEND IT FROM STOCK > SEND KEPT COUNT"
            return ("replace", Done(TITLE, wrap(text, 28) + wrap(str(answer), 28)[:3]))
        why = answer.get("detail", answer) if isinstance(answer, dict) else answer
        text = "REFUSED (%d): %s" % (st, why)
        if count is not None:               # back to the count to correct it
            count.note = text
            return ("pop",)
        return ("replace", Done(TITLE, wrap(text, 28)[:9]))


class Done(Info):
    """The end of a stock errand: back to Ready, the stock modules let go."""
    timeout_ms = 0

    def on_key(self, key):
        if key in ("CANCEL", "ENTER", "CLEAR"):
            _close()
            return ("home",)
        return None


class Outcome(Done):
    """What the cloud booked: a delivery's lines received of ordered, or the stock take's counts
    with the book stock and the variance per item and in total."""

    def __init__(self, path, answer):
        from pos.catalog.store import Catalog
        self.top = 0
        rows = []
        if path == "receipts":
            title = "RECEIVED PO %d" % answer["id"]
            rows.append("AGAIN: NOTHING BOOKED TWICE" if answer.get("repeated") else "BOOKED, ORDER %s" % answer["state"].upper())
            rows.append("ITEM          RECEIVED/ORDERED")
            for ln in answer["lines"]:
                right = "%d/%d" % (ln["qty_received"], ln["qty_ordered"])
                name = ln["name"][:27 - len(right)]
                rows.append(name + " " * (28 - len(name) - len(right)) + right)
        else:
            title = "STOCK TAKE %d" % answer["take_id"]
            cat = Catalog()
            pieces = grams = value = 0
            rows.append("ITEM      COUNT  BOOK    VAR")
            try:
                for ln in answer["lines"]:
                    rec = cat.by_sku(ln["sku"])
                    item = cat.item(rec) if rec >= 0 else None
                    var = ln["variance"]
                    if item is not None and item.unit == 1:
                        grams += var
                        value += (var * item.price + (500 if var >= 0 else -500)) // 1000
                    else:
                        pieces += var
                        value += var * (item.price if item is not None else 0)
                    name = item.name if item is not None else ln["sku"]
                    rows.append("%-9s%6d%6d%+7d" % (name[:8], ln["counted"], ln["on_hand"], var))
            finally:
                cat.close()
            rows.append("TOTAL VARIANCE %+d PCS" % pieces)
            if grams:
                rows.append("  AND %+dG BY WEIGHT" % grams)
            rows.append("VALUE %s" % format_amount(value, money.CODE, money.EXPONENT))
            if answer.get("repeated"):
                rows.append("AGAIN: NOTHING COUNTED TWICE")
        super().__init__(title, rows)

    def draw(self, c):
        c.title(self.title)
        for i, line in enumerate(self.lines[self.top:self.top + 14]):
            c.text(line[:28], i)
        c.footer("UP/DOWN  ENTER done")

    def on_key(self, key):
        if key == "DOWN" and self.top + 14 < len(self.lines):
            self.top += 1
            return "redraw"
        if key == "UP" and self.top:
            self.top -= 1
            return "redraw"
        return super().on_key(key)
