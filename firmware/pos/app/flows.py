# Merchant flows beyond the sale: refund, void, pre-authorization completion,
# tip adjust.  Each is a chain of screens; protected steps ask for an operator
# PIN with the right role first (pos.app.operators).  Flows that refer to an
# earlier transaction find it by invoice number in the open batch
# (pos.app.batch); the card number comes from the engine's journal, sealed
# under the key store's data key, and is never shown or kept in RAM longer
# than the request takes.
from pos import hw, log
from pos.app import batch, card, counters, money, operators, services, status
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import AmountEntry, Info, format_amount

CURRENCY = card.CURRENCY


class PinPrompt(Screen):
    """An operator PIN for `action` (asterisks only); on_ok(operator) -> stack action."""
    timeout_ms = 30000

    def __init__(self, title, action, on_ok):
        self.title = title
        self.action = action
        self.on_ok = on_ok
        self.buf = bytearray(8)
        self.n = 0
        self.error = ""
        self.tries = 0

    def draw(self, c):
        c.title(self.title)
        c.text(t("supervisor_pin") if operators.NEEDS.get(self.action) != "cashier" else t("operator_pin"), 0)
        c.center("*" * self.n, 2, scale=2)
        if self.error:
            c.center(self.error, 5)
        c.footer(t("pin_footer"))

    def _wipe(self):
        for i in range(len(self.buf)):
            self.buf[i] = 0
        self.n = 0

    def on_key(self, key):
        if key == "CANCEL":
            self._wipe()
            return ("pop",)
        if key == "CLEAR":
            if self.n:
                self.n -= 1
            return "redraw"
        if len(key) == 1 and "0" <= key <= "9" and self.n < len(self.buf):
            self.buf[self.n] = ord(key)
            self.n += 1
            self.error = ""
            return "redraw"
        if key == "ENTER" and self.n:
            pin = bytes(self.buf[:self.n]).decode()
            self._wipe()
            try:
                op = operators.check(pin, self.action)
            except operators.OperatorError as exc:
                return ("replace", Info(self.title, [str(exc)[:28]]))
            pin = None
            if op:
                log.info("app", "operator", id=op.id, action=self.action)
                return self.on_ok(op)
            self.tries += 1
            self.error = t("not_allowed") if op is False else t("wrong_pin")
            if self.tries >= 3:
                return ("replace", Info(self.title, [self.error]))
            return "redraw"
        return None


class NumberEntry(Screen):
    """Digits (an invoice number); on_done(int) -> stack action."""
    timeout_ms = 60000

    def __init__(self, title, prompt, on_done, digits=6):
        self.title = title
        self.prompt = prompt
        self.on_done = on_done
        self.digits = digits
        self.s = ""
        self.error = ""

    def draw(self, c):
        c.title(self.title)
        c.text(self.prompt, 0)
        c.center(self.s or "_", 2, scale=2)
        if self.error:
            c.center(self.error[:28], 5)
        c.footer("ENTER ok  CLEAR  CANCEL")

    def on_key(self, key):
        if key == "CANCEL":
            return ("pop",)
        if key == "CLEAR":
            self.s = self.s[:-1]
            return "redraw"
        if len(key) == 1 and "0" <= key <= "9" and len(self.s) < self.digits:
            self.s += key
            self.error = ""
            return "redraw"
        if key == "ENTER" and self.s:
            r = self.on_done(int(self.s))
            if isinstance(r, str):           # an error to show here
                self.error = r
                self.s = ""
                return "redraw"
            return r
        return None


def _original_request(kind, e, amount, eng):
    """An AuthRequest for `kind` referring to batch entry `e` (card not present:
    the PAN is unsealed from the engine's journal)."""
    from pos.payments.authorizer import AuthRequest
    if not e.get("stan"):
        raise ValueError(t("no_host_record"))
    stan = int(e["stan"])
    d = eng.details((stan,)).get(stan)
    if d is None or "ps" not in d:
        raise ValueError("invoice %06d: no card data in the journal" % e["inv"])
    pan, _, exp = eng.keystore.unseal(d["ps"]).partition("=")
    return AuthRequest(kind, amount, d["cur"], pan, exp or None, entry_mode="manual",
                       scheme=e.get("scheme") or None, original=eng.original(stan))


def _referenced(kind, merchant, e, amount, op):
    """Send `kind` (void/refund/completion) for entry `e`; the result screen."""
    if kind == "void" and not e.get("stan"):
        return _void_unsent(merchant, e, amount, op)
    eng = services.engine()
    try:
        req = _original_request(kind, e, amount, eng)
    except Exception as exc:
        return ("replace", Info(t(kind), [str(exc)[:28]]))
    resp = eng.authorize(req)
    req = None
    ok = resp.approved
    mid, tid = services.terminal_ids(resp.acquirer or None)
    n = {"inv": counters.next_invoice(), "kind": kind, "tender": "card", "amount": amount,
         "result": t("approved") if ok else t("declined"), "ok": ok, "entry": "MANUAL",
         "pan": e.get("pan", ""), "label": e.get("label", ""), "aid": e.get("aid", ""),
         "scheme": e.get("scheme", ""), "auth": resp.auth_code, "rc": resp.response_code,
         "text": resp.text, "mid": mid, "tid": tid, "stan": resp.stan, "rrn": resp.rrn,
         "acq": resp.acquirer, "orig": e["inv"], "op": op.name}
    n["ref"] = "%s-%06d" % (tid or "T", n["inv"])
    if ok:
        batch.record(n)
        if kind == "void":
            batch.mark(e["inv"], voided=True)
        elif kind == "completion":
            batch.mark(e["inv"], completed=True)
        counters.record_sale({"void": "void", "refund": "card_refund", "completion": "card"}[kind],
                             amount)
    msg = card.print_both(hw.printer(), merchant, n)
    return ("replace", card.CardResult(merchant, n, msg))


