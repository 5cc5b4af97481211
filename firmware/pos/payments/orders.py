# Wallet orders the terminal has opened and not yet closed, on flash (the journal's
# power-safe record format, pos.store.journal), so that a power cut between "the
# customer paid" and "the terminal recorded it" is found at boot and settled:
#
#   ledger = OrderLedger("orders.bin")
#   ledger.opened("W000012", 1250, "000041")        # before the QR code is shown
#   ledger.closed("W000012", "recorded")            # paid and in the batch, or cancelled
#   ledger.open_orders()                            # {order: amount, ...} still unsettled
#
# Merchant-presented orders have no refund on the wallet side: an order found paid at
# boot is completed (recorded in the batch); one still pending is cancelled, and if the
# cancel answers "paid" it is completed too (pos.app.reconcile).
from pos.store.journal import Journal


class OrderLedger:
    def __init__(self, path="orders.bin", on_write=None):
        self.journal = Journal(path, on_write)

    def opened(self, order, amount, reference):
        self.journal.append({"t": "open", "order": order, "amt": amount, "ref": reference})

    def closed(self, order, how):
        """`how`: recorded (in the batch), cancelled, expired."""
        self.journal.append({"t": "closed", "order": order, "how": how})

    def open_orders(self):
        """{order: (amount, reference)} opened and not closed, oldest first by insertion."""
        out = {}
        for r in self.journal.replay():
            if r["t"] == "open":
                out[r["order"]] = (r["amt"], r.get("ref", ""))
            elif r["t"] == "closed":
                out.pop(r["order"], None)
        return out

    def compact(self):
        """Start an empty ledger when nothing is open (keeps the file small)."""
        if not self.open_orders() and self.journal.count:
            self.journal.rotate([])
