# The transaction engine: the Authorizer the card kernels call, built on
# the journal (pos.store.journal), the acquirers (pos.payments.acquirer) and
# the routing table.  Rules (never lose, never double):
#   - a journal record is written before every send ("req", "rev", "adv",
#     "stl_req") and after every reply ("resp", "rev_ok", "adv_ok", "stl");
#   - a request that may have reached the host and has no usable answer (no
#     reply, timeout, link broken after sending, malformed reply, bad MAC),
#     an approval the card then declines (ARPC failure, 2nd GENERATE AC AAC),
#     and any sale found unfinished on boot is reversed (0400); when the failure
#     cannot be journaled at the time (the heap ran out), the reversal is owed
#     all the same and journaled before anything else goes to a host;
#   - pending reversals and advices (0220 for offline approvals) are sent in
#     journal order with exponential backoff until the host acknowledges
#     them; they live in the journal, so they survive reboots;
#   - replies are matched by MTI and STAN; duplicates are ignored.
import time

from micropython import const

from pos import log
from pos.payments import responses, settlement
from pos.payments.clock import now_fields as _now_fields
from pos.payments.acquirer import Acquirer
from pos.payments.authorizer import Authorizer, AuthResponse, AuthError, unable_to_go_online
from pos.payments.errors import HostError, ConnectError, BadReply, RoutingError, as_host_error
from pos.payments.routing import Router
from pos.payments.txntable import BATCH_CAPACITY, BATCH_FULL, BatchFull, TxnTable

# kind -> (MTI, processing code (ISO 8583:1987 DE 3), sign for totals)
KINDS = {
    "sale": ("0200", "000000", 1),
    "completion": ("0200", "000000", 1),
    "refund": ("0200", "200000", -1),
    "void": ("0200", "020000", 0),
    "preauth": ("0100", "000000", 0),
    "balance": ("0100", "310000", 0),
}
# DE 22 POS entry mode: PAN entry (2 digits) + PIN entry capability (1 = can accept PIN)
ENTRY = {"manual": "01", "swipe": "90", "chip": "05", "contactless": "07", "fallback": "80", "qr": "03"}
REVERSAL_DONE = ("00", "25", "12")     # reversed, or the host never had it
_STAN_MAX = 999999
# slots kept free for an offline approval's advice: a card transaction that started with
# fewer than this may end in an online request and, unable to go online, an offline
# approval (EMV Y3), one record each; refused at the start, it loses nothing
_BATCH_RESERVE = const(2)