def _void_unsent(merchant, e, amount, op):
    """Void of an offline approval that has no host record (its advice was never queued):
    no host has it and no batch upload will bring it, so nothing is sent; the sale stops
    counting here."""
    n = {"inv": counters.next_invoice(), "kind": "void", "tender": "card", "amount": amount,
         "result": t("approved"), "ok": True, "entry": "MANUAL", "pan": e.get("pan", ""),
         "label": e.get("label", ""), "aid": e.get("aid", ""), "scheme": e.get("scheme", ""),
         "auth": "", "rc": "", "text": t("no_host_record"), "mid": e.get("mid", ""), "tid": e.get("tid", ""),
         "stan": "", "rrn": "", "acq": "", "orig": e["inv"], "op": op.name}
    n["ref"] = "%s-%06d" % (n["tid"] or "T", n["inv"])
    batch.record(n)
    batch.mark(e["inv"], voided=True)
    counters.record_sale("void", amount)
    log.info("app", "void without host record", inv=e["inv"])
    msg = card.print_both(hw.printer(), merchant, n)
    return ("replace", card.CardResult(merchant, n, msg))


def _find(inv, kinds, verb):
    e = batch.find(inv)
    # a gift-card sale is refunded to its card (pos.app.giftcard); only cards do the rest
    tenders = ("card", "gift") if verb == "refund" else ("card",)
    if e is None or e.get("tender") not in tenders or e.get("kind") not in kinds or not e.get("ok"):
        return None, t("not_found")
    if e.get("voided"):
        return None, t("already_voided")
    if verb == "completion" and e.get("completed"):
        return None, t("not_found")
    return e, None


def void(merchant):
    def with_op(op):
        def got(inv):
            e, err = _find(inv, ("sale", "completion", "refund"), "void")
            if err:
                return err
            return _referenced("void", merchant, e, e["amount"] + e.get("tip", 0), op)
        return ("replace", NumberEntry(t("void"), t("original_inv"), got))
    return ("push", PinPrompt(t("void"), "void", with_op))


def refund(merchant):
    def with_op(op):
        def got(inv):
            e, err = _find(inv, ("sale", "completion"), "refund")
            if err:
                return err
            # the original amount prefilled; more than it is refused at ENTER, the entry kept
            limit = e["amount"] + e.get("tip", 0)
            if e["tender"] == "gift":
                from pos.app.giftcard import GiftCardRefund
                return ("replace", AmountEntry(t("refund"), lambda a: ("replace", GiftCardRefund(merchant, e, a, op)),
                                               CURRENCY, money.EXPONENT, limit=limit, initial=limit))
            return ("replace", AmountEntry(t("refund"), lambda a: _referenced("refund", merchant, e, a, op),
                                           CURRENCY, money.EXPONENT, limit=limit, initial=limit))
        return ("replace", NumberEntry(t("refund"), t("original_inv"), got))
    return ("push", PinPrompt(t("refund"), "refund", with_op))


def preauth(merchant):
    return ("push", AmountEntry(t("preauth"), lambda a: ("replace", card.CardTender(merchant, a, "preauth")),
                                CURRENCY, money.EXPONENT))


def completion(merchant):
    op = status.operator or operators.Operator("1", "CASHIER", "cashier")

    def got(inv):
        e, err = _find(inv, ("preauth",), "completion")
        if err:
            return err
        # completion may not exceed the authorized amount by more than 15 % (acquirer rule)
        limit = e["amount"] * 115 // 100
        return ("replace", AmountEntry(t("completion"), lambda a: _referenced("completion", merchant, e, a, op),
                                       CURRENCY, money.EXPONENT, limit=limit, initial=e["amount"]))
    return ("push", NumberEntry(t("completion"), t("original_inv"), got))


def tip_adjust(merchant):
    def got(inv):
        e, err = _find(inv, ("sale", "completion"), "tip")
        if err:
            return err

        def tip_done(tip):
            if not e.get("stan"):
                return ("replace", Info(t("tip_adjust"), [t("no_host_record")]))
            eng = services.engine()
            try:
                from pos.payments.adjust import adjust
                adjust(eng, int(e["stan"]), e["amount"] + tip)
            except Exception as exc:
                return ("replace", Info(t("tip_adjust"), [str(exc)[:28]]))
            n = batch.mark(e["inv"], tip=tip)
            counters.record_sale("tip", tip)
            msg = card.print_both(hw.printer(), merchant, n)
            return ("replace", Info(t("tip_adjust"), ["%s %06d" % (t("invoice"), inv),
                                                     "%s %s" % (t("tip"), format_amount(tip, CURRENCY)),
                                                     "%s %s" % (t("total"), format_amount(e["amount"] + tip, CURRENCY)),
                                                     msg]))
        # a tip of up to 50 % of the sale (keying-error guard)
        return ("replace", AmountEntry(t("tip"), tip_done, CURRENCY, money.EXPONENT,
                                       limit=max(e["amount"] // 2, 1)))
    return ("push", NumberEntry(t("tip_adjust"), t("original_inv"), got))


def refund_of(merchant, e, op):
    """A card refund of batch entry `e` in full (an installed app's refund, pos.platform)."""
    return _referenced("refund", merchant, e, e["amount"] + e.get("tip", 0), op)
