# The background sender: what the terminal owes the hosts goes out as soon as they answer
# -- at boot, after the link comes back, with the engine's backoff (config "retry") --
# not only before the next sale.  Owed: reversals and advices in the journal
# (pos.payments.engine), wallet orders left open (pos.app.reconcile).  The Ready screen
# shows how many are waiting (status.pending).
#
#   asyncio.create_task(forward.sender(stack, is_idle))
#
# Work is done only while the terminal is idle (Ready on top), so it never competes
# with a sale for the host link; a sale flushes the journal's queue itself before its
# own request (acquirer rule: reversals first).  A send blocks the loop for at most
# the acquirer's timeout, and only when something is owed and its backoff has run out.
import asyncio
import time

from pos import log
from pos.app import services, status

WALLET_RETRY_MS = 30000         # longest wait between tries for an open order


def owed(path="journal.bin", entries=None):
    """True when the journal may hold work for the engine at boot: a request without an
    answer, a reversal or advice not acknowledged, an approval with no batch entry.  A
    streaming look (one record at a time), so that a terminal whose engine loads on first
    use (small heap) builds it at boot only when there is something to send."""
    import os
    try:
        os.stat(path)
    except OSError:
        return False
    from pos.payments import responses
    from pos.store.journal import Journal
    if entries is None:
        from pos.app import batch
        entries = batch.each()       # streamed: a day's batch does not fit the heap at once
    recorded = set()
    for e in entries:
        if e.get("ok") and e.get("stan"):
            recorded.add(int(e["stan"]))
    open_ = {}                       # STAN -> True while something is owed for it
    j = Journal(path)
    try:
        for r in j.replay():
            t = r["t"]
            s = r.get("stan")
            if t in ("req", "adv", "rev"):
                open_[s] = True
            elif t == "resp":
                open_[s] = responses.approved(r.get("rc", "")) and s not in recorded
            elif t in ("fail", "rev_ok", "adv_ok", "adv_void"):
                open_[s] = False
            elif t == "done" and s in open_:
                open_[s] = s not in recorded
    finally:
        j.close()
    for s in open_:
        if open_[s]:
            return True
    return False



class Sender:
    def __init__(self):
        self.engine = None
        self.reconciled = False
        self.orders_left = 0           # wallet orders found open at the last look
        self._wallet_next = time.ticks_ms()
        self._wallet_tries = 0

    def _engine(self, build=False):
        """The payment engine once it is loaded (by preload, a card sale, or here at boot
        when the journal owes something: build=True)."""
        if self.engine is None:
            self.engine = services.loaded_engine()
            if self.engine is None and build:
                try:
                    self.engine = services.engine()
                except Exception as exc:       # payments not configured: nothing to send
                    log.warning("forward", "no payment engine", err=str(exc))
                    return None
        return self.engine

    def boot(self):
        """Journal against batch, once (before any sale); the order ledger compacted."""
        eng = self._engine(build=owed())
        if eng is not None and not self.reconciled:
            from pos.app import reconcile         # only when there is an engine to reconcile
            reconcile.cards(eng)
            self.reconciled = True
        ledger = services.orders_if_any()
        if ledger is not None:
            ledger.compact()

    def pending(self):
        n = self.engine.owed() if self.engine is not None else 0
        return n + max(self.orders_left, 0)

    async def step(self):
        """One round: reversals/advices that are due, then open wallet orders when due."""
        eng = self._engine()
        if eng is not None and not self.reconciled:
            # boot reconciliation not done yet (no engine then, or it failed): now; what it
            # cannot do yet never holds up what is already owed
            from pos.app import reconcile
            try:
                reconcile.cards(eng)
                self.reconciled = True
            except Exception as exc:
                log.error("forward", "reconciliation failed", err=repr(exc))
        if eng is not None and eng.owed():
            # the engine's own (blocking) links, bounded by the acquirers' timeouts and
            # spaced by its backoff: asyncio streams kept ~13 KB of heap for good, which
            # the next QR order then lacked
            eng.pump()
            if not eng.owed():
                for a in eng.acquirers.values():
                    a.link.close()
                log.info("forward", "nothing owed")
        ledger = services.orders_if_any()
        if ledger is None or not ledger.open:
            self.orders_left = 0
            self._wallet_tries = 0
        elif time.ticks_diff(time.ticks_ms(), self._wallet_next) >= 0:
            # a cancel that got no answer leaves its order open: settled from here
            self.orders_left = self._wallet_orders()
            self._wallet_tries = self._wallet_tries + 1 if self.orders_left else 0
            delay = min(WALLET_RETRY_MS, 2000 << min(self._wallet_tries, 4))
            self._wallet_next = time.ticks_add(time.ticks_ms(), delay)

    def _wallet_orders(self):
        ledger = services.orders()
        if not ledger.open_orders():
            return 0
        try:
            from pos.payments import wallet
            client = wallet.from_config()
            client.timeout = 2
        except Exception as exc:
            log.warning("forward", "no wallet client", err=str(exc))
            return len(ledger.open_orders())
        from pos.app import reconcile
        return reconcile.wallet_orders(ledger, client)


SENDER = Sender()


async def sender(stack, is_idle, every_ms=1000):
    s = SENDER
    try:
        s.boot()
    except Exception as exc:
        log.error("forward", "boot reconciliation failed", err=repr(exc))
    shown = None
    while True:
        if is_idle():
            try:
                await s.step()
            except Exception as exc:          # never stop sending for one bad round
                log.error("forward", "send round failed", err=repr(exc))
        n = s.pending()
        changed = n != status.pending
        if changed:
            status.pending = n
        # Ready may have been drawn with a count this loop never showed (a reversal queued
        # mid-sale and sent at once back at Ready): redraw on any change, not only against
        # the count last drawn from here
        if (changed or n != shown) and is_idle():
            shown = n
            stack.redraw()
        await asyncio.sleep_ms(every_ms)