class PaymentEngine(Authorizer):
    def __init__(self, config, keystore, journal, trace=None):
        self.cfg = config
        self.keystore = keystore
        self.journal = journal
        self.acquirers = {}
        for name in config["acquirers"]:
            a = Acquirer(name, config["acquirers"][name], keystore)
            a.trace = trace
            self.acquirers[name] = a
        self.router = Router(config["routes"], config["acquirers"])
        self.retry = config["retry"]
        # one block for the whole batch, made before anything of the replay is allocated
        self.txns = TxnTable(self.acquirers, BATCH_CAPACITY)       # reserved at boot (main.py)
        self.pending = []          # STANs with a reversal or advice not yet acknowledged
        # STAN of a request that may have reached the host whose failure could not be journaled
        # (the heap ran out on the host path or in the record after the send): its reversal
        # is owed and goes into the journal first thing in pump() (0: none).  One slot: no
        # request is built while it is taken (pump() before the request raises then).
        self.unjournaled = 0
        self.stan = 0
        self.invoice = 0
        self.batches = {n: 1 for n in self.acquirers}
        self.closed = {}           # acq -> last closed batch
        self._backoff = {}         # acq -> (attempts, next_try_ms)
        for r in journal.replay():
            self._apply(r)

    def batch_full(self):
        """True when a card transaction must not start: the open batch cannot take what it
        may record (settle first: BATCH FULL - SETTLE)."""
        return self.txns.capacity - len(self.txns) < _BATCH_RESERVE

    def refuse_when_full(self):
        """The decline of a request the open batch has no room for (nothing is journaled or
        sent), or None."""
        if not self.batch_full():
            return None
        log.warning("engine", BATCH_FULL, count=len(self.txns))
        return AuthResponse(False, "", text=BATCH_FULL, unable_to_go_online=False)

    def forget_settled(self, keep):
        """Drop the transactions keep(x) says are done with (a settled batch) from the table,
        in place: the table keeps its size for the next batch."""
        # a few at a time: after a day the settled STANs as one list asked for a 2 KB block
        # (256 entries) the fragmented heap did not have, and the settlement showed FAILED
        while True:
            gone = []
            for s in self.txns:
                if not keep(self.txns[s]):
                    gone.append(s)
                    if len(gone) == 16:
                        break
            if not gone:
                return
            for s in gone:
                self.txns.remove(s)

    # ------------------------------------------------------------ journal state
    def _apply(self, r):
        t = r["t"]
        s = r.get("stan")
        if s is not None and s > self.stan:
            self.stan = s
        if t in ("req", "adv"):
            # its record in the table (room was checked before the journal record was written:
            # refuse_when_full, advise_offline)
            self.txns.add(s, r["acq"], r["kind"], r["amt"], r.get("batch", 1), r.get("card", False),
                          "advice" if t == "adv" else "sent")
            inv = r.get("inv", 0)
            if inv > self.invoice:
                self.invoice = inv
            if t == "adv":
                self.pending.append(s)
            return
        if t == "ctr":
            self.stan = max(self.stan, r["stan"])
            self.invoice = max(self.invoice, r.get("inv", 0))
            for a in r.get("batches", {}):
                self.batches[a] = r["batches"][a]
            return
        if t == "stl":
            self.batches[r["acq"]] = r["batch"] + 1
            self.closed[r["acq"]] = r["batch"]
            return
        if t == "stl_req":
            return
        x = self.txns.get(s)
        if x is None:
            return
        if t == "adj":               # tip adjust: the sale's new total
            x.amount = r["amt"]
            return
        if t == "resp":
            if responses.approved(r.get("rc", "")):
                x.state = "approved" if not x.card else "await_card"
            else:
                x.state = "declined"
            o = self.txns.get(r.get("voids"))
            if o is not None:
                o.state = "voided"
        elif t == "fail":            # never left the terminal (connect failure)
            x.state = "failed"
        elif t == "done":
            x.state = "done" if r["ok"] else x.state
        elif t == "rev":
            x.state = "reversing"
            if s not in self.pending:
                self.pending.append(s)
        elif t == "rev_ok":
            x.state = "reversed"
            if s in self.pending:
                self.pending.remove(s)
        elif t == "adv_ok":
            x.state = "advised"
            if s in self.pending:
                self.pending.remove(s)
        elif t == "adv_void":        # an offline approval the terminal never recorded: not sent
            x.state = "dropped"
            if s in self.pending:
                self.pending.remove(s)

    def details(self, stans):
        """{stan: merged journal fields} for the given STANs, in one pass over the
        journal (request fields, then the reply's rc/auth/rrn, the reversal's icc)."""
        want = set(stans)
        out = {}
        for r in self.journal.replay():
            s = r.get("stan")
            if s not in want:
                continue
            t = r["t"]
            if t in ("req", "adv"):
                out[s] = dict(r)
            elif s in out and t in ("resp", "rev"):
                d = out[s]
                for k in ("rc", "auth", "rrn", "icc"):
                    if k in r:
                        d[k] = r[k]
        return out

    def original(self, stan):
        """DE 90 data of an earlier transaction (for void/completion requests)."""
        d = self.details((stan,)).get(stan)
        if d is None:
            raise AuthError("no transaction with STAN %06d in the journal" % stan)
        return {"mti": d["mti"], "stan": stan, "dt": d.get("dt", "0000000000")}

    def _write(self, r):
        self.journal.append(r)
        self._apply(r)

    def _next_stan(self):
        self.stan = self.stan % _STAN_MAX + 1
        return self.stan

    # ------------------------------------------------------------ boot recovery
    def recover(self):
        """On boot: every sale that may have reached the host but did not finish
        (power cut) is queued for reversal.  Returns the STANs queued."""
        queued = [s for s in self.txns if self.txns[s].state in ("sent", "await_card")]
        queued.sort()
        for s in queued:
            self._write({"t": "rev", "stan": s, "why": "power-fail"})
        if queued:
            log.warning("engine", "unfinished transactions queued for reversal", count=len(queued))
        return queued

    def abandon(self, stan, why):
        """The terminal did not record transaction `stan` as approved (the flow failed after
        the host's reply, or the power went before the batch entry was written): what the
        host may have charged is reversed, an offline approval not yet advised is dropped.
        Only queued here; pump() or the background sender sends it.  True when queued."""
        x = self.txns.get(stan)
        if x is None:
            return False
        try:
            if x.state == "advice":
                self._write({"t": "adv_void", "stan": stan, "why": why})
                return True
            if x.state in ("sent", "await_card") or x.charged():
                self._write({"t": "rev", "stan": stan, "why": why})
                log.warning("engine", "unrecorded outcome queued for reversal", stan=stan, why=why)
                return True
        except Exception:              # not journaled (MemoryError): owed all the same
            self.unjournaled = stan
            raise
        return False

    def open_batch(self):
        """Transactions of the open batches that move money or may have (STAN -> Txn)."""
        out = {}
        for s in self.txns:
            x = self.txns[s]
            if x.batch == self.batches.get(x.acq) and (x.charged() or x.state in ("sent", "await_card")):
                out[s] = x
        return out

    # ------------------------------------------------------------ network management
    def sign_on_fields(self):
        dt, _, _ = _now_fields()
        return {7: dt, 11: "%06d" % self._next_stan(), 70: "001"}

    def signed_on(self, acq, rf):
        """Check the 0810 and store the working keys it carries (under the TMK)."""
        rc = rf.get(39, "")
        if rc != "00":
            raise HostError("sign-on to %s refused: %s %s" % (acq, rc, responses.text(rc)))
        keys = _parse_keys(rf.get(48, ""))
        self.keystore.store_working_keys(acq, keys)
        log.info("engine", "signed on", acquirer=acq, keys=",".join(sorted(keys)))
        return sorted(keys)

    def sign_on(self, acq):
        """0800/0810 sign-on with working key exchange (ISO 8583:1987 DE 70 = 001)."""
        rf = self.acquirers[acq].exchange("0800", self.sign_on_fields())
        return self.signed_on(acq, rf)

    def echo(self, acq):
        """0800 echo test (DE 70 = 301); True when the host answers 00."""
        a = self.acquirers[acq]
        dt, _, _ = _now_fields()
        rf = a.exchange("0800", {7: dt, 11: "%06d" % self._next_stan(), 70: "301"})
        return rf.get(39) == "00"

    def start(self):
        """Start-up: recover the journal, sign on where keys are missing, flush queues."""
        self.recover()
        for acq in self.acquirers:
            if not self.keystore.has_working_keys(acq):
                try:
                    self.sign_on(acq)
                except Exception as e:     # no host now: retried before the next request
                    log.warning("engine", "sign-on failed", acquirer=acq, err=str(e))
        self.pump(force=True)

    def pin_keys(self, pan=None, scheme=None):
        """Key-store view for the EMV kernel's online PIN: key("pin") is the TPK
        of the acquirer the card routes to (see PinKeys)."""
        return PinKeys(self, pan, scheme)

    # ------------------------------------------------------------ authorization
    def route(self, req):
        return self.router.route(pan=req.pan, scheme=req.scheme, wallet=req.wallet)

    def authorize(self, req):
        step = self._prepare(req)
        if isinstance(step, AuthResponse):
            return step
        acq, mti, f, stan = step
        try:
            try:
                rf = self.acquirers[acq].exchange(mti, f)
            except Exception as e:     # the one outcome rule: see _failed
                return self._failed(req, acq, stan, as_host_error(e))
            try:
                return self._answered(req, acq, stan, rf)
            except Exception as e:     # a reply the terminal cannot act on
                return self._failed(req, acq, stan, as_host_error(e))
        except Exception:              # the failure itself could not be journaled (MemoryError)
            self.unjournaled = stan    # no allocation: the reversal is owed all the same
            raise

    def _prepare(self, req):
        """Route, sign on if needed, flush reversals, build the request and
        journal it (write-ahead).  (acq, mti, fields, stan) or an AuthResponse."""
        if req.kind not in KINDS:
            raise AuthError("kind %s not supported by the host link" % req.kind)
        full = self.refuse_when_full()
        if full is not None:
            return full
        try:
            acq = self.route(req)
        except RoutingError as e:
            log.error("engine", "routing failed", err=str(e))
            return AuthResponse(False, "", text="No acquirer for this card", unable_to_go_online=False)
        if not self.keystore.has_working_keys(acq):
            try:
                self.sign_on(acq)
            except Exception as e:         # nothing financial was sent
                log.warning("engine", "sign-on failed", acquirer=acq, err=str(e))
                return unable_to_go_online("Host unavailable", acq)
        # acquirer rule: outstanding reversals go before the next financial request
        self.pump(acq, force=True)
        return self._build(req, acq)

    def _build(self, req, acq):
        mti, pcode, _sign = KINDS[req.kind]
        stan = self._next_stan()
        self.invoice = self.invoice % 999999 + 1
        dt, tm, dd = _now_fields()
        f = {3: pcode, 4: "%012d" % req.amount, 7: dt, 11: "%06d" % stan, 12: tm, 13: dd,
             22: ENTRY[req.entry_mode] + "1", 25: "00", 49: req.currency, 62: "%06d" % self.invoice}
        if req.track2:
            f[35] = req.track2.replace("D", "=")
        else:
            f[2] = req.pan
            if req.expiry:
                f[14] = req.expiry
        if req.pan_seq is not None and req.pan_seq != "":
            f[23] = "%03d" % int(req.pan_seq)
        if req.pin_block:
            f[52] = bytes(req.pin_block)
        if req.icc_data:
            f[55] = req.icc_data
        if req.original:
            f[90] = _original(req.original)
        card = req.entry_mode == "chip" and req.kind in ("sale", "preauth", "refund", "completion")
        rec = {"t": "req", "stan": stan, "acq": acq, "kind": req.kind, "mti": mti, "amt": req.amount,
               "cur": req.currency, "pan": _mask(req.pan), "inv": self.invoice,
               "batch": self.batches[acq], "entry": req.entry_mode, "dt": dt, "pc": pcode, "card": card}
        if self.keystore.can_seal() and req.pan:
            rec["ps"] = self.keystore.seal("%s=%s" % (req.pan, req.expiry or ""))
        try:
            self._write(rec)                               # write-ahead (before the send)
        except Exception:          # perhaps on flash all the same: settled by pump() (journal_owed)
            self.unjournaled = stan
            raise
        return acq, mti, f, stan

    def _failed(self, req, acq, stan, e, pump=True):
        if isinstance(e, ConnectError):
            self._write({"t": "fail", "stan": stan})
            log.warning("engine", "host unreachable", acquirer=acq, stan=stan)
            return unable_to_go_online("Host unavailable", acq)
        self._write({"t": "rev", "stan": stan, "why": type(e).__name__})     # before anything else
        log.error("engine", "no usable reply; reversal queued", acquirer=acq, stan=stan, err=str(e))
        if pump:
            self.pump(acq, force=True)
        if isinstance(e, BadReply):
            return AuthResponse(False, "", text="Declined: host reply rejected", stan="%06d" % stan,
                                acquirer=acq)
        return unable_to_go_online("No reply from host", acq)

    def _answered(self, req, acq, stan, rf):
        rc = rf.get(39, "")
        rec = {"t": "resp", "stan": stan, "rc": rc, "auth": rf.get(38, "").strip(), "rrn": rf.get(37, "")}
        if req.kind == "void" and req.original and responses.approved(rc):
            rec["voids"] = int(req.original["stan"])     # the original no longer counts
        self._write(rec)                                 # after the reply
        ok, text = responses.lookup(rc)
        log.info("engine", "host reply", acquirer=acq, stan=stan, rc=rc, pan=req.pan or "")
        return AuthResponse(ok, rc, rf.get(38, "").strip(), rf.get(37, ""), rf.get(55, b""), text,
                            False, "%06d" % stan, acq, rf.get(54, ""))

    def complete(self, req, resp, card_approved, icc_data=b"", pump=True):
        """After the 2nd GENERATE AC (EMV Book 3 10.11): confirm or reverse
        (pump=False: only queue the reversal; the asyncio variant sends it)."""
        if not resp.stan:
            return
        stan = int(resp.stan)
        x = self.txns.get(stan)
        if x is None or x.state != "await_card":
            return
        if resp.approved and card_approved:
            self._write({"t": "done", "stan": stan, "ok": True})
        elif resp.approved:
            # card declined after host approval (ARPC failure / AAC): reverse
            self._write({"t": "done", "stan": stan, "ok": False})
            rev = {"t": "rev", "stan": stan, "why": "card-declined"}
            if icc_data:
                rev["icc"] = bytes(icc_data).hex()      # 2nd GENERATE AC data for the issuer (DE 55)
            self._write(rev)
            if pump:
                self.pump(x.acq, force=True)

    def advise_offline(self, req, auth_code="Y1", arc="Y1"):
        """An offline approval (EMV Y1/Y3): queue an advice (0220, or 0120 for a
        pre-authorization) and try to send it; its STAN."""
        acq = self.route(req)
        if len(self.txns) >= self.txns.capacity:    # refused before the journal: never half written
            raise BatchFull(BATCH_FULL)
        stan = self._next_stan()
        self.invoice = self.invoice % 999999 + 1
        dt, _, _ = _now_fields()
        # ISO 8583:1987 advices: 0220 financial (a sale moves money), 0120 authorization (a
        # pre-authorization approved offline holds funds and moves none until its completion)
        mti = "0120" if KINDS[req.kind][0] == "0100" else "0220"
        rec = {"t": "adv", "stan": stan, "acq": acq, "kind": req.kind, "mti": mti, "amt": req.amount,
               "cur": req.currency, "pan": _mask(req.pan), "inv": self.invoice,
               "batch": self.batches[acq], "entry": req.entry_mode, "dt": dt,
               "pc": KINDS[req.kind][1], "rc": arc, "auth": auth_code, "icc": bytes(req.icc_data).hex(),
               "ps": self.keystore.seal("%s=%s" % (req.pan, req.expiry or ""))}
        self._write(rec)
        self.pump(acq, force=True)
        return stan

    # ------------------------------------------------------------ store and forward
    def owed(self):
        """How many reversals and advices the hosts are owed (the Ready screen's TO SEND)."""
        return len(self.pending) + (1 if self.unjournaled else 0)

    def journal_owed(self):
        """The reversal owed for a request whose failure could not be journaled goes into the
        journal now (write-ahead of its 0400): from here on an ordinary pending reversal.  A
        request whose own record failed (on flash or not, never sent) is closed as "fail".
        Raises (MemoryError, JournalError) while it still cannot be written."""
        s = self.unjournaled
        if s:
            if self.txns.get(s) is not None:
                self.abandon(s, "not-journaled")
            else:
                self._write({"t": "fail", "stan": s})
            self.unjournaled = 0

    def pump(self, acq=None, force=False):
        """Send pending reversals/advices in order; returns how many are left.  Raises when a
        reversal owed cannot be journaled yet (nothing new goes to a host before it)."""
        self.journal_owed()
        now = time.ticks_ms()
        blocked = set()
        for x in self._due(acq, force, now):
            if x.acq in blocked:
                continue                       # keep the order: nothing later goes first
            try:
                if not self.keystore.has_working_keys(x.acq):
                    self.sign_on(x.acq)
                if x.state == "advice":
                    self._send_advice(x)
                else:
                    self._send_reversal(x)
                self._backoff.pop(x.acq, None)
            except Exception as e:     # HostError, key store (sign-on refused), anything else
                self._retry_later(x, e, now)
                blocked.add(x.acq)
        return len(self.pending)

    def _reversal_fields(self, x):
        d = self.details((x.stan,))[x.stan]
        dt, _, _ = _now_fields()
        f = {3: d["pc"], 4: "%012d" % x.amount, 7: dt, 11: "%06d" % x.stan, 22: ENTRY[d["entry"]] + "1",
             25: "00", 49: d["cur"], 90: _original({"mti": d["mti"], "stan": x.stan, "dt": d["dt"]})}
        if d.get("icc"):
            f[55] = bytes.fromhex(d["icc"])
        return f

    def _reversal_answered(self, x, rf):
        rc = rf.get(39, "")
        if rc not in REVERSAL_DONE:
            raise HostError("reversal of STAN %06d answered %s" % (x.stan, rc))
        self._write({"t": "rev_ok", "stan": x.stan, "rc": rc})
        log.info("engine", "reversed", acquirer=x.acq, stan=x.stan, rc=rc)

    def _send_reversal(self, x):
        self._reversal_answered(x, self.acquirers[x.acq].exchange("0400", self._reversal_fields(x)))

    def _advice_fields(self, x):
        d = self.details((x.stan,))[x.stan]
        pan, _, exp = self.keystore.unseal(d["ps"]).partition("=")
        f = {2: pan, 3: d["pc"], 4: "%012d" % x.amount, 7: d["dt"], 11: "%06d" % x.stan,
             22: ENTRY[d["entry"]] + "1", 25: "00", 38: d.get("auth", ""), 39: d.get("rc", "Y1"),
             49: d["cur"], 62: "%06d" % d.get("inv", 0)}
        if exp:
            f[14] = exp
        if d.get("icc"):
            f[55] = bytes.fromhex(d["icc"])
        return f

    def _advice_answered(self, x, rf):
        rc = rf.get(39, "")
        if rc not in ("00", "94"):     # 94: host already has it (duplicate)
            raise HostError("advice STAN %06d answered %s" % (x.stan, rc))
        self._write({"t": "adv_ok", "stan": x.stan})

    def _send_advice(self, x):
        self._advice_answered(x, self.acquirers[x.acq].exchange(self.advice_mti(x), self._advice_fields(x)))

    def advice_mti(self, x):
        """The MTI of the advice for offline approval `x` (0220, or 0120 for a pre-authorization)."""
        return "0120" if KINDS[x.kind][0] == "0100" else "0220"

    def _retry_later(self, x, e, now):
        bo = self._backoff.get(x.acq)
        n = (bo[0] + 1) if bo else 1
        delay = min(self.retry["base_ms"] << min(n - 1, 16), self.retry["max_ms"])
        self._backoff[x.acq] = (n, time.ticks_add(now, delay))
        log.warning("engine", "store-and-forward retry later", acquirer=x.acq, stan=x.stan,
                    attempt=n, delay_ms=delay, err=str(e))

    def _due(self, acq, force, now):
        """Pending items to try now, in journal order (one acquirer or all)."""
        out = []
        for s in self.pending:
            x = self.txns[s]
            if acq is not None and x.acq != acq:
                continue
            bo = self._backoff.get(x.acq)
            if bo is not None and not force and time.ticks_diff(bo[1], now) > 0:
                continue
            out.append(x)
        return out

    # ------------------------------------------------------------ settlement
    def batch(self, acq):
        b = self.batches[acq]
        return [x for x in self.txns.values() if x.acq == acq and x.batch == b]

    def totals(self, acq):
        """(sales count, sales amount, refunds count, refunds amount) of the open batch."""
        sc = sa = rc = ra = 0
        b = self.batches[acq]
        for x in self.txns.values():
            if x.acq != acq or x.batch != b:
                continue
            c = x.charged()
            if c > 0:
                sc += 1
                sa += c
            elif c < 0:
                rc += 1
                ra -= c
        return sc, sa, rc, ra

    def net_charged(self, acq=None):
        return sum(x.charged() for x in self.txns.values() if acq is None or x.acq == acq)

    def settle(self, acq):
        """0500 settlement of `acq`'s open batch (pos.payments.settlement)."""
        return settlement.settle(self, acq)


