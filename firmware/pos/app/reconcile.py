# Boot reconciliation: what the hosts were told (the engine's journal, the wallet order
# ledger) against what the terminal recorded (the batch, pos.app.batch), so that after a
# power cut at any flash write every transaction ends charged once, with a batch entry and
# a receipt that can be reprinted, or not charged at all:
#   - a card approval in the open batch with no batch entry (the power went between the
#     host's reply and the batch write: the cashier never saw APPROVED) is reversed;
#     an offline approval not yet advised is dropped (the host never knew of it);
#   - a wallet order opened and not closed is asked for: paid -> completed (recorded in
#     the batch: merchant-presented orders have no refund), pending -> cancelled (and
#     completed if the cancel answers that it was paid meanwhile), expired -> closed.
# Requests that may have reached a host and have no reply are reversed by the engine's
# own recovery (PaymentEngine.recover); the reversals go out from pos.app.forward.
from pos import log
from pos.app import batch, counters, status


def cards(engine, entries=None):
    """Queue a reversal for every money-moving journal transaction of the open batches
    that has no approved batch entry.  Returns the STANs queued."""
    # one entry at a time: a day's batch as a list of dicts does not fit the heap (after some
    # fifty sales the boot reconciliation failed with MemoryError and reversed nothing)
    es = batch.each() if entries is None else entries
    recorded = set()
    for e in es:
        st = e.get("stan")
        if e.get("tender") == "card" and e.get("ok") and st:
            recorded.add(int(st))
    queued = []
    txns = engine.open_batch()
    for s in sorted(txns):
        if s in recorded or txns[s].state in ("sent", "await_card"):
            continue
        if engine.abandon(s, "unrecorded"):
            queued.append(s)
    if queued:
        log.warning("reconcile", "approvals without a batch entry queued for reversal", count=len(queued))
    return queued


def record_order_paid(amount, order, txn, reference=""):
    """The batch entry of a paid merchant-presented wallet order; returns it."""
    e = {"inv": counters.next_invoice(), "kind": "sale", "tender": "qr", "amount": amount,
         "ok": True, "result": "APPROVED", "wallet": txn, "order": order, "scheme": "wallet",
         "op": status.operator.name if status.operator else "CASHIER"}
    if reference:
        e["ref"] = reference
    batch.record(e)                  # counts it on the Ready screen too
    counters.record_sale("qr", amount)
    return e


def wallet_orders(ledger, client, entries=None):
    """Settle the wallet orders left open; returns how many are still open (host unreachable)."""
    opened = ledger.open_orders()
    if not opened:
        return 0
    in_batch = set()                 # wallet orders and transactions in the batch
    txns = set()
    for e in (batch.each() if entries is None else entries):
        if e.get("tender") == "qr" and e.get("ok"):
            if e.get("order"):
                in_batch.add(e["order"])
            if e.get("wallet"):
                txns.add(e["wallet"])
    left = 0
    for order in opened:
        amount, ref, att = opened[order]
        if order in in_batch:
            ledger.closed(order, "recorded")
            continue
        if order.startswith("P:"):
            left += customer_payment(ledger, client, order, txns)
            continue
        try:
            if order.startswith("?"):        # its number never reached flash: ask again
                order = client.create_order(amount, "840", ref, att)["order"]   # same key: same order
                ledger.opened(order, amount, ref, att)
                if order in in_batch:
                    ledger.closed(order, "recorded")
                    continue
            st = client.order_status(order)
            if st.get("status") == "pending":
                st = client.cancel_order(order)
        except Exception as exc:          # wallet host unreachable: asked again later
            log.warning("reconcile", "wallet order not settled yet", order=order, err=str(exc))
            left += 1
            continue
        s = st.get("status")
        if s == "paid":
            e = record_order_paid(amount, order, st.get("txn", ""), ref)
            ledger.closed(order, "recorded")
            log.warning("reconcile", "paid wallet order completed", order=order, inv=e["inv"])
        elif s in ("cancelled", "expired"):
            ledger.closed(order, s)
            log.info("reconcile", "wallet order closed", order=order, status=s)
        else:
            left += 1
    return left


def customer_payment(ledger, client, name, txns):
    """A customer-presented payment left open (ledger name "P:" + idempotency key): in the
    batch -> closed; charged by the wallet and not in the batch (the cashier never saw
    PAID) -> reversed; never charged -> closed.  1 while it stays open, else 0."""
    key = name[2:]
    try:
        q = client.request("POST", "/v1/pay/query", {"idempotency_key": key})
        s = q.get("status")
        if s == "success" and q.get("txn") in txns:
            ledger.closed(name, "recorded")
            return 0
        if s == "success":
            q = client.request("POST", "/v1/pay/reverse", {"idempotency_key": key})
            s = q.get("status")
    except Exception as exc:          # wallet host unreachable: asked again later
        log.warning("reconcile", "wallet payment not settled yet", err=str(exc))
        return 1
    if s in ("reversed", "failed", "unknown"):
        ledger.closed(name, s)
        log.warning("reconcile", "open wallet payment settled", how=s)
        return 0
    return 1
