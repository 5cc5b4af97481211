# Wallet orders the terminal has opened and not yet closed, on flash (the journal's
# power-safe record format, pos.store.journal), so that a power cut between "the
# customer paid" and "the terminal recorded it" is found at boot and settled:
#
#   ledger = OrderLedger("orders.bin")
#   att = ledger.opening(1250, "000041")            # before the order is asked for
#   ledger.opened("W000012", 1250, "000041", att)   # before the QR code is shown
#   ledger.closed("W000012", "recorded")            # paid and in the batch, or cancelled
#   p = ledger.paying(key, 875, "000042")           # before a customer's code is charged
#   ledger.closed(p, "recorded")                    # in the batch (or declined)
#   ledger.open_orders()                            # {order: amount, ...} still unsettled
#
# Merchant-presented orders have no refund on the wallet side: an order found paid at
# boot is completed (recorded in the batch); one still pending is cancelled, and if the
# cancel answers "paid" it is completed too (pos.app.reconcile).  A customer-presented
# payment left open was never shown as paid: if the wallet charged it, it is reversed.
from pos.store.journal import Journal


class OrderLedger:
    def __init__(self, path="orders.bin", on_write=None):
        self.journal = Journal(path, on_write)
        self.open = len(self.open_orders())     # kept up to date: nobody re-reads the file to know

    def opening(self, amount, reference):
        """Before the order is asked for; returns the attempt tag to ask with.  A power cut
        before opened() leaves this, and the order is found again by asking once more
        with the same tag (same idempotency key: the wallet answers the same order)."""
        import os
        from binascii import hexlify
        att = hexlify(os.urandom(4)).decode()
        self.journal.append({"t": "opening", "amt": amount, "ref": reference, "att": att})
        self.open += 1
        return att

    def opened(self, order, amount, reference, attempt=""):
        self.journal.append({"t": "open", "order": order, "amt": amount, "ref": reference, "att": attempt})

    def paying(self, key, amount, reference):
        """Before a customer-presented code is charged: the payment, by its idempotency
        key, is open as "P:" + key until its batch entry is written (closed "recorded") or
        the wallet declined it; one left open is looked up and, if charged, reversed
        (pos.app.reconcile).  Returns its ledger name."""
        name = "P:" + key
        self.journal.append({"t": "open", "order": name, "amt": amount, "ref": reference, "att": ""})
        self.open += 1
        return name

    def closed(self, order, how):
        """`how`: recorded (in the batch), cancelled, expired."""
        self.journal.append({"t": "closed", "order": order, "how": how})
        self.open = max(0, self.open - 1)

    def open_orders(self):
        """{order: (amount, reference, attempt)} opened and not closed.  An order asked
        for whose number never reached flash is keyed "?" + attempt (pos.app.reconcile
        asks the wallet for it again, idempotently)."""
        out = {}
        for r in self.journal.replay():
            t = r["t"]
            if t == "opening":
                out["?" + r["att"]] = (r["amt"], r["ref"], r["att"])
            elif t == "open":
                out.pop("?" + r.get("att", ""), None)
                out[r["order"]] = (r["amt"], r.get("ref", ""), r.get("att", ""))
            elif t == "closed":
                out.pop(r["order"], None)
        return out

    def compact(self):
        """Start an empty ledger when nothing is open (keeps the file small)."""
        if not self.open and self.journal.count:
            self.journal.rotate([])