class PinKeys:
    """key("pin"[, pan]) -> the TPK (PIN working key from the 0810) of the
    acquirer that `pan`/`scheme` route to; without a PAN (the kernel does not
    pass one) the PAN/scheme given here or set with card(), else the default
    route.  PIN blocks are then enciphered under the key the host expects."""

    def __init__(self, engine, pan=None, scheme=None):
        self.engine = engine
        self.pan = pan
        self.scheme = scheme

    def card(self, pan, scheme=None):
        self.pan = pan
        self.scheme = scheme

    def key(self, name, pan=None):
        from pos.store.keystore import KeyStoreError
        if name != "pin":
            raise KeyStoreError("no %s key in the host link's key store" % name)
        acq = self.engine.router.route(pan=pan or self.pan, scheme=self.scheme)
        return self.engine.keystore.working_key(acq, "tpk")


def _mask(pan):
    from pos.log import mask_pan
    return mask_pan(pan) if pan else ""


def _original(o):
    # DE 90 original data elements (n42): MTI(4) STAN(6) transmission date/time(10)
    # acquiring institution ID(11) forwarding institution ID(11)
    return "%s%06d%s%011d%011d" % (o["mti"], int(o["stan"]), o.get("dt", "0000000000"), 0, 0)


def _parse_keys(s):
    """DE 48 of 0810: repeated NAME(3) + cryptogram under TMK (32 hex) + KCV (6 hex)."""
    keys = {}
    i = 0
    while i + 41 <= len(s):
        name = s[i:i + 3].lower()
        try:
            cg = bytes.fromhex(s[i + 3:i + 35])
            cv = bytes.fromhex(s[i + 35:i + 41])
        except ValueError:
            raise BadReply("0810 key block is not hexadecimal")
        keys[name] = (cg, cv)
        i += 41
    if i != len(s) or "tak" not in keys:
        raise BadReply("0810 carries no usable working keys")
    return keys
