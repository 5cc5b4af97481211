# Card tender: INSERT CARD, the EMV contact transaction, receipts, the result.
#
# The kernel (pos.emv.kernel) runs modally while the card is in the slot; the
# engine (pos.payments.engine) is its authorizer, so online requests, advices of
# offline approvals, reversals and the batch all go through the journal.
import gc
import time

from pos import hw, log
from pos import collector
from pos.app import batch, counters, money, receipt, services, status
from pos.app.modal import ModalUI
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import format_amount

CURRENCY = money.CODE
# EMV Contactless Book A 9.2: after the outcome the four lights stay on for 750 ms
# (+/- 250 ms), then go dark
LIGHTS_MS = 750
_ENTRY = {"chip": "CHIP", "contactless": "CONTACTLESS", "swipe": "SWIPE", "fallback": "FALLBACK"}


def _sign_on_missing(notify):
    from pos.app import signon
    return signon.sign_on_missing(notify)


def reader():
    return hw.contact_reader()


def run_contact(rdr, ui, amount, kind="sale", force_online=False, offer=None):
    """One EMV contact transaction on the card in `rdr`: (outcome, batch entry).
    offer: pos.app.offer.CardOffer (a bank's card-linked offer lowers the amount before the
    first GENERATE AC).  Never raises for card, host or cardholder trouble: the outcome says."""
    from pos.emv.outcome import Outcome, TERMINATED
    rec = services.Recorder(services.engine())
    gc.collect()
    o = None
    try:
        rdr.power_on()
        k = services.kernel(rdr.transmit, ui, rec)
        gc.collect()
        log.info("card", "kernel start", heap_free=gc.mem_free())
        io0 = rdr.io_us if hasattr(rdr, "io_us") else 0
        t0 = time.ticks_us()
        with collector.HeldOff():
            o = k.process(amount, kind, 0, force_online, offer)
        total = time.ticks_diff(time.ticks_us(), t0)
        card_us = (rdr.io_us - io0) if hasattr(rdr, "io_us") else 0
        # ui_us: the cardholder's PIN entry; terminal = what the firmware itself spent
        log.info("card", "emv done", result=o.result, total_ms=total // 1000, card_ms=card_us // 1000,
                 host_ms=rec.host_us // 1000, ui_ms=ui.wait_us // 1000,
                 terminal_ms=(total - card_us - rec.host_us - ui.wait_us) // 1000)
    except Exception as exc:     # reader faults before the kernel could take the card
        o = Outcome()
        o.result = TERMINATED
        o.message = getattr(exc, "reason", None) or str(exc)
        log.warning("card", "card error", err=repr(exc))
        if isinstance(exc, MemoryError):
            import sys
            sys.print_exception(exc)
    finally:
        try:
            rdr.power_off()
        except Exception:
            pass
    try:
        return _contact_result(o, rdr, ui, amount, kind, rec, offer)
    except Exception:                # MemoryError included: the one outcome rule
        unrecorded(rec)
        raise


def _contact_result(o, rdr, ui, amount, kind, rec, offer=None):
    from pos.emv.outcome import TERMINATED
    if o.result == TERMINATED and not ui.cancelled and not rdr.present():
        ui.cancelled = "card_removed"      # pulled out while the kernel talked to it
    if ui.cancelled:
        o.message = {"cancelled": t("cancelled"), "card_removed": t("card_removed")}.get(ui.cancelled,
                                                                                          t("timed_out"))
    return o, _entry(o, amount, kind, rec, offer=offer)


def unrecorded(rec):
    """The flow raised after the host's reply: an approval that has no batch entry is
    reversed (the one outcome rule: the cashier saw no APPROVED); the background sender
    sends the reversal while the terminal is idle.  One that reached the batch stays."""
    resp = rec.resp
    stan = "%06d" % rec.advice_stan if rec.advice_stan else (getattr(resp, "stan", "") if resp is not None else "")
    try:
        if stan:
            for x in batch.each():
                if x.get("tender") == "card" and x.get("ok") and x.get("stan") == stan:
                    return False
    except Exception as exc:         # the batch cannot be read: boot reconciliation decides
        log.error("card", "batch not readable", err=repr(exc))
        return False
    return rec.recorded(False)


def _entry(o, amount, kind, rec, entry="CHIP", offer=None):
    resp = rec.resp
    if offer is not None and offer.match is not None:
        amount = offer.amount        # what the card was asked for: the bank funds the rest
    # an offline approval has no host reply: its acquirer is the one its advice (0220) goes to
    acq = getattr(resp, "acquirer", "") or (rec.engine.route(rec.req) if rec.advice_stan else "")
    mid, tid = services.terminal_ids(acq or None)
    if o.result == "approved":
        result = t("approved")
    elif o.result == "declined":
        result = t("declined")
    else:
        result = t("not_completed")
    e = {"inv": counters.next_invoice(), "kind": kind, "tender": "card", "amount": amount,
         "result": result, "ok": o.result == "approved", "entry": entry, "pan": o.masked_pan,
         "label": o.label, "aid": o.aid, "scheme": o.scheme, "tvr": o.tvr, "tsi": o.tsi,
         "ctype": o.cryptogram_type, "cryptogram": o.cryptogram, "cvm": o.cvm,
         "cvmr": o.cvm_results, "cid": o.cid, "atc": o.atc,
         "sig": o.signature_required, "auth": o.auth_code or ("Y1" if o.arc == "Y1" else o.arc if o.arc == "Y3" else ""),
         "rc": o.response_code, "text": o.message, "mid": mid, "tid": tid,
         "stan": getattr(resp, "stan", "") or ("%06d" % rec.advice_stan if rec.advice_stan else ""), "rrn": getattr(resp, "rrn", ""),
         "acq": acq, "online": o.online,
         "op": status.operator.name if status.operator else "CASHIER", "ref": "", "at": 0}
    # "ref" and "at" (batch.record's time) are in the literal (the table is made for every key
    # at once): a key added after it grew the table mid-sale (to 37 entries, 592 B) and an
    # approved sale met MemoryError there
    e["ref"] = "%s-%06d" % (tid or "T", e["inv"])
    if offer is not None:
        offer.record(e)
    bal = balance(getattr(resp, "amounts", "") if resp is not None else "")
    if bal is not None:
        e["balance"] = bal[1]
    if kind == "balance":
        return e                     # nothing charged: not in the batch
    if e["ok"]:
        batch.record(e)
        counters.record_sale("card" if kind != "refund" else "card_refund", amount)
    else:
        rec.recorded(False)          # a host approval the terminal did not take: reversed
    return e


def balance(amounts):
    """(currency, minor units) of the first available/ledger balance in ISO 8583:1987 DE 54
    (account type 2, amount type 2, currency 3, C/D 1, amount 12 per entry), or None."""
    a = amounts or ""
    for i in range(0, len(a) - 19, 20):
        if a[i + 2:i + 4] in ("02", "01"):
            v = int(a[i + 8:i + 20])
            return a[i + 4:i + 7], -v if a[i + 7] == "D" else v
    return None


def print_both(printer, merchant, e):
    """Merchant copy then customer copy; returns the message for the screen."""
    def both(p):
        receipt.print_card(p, merchant, e, CURRENCY, copy="MERCHANT COPY")
        receipt.print_card(p, merchant, e, CURRENCY, copy="CUSTOMER COPY")
    return receipt.printed(both, printer)


def run_swipe(swipe, amount, kind, chip_failed):
    """A swipe on the magstripe reader: (entry or None, message).  A chip card is refused with
    INSERT CHIP unless its chip failed on this transaction (then: fallback, DE 22 80)."""
    from pos.payments import magstripe as M
    y, mo = time.localtime()[:2]
    try:
        c = M.read_card(swipe)
        mode = M.evaluate(c, chip_failed, "%02d%02d" % (y % 100, mo))
    except ValueError as exc:
        return None, str(exc)[:28]
    if mode == M.INSERT_CHIP:
        return None, t("insert_chip")
    rec = services.Recorder(services.engine())
    resp = rec.authorize(M.auth_request(c, amount, money.NUMERIC, mode, kind))
    try:
        return _swiped(rec, resp, c, mode, amount, kind)
    except Exception:                # MemoryError included
        unrecorded(rec)
        raise


def _swiped(rec, resp, c, mode, amount, kind):
    """The batch entry of a swipe the host answered: (entry, "")."""
    from pos.log import mask_pan
    mid, tid = services.terminal_ids(resp.acquirer or None)
    e = {"inv": counters.next_invoice(), "kind": kind, "tender": "card", "amount": amount,
         "result": t("approved") if resp.approved else t("declined"), "ok": resp.approved,
         "entry": "FALLBACK" if mode == "fallback" else "SWIPE", "pan": mask_pan(c.pan),
         "label": "MAGSTRIPE", "cvm": "signature", "sig": True, "auth": resp.auth_code,
         "rc": resp.response_code, "text": resp.text, "mid": mid, "tid": tid, "stan": resp.stan,
         "rrn": resp.rrn, "acq": resp.acquirer, "online": True,
         "op": status.operator.name if status.operator else "CASHIER", "ref": "", "at": 0}
    c = None
    e["ref"] = "%s-%06d" % (tid or "T", e["inv"])
    if e["ok"]:
        batch.record(e)
        counters.record_sale("card", amount)
    return e, ""


def run_contactless(nfc, amount, kind="sale", offer=None):
    """One tap on the PN532: Entry Point + the Visa-like online kernel; (outcome, entry).
    offer: pos.app.offer.CardOffer; when it changes the amount, o.tap_again is the new one."""
    from pos.emv.entry import EntryPoint, Indicators
    rec = services.Recorder(services.engine())
    ep = EntryPoint(services.emv_config(), nfc.transmit, rec, Indicators(hw.leds(), hw.buzzer()))
    with collector.HeldOff():
        o = ep.process(amount, kind, offer)
    try:
        return _contactless_result(ep, o, nfc, amount, kind, rec, offer)
    except Exception:                # MemoryError included: the one outcome rule
        unrecorded(rec)
        raise


def _contactless_result(ep, o, nfc, amount, kind, rec, offer=None):
    from pos.emv.entry import Indicators
    if ep.kernel2:
        # Mastercard-like (kernel 2, M/Chip): GPO, records, CDA in GENERATE AC, online with the
        # issuer's ARPC -- the EMV kernel's own flow over the contactless link
        if offer is not None:
            amount = offer.price     # M/Chip: the offer lowers 9F02 before GENERATE AC, in this tap
            offer.ui = ui = ModalUI(status.canvas, status.keypad, amount, CURRENCY, t(kind), money.EXPONENT)
        else:
            ui = ModalUI(status.canvas, status.keypad, amount, CURRENCY, t(kind), money.EXPONENT)
        k = services.kernel(nfc.transmit, ui, rec)
        with collector.HeldOff():
            o = k.process(amount, kind, offer=offer)
        ind = Indicators(hw.leds(), hw.buzzer())
        (ind.success if o.result in ("approved", "declined") else ind.alert)()
    try:
        nfc.release()
    except Exception:
        pass
    status.lights_dark_at = time.ticks_add(time.ticks_ms(), LIGHTS_MS)
    log.info("card", "contactless done", result=o.result, field_ms=ep.field_us // 1000)
    return o, _entry(o, amount, kind, rec, "CONTACTLESS", offer)


class CardTender(Screen):
    """INSERT CARD for `amount` (or swipe); runs the transaction when a card is in the slot
    or a stripe is read."""
    timeout_ms = 60000

    def __init__(self, merchant, amount, kind="sale", on_result=None, chip_failed=False, tip=0, offers=False):
        self.tip = tip                  # included in amount; the receipt shows base + tip
        self.merchant = merchant
        self.amount = amount            # what a tap is for (lowered by a bank's offer: tap again)
        self.price = amount             # what the sale costs before any offer
        # banks' card-linked offers (pos.app.offer) on a sale the card pays in full
        self.offers = offers and kind == "sale" and not tip
        self.offer = None               # CardOffer, made when the first card is read
        self.kind = kind
        self.on_result = on_result      # fn(entry) -> stack action (split tender); None: result screen
        self.chip_failed = chip_failed  # the chip could not be read: a swipe is a fallback
        self.error = t("chip_error_swipe") if chip_failed else ""
        self.nfc_off = False
        # a batch at capacity takes no card until it is settled: refused before the card is
        # read, nothing is lost (the engine refuses a request it has no room for as well)
        eng = services.loaded_engine()
        self.batch_full = eng is not None and eng.batch_full()
        if self.batch_full:
            self.error = t("batch_full")
        hw.payment_readers()

    def _taps(self):
        return self.kind == "sale" and not self.batch_full and not self.chip_failed and not self.nfc_off and hw.nfc() is not None

    def _prompt(self):
        if self.chip_failed or self.batch_full:
            return ""                  # the error line says it: CHIP ERROR: SWIPE CARD, BATCH FULL
        if self._taps():
            return t("tap_insert_swipe")
        if self.kind in ("sale", "refund", "preauth") and hw.msr() is not None:
            return t("use_another_interface")
        return t("insert_card")

    def draw(self, c):
        if self.kind != "balance":
            c.title(t(self.kind), format_amount(self.amount, CURRENCY, money.EXPONENT))
            c.center(format_amount(self.amount, CURRENCY, money.EXPONENT), 1, scale=2)
        else:
            c.title(t(self.kind))
        prompt = self._prompt()
        if prompt:
            c.center(prompt, 4)
        if self.error:
            c.center(self.error[:28], 6)
        if self.offer:
            for i, ln in enumerate(self.offer.note):
                c.center(ln, 7 + i)
        c.footer(t("press_cancel"))
        leds = hw.leds()
        if leds is not None and status.lights_dark_at is None:
            # Book A 9.2 "ready to read": the first light on while a tap is accepted
            leds.show(1 if self._taps() else 0)

    def tick(self, c):
        if self.batch_full:
            return False
        r = reader()
        if r is not None and r.present() and not self.chip_failed:
            return self.run(r)
        n = hw.nfc()
        if n is not None and self.kind in ("sale",) and not self.chip_failed and not self.nfc_off:
            try:
                tgt = n.list_target()
            except Exception as exc:       # two cards: present one; a broken frame: next tick
                if getattr(exc, "reason", "") == "collision":
                    self.error = t("one_card_only")
                    return "redraw"
                tgt = None
            if self.offer and self.offer.lift:
                # the first tap of an offer: wait for the card to leave the field
                if tgt is None:
                    self.error = self.offer.lifted()
                    return "redraw"
                return False
            if tgt is not None:
                o, e = run_contactless(n, self.amount, self.kind, self._offer())
                if status.keypad is not None:
                    status.keypad.flush()
                if o.tap_again:
                    # the card signed the amount it was tapped for: the new one needs a new tap
                    self.amount = o.tap_again
                    self.offer.tapped()
                    self.error = t("remove_card")
                    return "redraw"
                if o.result == "terminated" and "another interface" in o.message:
                    self.error = t("use_another_interface")
                    self.nfc_off = True            # no more taps on this tender: insert or swipe
                    return "redraw"
                if o.result == "terminated":
                    self.error = o.message[:28]
                    return "redraw"
                if self.on_result is not None:
                    return self.on_result(e)
                return ("replace", CardResult(self.merchant, e, print_both(hw.printer(), self.merchant, e)))
        m = hw.msr()
        if m is not None and self.kind in ("sale", "refund", "preauth"):
            try:
                sw = m.poll()
            except ValueError as exc:
                self.error = str(exc)[:28]
                return "redraw"
            if sw is not None:
                e, msg = run_swipe(sw, self.price, self.kind, self.chip_failed)
                if e is None:
                    self.error = msg
                    return "redraw"
                if self.on_result is not None:
                    return self.on_result(e)
                return ("replace", CardResult(self.merchant, e, print_both(hw.printer(), self.merchant, e)))
        return False

    def on_key(self, key):
        if key == "CANCEL":
            return ("pop",)
        if key == "ENTER" and not self.batch_full:
            r = reader()
            if r is None:
                self.error = t("no_reader")
                return "redraw"
            if r.present():
                return self.run(r)
        return None

    def _offer(self, ui=None):
        """The tender's CardOffer (the campaign table read once per tender), or None."""
        if not self.offers:
            return None
        if self.offer is None:
            if not services.offers_ready:
                self.offers = False      # no campaign (or not on this heap): nothing loaded
                return None
            try:
                from pos.app.offer import CardOffer
                self.offer = CardOffer(self.price)
            except MemoryError:          # no offer is better than no sale: the price stands
                log.warning("card", "offers not loaded: out of heap")
                self.offers = False
                return None
        self.offer.ui = ui
        return self.offer

    def run(self, r):
        leds = hw.leds()
        if leds is not None:
            leds.off()                     # a card in the slot: no tap now (Book A 9.2)
        ui = ModalUI(status.canvas, status.keypad, self.price, CURRENCY, t(self.kind), money.EXPONENT,
                     card_present=r.present, before_online_pin=_sign_on_missing)
        try:
            o, e = run_contact(r, ui, self.price, self.kind, force_online=self.kind == "balance",
                               offer=self._offer(ui))
        except services.ServiceError as exc:     # payments cannot start (config, key store refused)
            from pos.ui.widgets import Info
            why = status.keys_error or str(exc)
            return ("replace", Info(t("keys_refused") if status.keys_error else t(self.kind),
                                    [why[i:i + 28] for i in range(0, min(len(why), 28 * 6), 28)]))
        if self.tip and e.get("ok"):        # the batch keeps base and tip apart (reports, adjust)
            e = batch.mark(e["inv"], amount=self.amount - self.tip, tip=self.tip) or e
        if status.keypad is not None:
            status.keypad.flush()          # keys mashed while the card was processed do nothing
        log.info("app", "card result", inv=e["inv"], result=o.result, tvr=o.tvr)
        if (o.result == "terminated" and not o.cryptogram and self.kind in ("sale", "refund", "preauth")
                and o.message and ("not responding" in o.message or "mute" in o.message
                                   or "atr" in o.message.lower() or "not understood" in o.message)):
            # EMV: the chip cannot be read -> the terminal may accept the stripe (fallback)
            return ("replace", CardTender(self.merchant, self.price, self.kind, self.on_result, chip_failed=True))
        if self.on_result is not None:
            return self.on_result(e)
        msg = ""
        if (e["ok"] or o.cryptogram) and self.kind != "balance":
            msg = print_both(hw.printer(), self.merchant, e)
        return ("replace", CardResult(self.merchant, e, msg))


class CardResult(Screen):
    """APPROVED / DECLINED, the approval code; REMOVE CARD while the card is in the slot
    (the line goes when the card is out); F1 reprints both copies."""
    timeout_ms = 30000

    def __init__(self, merchant, e, message=""):
        self.merchant = merchant
        self.e = e
        self.message = message
        r = reader()
        self.card_in = r is not None and r.present()

    def tick(self, c):
        r = reader()
        now_in = r is not None and r.present()
        if now_in != self.card_in:
            self.card_in = now_in
            return "redraw"
        return False

    def draw(self, c):
        e = self.e
        c.title(t(e["kind"]), format_amount(e["amount"], CURRENCY, money.EXPONENT) if e["kind"] != "balance" else "")
        c.center(e["result"], 1, scale=2)
        if "balance" in e:
            c.center("%s %s" % (t("balance"), format_amount(e["balance"], CURRENCY)), 3)
        if e.get("auth"):
            c.center("%s %s" % (t("auth_code"), e["auth"]), 4)
        if e.get("text") and not e["ok"]:
            c.center(e["text"][:28], 5)
        c.center(e.get("pan", ""), 6)
        if self.card_in:
            c.center(t("remove_card"), 7, scale=2)
        c.text(self.message[:28], 9)
        c.footer(t("enter_done_f1_reprint"))

    def on_key(self, key):
        if key == "F1":
            self.message = print_both(hw.printer(), self.merchant, self.e)
            return "redraw"
        if key in ("ENTER", "CANCEL"):
            return ("home",)
        return None
