# The e-wallet tender at the counter (docs/gift-cards.md, "E-wallet"): a member identified on
# the basket spends stored value.  ENTER spends the amount due (or the balance, when less)
# through the cloud under the sale's invoice; with the cloud unreachable the spend is taken
# offline when it fits the day's offline limit and the balance last known (pos.members.wallet),
# kept provisionally and settled by the sale's upload; otherwise the screen says why and the
# sale waits for another tender.
import asyncio

from pos import log
from pos.app import batch, counters, money, status
from pos.members import wallet
from pos.ui.screen import Screen
from pos.ui.widgets import format_amount

CURRENCY = money.CODE


def _day():
    from pos.payments.clock import unix_time
    return unix_time() // 86400


class EWalletTender(Screen):
    timeout_ms = 120000

    def __init__(self, flow):
        self.flow = flow
        self.member = flow.basket.member
        self.due = flow.remaining
        self.balance = wallet.known_balance(self.member)
        self.amount = min(self.due, self.balance)
        self.invoice = 0
        self.task = None
        self.result = None
        self.note = "" if self.amount > 0 else "no stored value to spend"

    def draw(self, c):
        c.title("E-WALLET", format_amount(self.due, CURRENCY))
        c.text("MEMBER *%s" % self.member.number[-4:], 0)
        c.text("STORED VALUE %s" % format_amount(self.balance, CURRENCY), 1)
        if self.task is not None:
            c.text("Asking the cloud ...", 3)
        elif self.amount > 0:
            c.text("ENTER: PAY %s" % format_amount(self.amount, CURRENCY), 3)
            if self.amount < self.due:
                c.text("rest by another tender", 4)
        if self.note:
            c.text(self.note[:28], 6)
            c.text(self.note[28:56], 7)
        c.footer("ENTER pay  CANCEL back")

    async def _spend(self):
        try:
            self.result = await wallet.spend(self.member.number, self.invoice, self.amount)
        except Exception as e:
            self.result = e

    def _answered(self):
        r = self.result
        self.task = None
        if isinstance(r, wallet.Offline):
            room = wallet.offline_room(self.member, self.flow.basket.programme, _day())
            if self.amount > room:
                self.note = "OFFLINE: %s MAX NOW" % format_amount(room, CURRENCY)
                log.info("ewallet", "offline limit", inv=self.invoice, room=room)
                return "redraw"
            wallet.provisional(_day(), self.invoice, self.member.number, self.amount)
            return self._paid(self.balance - self.amount, True)
        if isinstance(r, Exception):
            self.note = str(r)
            log.info("ewallet", "refused", err=self.note)
            return "redraw"
        return self._paid(r, False)

    def _paid(self, left, offline):
        flow = self.flow
        entry = {"inv": self.invoice, "kind": "sale", "tender": "ewallet", "amount": self.amount, "ok": True,
                 "member": self.member.number, "svbal": left,
                 "op": status.operator.name if status.operator else "CASHIER"}
        if offline:
            entry["svoff"] = 1
        counters.record_sale("ewallet", self.amount)
        if self.amount == flow.total and not flow.tenders:
            flow.basket.paid(entry)              # the whole basket: its lines and the member's points
        batch.record(entry)
        if not offline:
            self.member.stored_value = left      # the cloud's balance (offline: wallet.off holds the spend)
        log.info("ewallet", "spent", member=self.member.number[-4:], inv=self.invoice, amount=self.amount,
                 offline=offline)
        flow.notes.append("E-WALLET *%s LEFT %s" % (self.member.number[-4:], format_amount(left, CURRENCY)))
        if offline:
            flow.notes.append("  OFFLINE: PENDING SYNC")
        return flow.paid_by("ewallet", self.amount, self.invoice)

    def tick(self, c):
        if self.task is not None and self.task.done():
            return self._answered()
        return False

    def on_key(self, key):
        if self.task is not None:
            return None
        if key == "CANCEL":
            return ("pop",)
        if key == "ENTER" and self.amount > 0:
            if not self.invoice:
                self.invoice = counters.next_invoice()
            self.note = ""
            self.result = None
            self.task = asyncio.create_task(self._spend())
            return "redraw"
        return None
