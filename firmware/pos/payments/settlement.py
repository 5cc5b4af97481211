# Settlement (ISO 8583:1987 0500/0510 reconciliation, 0320 batch upload) and
# journal rotation after a batch closes.  `engine` is the PaymentEngine.
from pos import log
from pos.payments import responses
from pos.payments.clock import now_fields as _now_fields
from pos.payments.errors import HostError

_UPLOAD_CHUNK = 8            # transactions read back from the journal per pass (batch upload)


def settle(engine, acq):
    """0500 settlement; on 95 (reconcile error) batch upload 0320 then 0500 again.
    Returns (result, totals) with result 'balanced' or 'uploaded'."""
    if engine.pump(acq, force=True) and any(engine.txns[s].acq == acq for s in engine.pending):
        raise HostError("reversals/advices for %s still pending; settle later" % acq)
    a = engine.acquirers[acq]
    b = engine.batches[acq]
    tot = engine.totals(acq)
    t63 = "%03d%012d%03d%012d" % tot
    stan = engine._next_stan()
    engine._write({"t": "stl_req", "stan": stan, "acq": acq, "batch": b})
    dt, _, _ = _now_fields()
    rf = a.exchange("0500", {3: "920000", 7: dt, 11: "%06d" % stan, 60: "%06d" % b, 63: t63})
    rc = rf.get(39, "")
    result = "balanced"
    if rc == "95":
        log.warning("engine", "settlement out of balance; batch upload", acquirer=acq, batch=b)
        # the batch's STANs walked in the table a few at a time: a list of a day's batch
        # (some 150 entries) asked for a 1 KB block the day's heap did not have
        n = 0
        for _ in _charged_stans(engine, acq):
            n += 1
        # reserve the STANs the upload uses before sending (no reuse after a power cut)
        first = engine.stan + 1
        engine._write({"t": "ctr", "stan": engine.stan + n + 1, "inv": engine.invoice})
        s = first
        chunk = []
        for stan in _charged_stans(engine, acq, True):
            if stan is not None:
                chunk.append(stan)
                if len(chunk) < _UPLOAD_CHUNK:
                    continue
            if not chunk:
                break
            # the journal's details of a few transactions at a time: a day's batch of hundreds
            # read back at once is larger than the heap
            info = engine.details(chunk)
            for st in chunk:
                x = engine.txns[st]
                d = info[st]
                pan, _, exp = engine.keystore.unseal(d["ps"]).partition("=")
                uf = {2: pan, 3: d["pc"], 4: "%012d" % x.amount, 7: dt, 11: "%06d" % s,
                      37: d.get("rrn") or "%012d" % 0, 38: (d.get("auth") or "000000")[:6],
                      39: (d.get("rc") or "00")[:2], 49: d["cur"], 60: "%s%06d" % (d["mti"], st),
                      62: "%06d" % d.get("inv", 0)}
                if exp:
                    uf[14] = exp
                d = pan = exp = None
                urf = a.exchange("0320", uf)
                uf = None
                if urf.get(39) != "00":
                    raise HostError("batch upload of STAN %06d refused: %s" % (st, urf.get(39)))
                s += 1
            info = None
            chunk = []
        stan2 = s
        rf = a.exchange("0500", {3: "960000", 7: dt, 11: "%06d" % stan2, 60: "%06d" % b, 63: t63})
        rc = rf.get(39, "")
        result = "uploaded"
    if rc != "00":
        raise HostError("settlement of %s batch %d refused: %s %s" % (acq, b, rc, responses.text(rc)))
    engine._write({"t": "stl", "acq": acq, "batch": b, "totals": list(tot)})
    log.info("engine", "batch settled", acquirer=acq, batch=b, result=result)
    compact(engine)
    return result, tot


def compact(engine):
    """Rotate the journal once nothing of a closed batch is still needed.  The records kept
    (other acquirers' open batches, pending reversals and advices) are streamed from the
    old journal into the new one, never held in RAM together."""
    def kept():
        yield {"t": "ctr", "stan": engine.stan, "inv": engine.invoice, "batches": dict(engine.batches)}
        for r in engine.journal.replay():
            t = r["t"]
            if t in ("ctr", "stl", "stl_req"):
                continue
            x = engine.txns.get(r.get("stan"))
            if x is None:
                continue
            if x.stan in engine.pending or x.batch >= engine.batches.get(x.acq, 1):
                yield r
    engine.journal.rotate(kept())
    engine.forget_settled(lambda x: x.stan in engine.pending or x.batch >= engine.batches.get(x.acq, 1))


def _charged_stans(engine, acq, end=False):
    """STANs of `acq`'s open batch that move money, in table order (then None if `end`).
    Nothing is added to or removed from the table while this walks it."""
    b = engine.batches[acq]
    for x in engine.txns.values():
        if x.acq == acq and x.batch == b and x.charged():
            yield x.stan
    if end:
        yield None
