# An installed app's request_payment and refund: the counter's own tender flow (the sale's
# cash and card tenders, pos.app.sale), and back to the app with the safe outcome only
# (outcome: approved, amount, tender, masked PAN, scheme, reference).
import gc

from pos import hw, log


def outcome(e, tender, reference):
    """What an app learns of a payment: never card data, PIN or keys."""
    return {"approved": bool(e.get("ok")), "amount": e.get("amount", 0), "tender": tender,
            "pan": e.get("pan", "") if tender == "card" else "", "scheme": e.get("scheme", ""),
            "reference": reference, "invoice": e.get("inv", 0)}


def request(host, amount, reference, on_done):
    """Queue the tender menu for `amount` over the app's screen; on_done(outcome) in the
    app's context when the cashier finishes (cash: after the change screen; card: the result)."""
    from pos.app.sale import SaleFlow
    if type(amount) is not int or not 0 < amount <= 99999999:
        raise ValueError("amount must be minor units, 1..99999999")
    frame = host.frame
    gc.collect()
    before = gc.mem_alloc()

    def paid(tender, e):
        gc.collect()                    # what the counter kept of the tender flow (modules it
        host.base += max(0, gc.mem_alloc() - before)    # loads once) is not the app's heap
        out = outcome(e, tender, reference)
        if out["approved"]:
            host.paid[reference] = e.get("inv", 0)
            if tender == "card":
                keep(host, reference, e)
        log.info("apps", "payment", app=host.id, approved=out["approved"], tender=tender,
                 inv=out["invoice"])
        host.run(on_done, out)
        host.fire("sale_completed", out)
        return ("back_to", frame)

    flow = SaleFlow(hw.printer(), host.merchant, False, on_paid=paid)
    host.pending = ("push", flow.tender(amount)[1])


KEPT = 3


def keep(host, reference, e):
    """The batch entry of a card payment, kept for its refund (the app's KEPT newest, oldest
    let go first): a refund then reads no batch file.  Streaming the batch for it needs a block
    the size of an entry (some 600 bytes), and after a card payment and an app's requests the
    heap may have no such block: the refund failed there with MemoryError."""
    host.kept.append((reference, e))
    if len(host.kept) > KEPT:
        host.kept.pop(0)


def _kept(host, reference, drop=False):
    for i, (ref, e) in enumerate(host.kept):
        if ref == reference:
            if drop:
                host.kept.pop(i)
            return e
    return None


def refund(host, reference, on_done):
    """A card refund of this app's payment `reference` (the counter's refund flow asks for
    the supervisor's PIN); on_done(outcome).  Once approved, the payment is no longer the
    app's to refund: a second refund of it is refused."""
    inv = host.paid.get(reference)
    if inv is None:
        raise ValueError("no payment of this app with reference %s" % reference)
    from pos.app import flows
    e = _kept(host, reference)
    if e is None:                       # an older payment of the session: from the batch
        from pos.app import batch
        e = batch.find(inv)
    if e is None or e.get("tender") != "card":
        raise ValueError("only a card payment of this session is refunded here")
    frame = host.frame

    def with_op(op):
        r = flows.refund_of(host.merchant, e, op)
        # the refund's result screen carries its entry; an error screen (the request could not
        # be made: the app hears "not approved", the payment stays its to refund) carries none
        n = getattr(r[1], "e", None) if r[0] == "replace" else None
        if n is None:
            log.warning("apps", "refund not sent", app=host.id)
            n = {}
        if n.get("ok"):
            host.paid.pop(reference, None)
            _kept(host, reference, drop=True)
        host.run(on_done, outcome(n, "card", reference))
        return ("back_to", frame)
    host.pending = ("push", flows.PinPrompt("Refund", "refund", with_op))
