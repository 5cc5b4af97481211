# EMV contact Level 2 kernel: one transaction from application selection to
# completion, EMV 4.4 Books 1-4.  Card I/O goes through `transmit(apdu) ->
# rapdu` so the kernel runs against the ISO 7816 driver, a simulator or a
# script alike.  Each step notes its TVR/TSI effects with the clause.
#
#   k = Kernel(config, transmit, ui=ui, authorizer=auth, keystore=ks)
#   outcome = k.process(1250)                  # minor units
#   outcome = k.process(1250, offer=fn)        # fn(pan, amount) -> amount to authorise
import time

from micropython import const

from pos import crypto
from pos import log
from pos.emv import apdu as _apdu
from pos.emv import cvm as _cvm
from pos.emv import dol as _dol
from pos.emv import oda as _oda
from pos.emv import outcome as _out
from pos.emv import risk as _risk
from pos.emv import selection as _sel
from pos.emv import tlv
from pos.emv import tvr as T
from pos.emv.errors import CardError

AAC = const(0x00)
TC = const(0x40)
ARQC = const(0x80)
_CDA = const(0x10)
_RANK = {AAC: 0, ARQC: 1, TC: 2}     # a card may answer lower, never higher (Book 3 9.3)
_HOST_KINDS = {"cash": "sale", "cashback": "sale"}    # the host's kinds (pos.payments.authorizer)
_TYPES = {"sale": 0x00, "preauth": 0x00, "cash": 0x01, "cashback": 0x09, "refund": 0x20, "balance": 0x31}
# data objects a GENERATE AC / records may carry that the kernel keeps (Book 3 Annex A)
_MANDATORY = (0x5F24, 0x5A, 0x8C, 0x8D)      # Book 3 7.2
# lengths (min, max) of ICC data objects the kernel interprets (Book 3 Annex A)
_LENGTHS = {0x5F24: (3, 3), 0x5F25: (3, 3), 0x5A: (1, 10), 0x5F34: (1, 1), 0x9F07: (2, 2),
            0x5F28: (2, 2), 0x9F08: (2, 2), 0x8F: (1, 1), 0x9F32: (1, 3), 0x9F47: (1, 3),
            0x9F2E: (1, 3), 0x9F0D: (5, 5), 0x9F0E: (5, 5), 0x9F0F: (5, 5), 0x9F14: (1, 1),
            0x9F23: (1, 1), 0x9F42: (2, 2), 0x8C: (2, 252), 0x8D: (2, 252), 0x9F49: (2, 252),
            0x97: (0, 252), 0x57: (1, 19), 0x9F4A: (0, 252), 0x8E: (0, 252)}


class Terminate(Exception):
    """End the transaction now without a cryptogram (Book 3: 'terminate')."""


# A transaction's two tag tables hold some 30 ICC and 30 terminal data objects (33 and 29 at
# most over the kernel's tests).  A dict grows when it is full, in steps (..., 29, 37, 47
# entries): the ICC table grew 29 -> 37 at the first GENERATE AC, one block of 592 bytes on the
# 64-bit port that a card sale late in a day did not find ("out of memory", nothing charged).
# The kernel makes both tables once, at TABLE entries, and each transaction empties them: a
# dict emptied by popitem() keeps its table (deleted slots are reused).
TABLE = 47


def _table(n=TABLE):
    d = {}
    for i in range(n):
        d[i] = None
    _emptied(d)
    return d


def _emptied(d):
    while d:
        d.popitem()
    return d


class Transaction:
    """State of one transaction (the kernel's working data; lives in RAM only).

    Every attribute is set here, 29 at most: MicroPython sizes an instance's table in steps (...,
    23, 29, 37 entries), and an attribute first set mid-transaction (`pin_block`, at cardholder
    verification) grew it there to 37, one block of 592 bytes on the 64-bit port, which a
    basket's card sale did not find ("out of memory", nothing charged)."""

    # the kernel's own, read through it: one entry in the instance's table instead of five
    cfg = property(lambda self: self.kernel.cfg)
    card = property(lambda self: self.kernel.card)
    ui = property(lambda self: self.kernel.ui)
    keystore = property(lambda self: self.kernel.keystore)
    random = property(lambda self: self.kernel.random)

    def __init__(self, kernel, amount, other, kind, when):
        self.kernel = kernel
        self.amount = amount
        self.other = other
        self.kind = kind
        self.tx_type = _TYPES.get(kind, 0x00) if not (other and kind == "sale") else 0x09
        self.today = when[0]        # YYMMDD BCD
        self.tvr = T.Bits(T.TVR_LEN)
        self.tsi = T.Bits(T.TSI_LEN)
        self.data = _emptied(kernel.tables[0])  # ICC data objects by tag
        self.term = _emptied(kernel.tables[1])  # terminal data objects by tag
        self.aip = b"\x00\x00"
        self.aid = b""
        self.scheme = None
        self.pan = ""
        self.static_data = bytearray()
        self.static_ok = True
        self.oda = ""
        self.issuer_key = None
        self.icc_key = None
        self.pin_key = None
        self.pin_block = None       # the enciphered online PIN block (cardholder verification)
        self.pdol_data = b""
        self.cdol1_data = b""
        self.cvm_x = self.cvm_y = 0
        self.out = _out.Outcome()
        t = self.term
        t[0x9F02] = _dol.bcd(amount, 6)
        t[0x9F03] = _dol.bcd(other, 6)
        t[0x9A] = when[0]
        t[0x9F21] = when[1]
        t[0x9C] = bytes((self.tx_type,))
        t[0x9F37] = self.random(4)
        term = self.cfg.terminal
        t[0x9F1A] = term.country_code
        t[0x5F2A] = term.currency_code
        t[0x5F36] = bytes((term.currency_exponent,))
        t[0x9F35] = term.terminal_type
        t[0x9F33] = term.capabilities
        t[0x9F40] = term.additional_capabilities
        t[0x9F1E] = term.ifd_serial
        t[0x9F1C] = term.terminal_id
        t[0x9F16] = term.merchant_id
        t[0x9F15] = term.merchant_category
        t[0x9F39] = b"\x05"                          # POS entry mode: chip
        t[0x9F41] = _dol.bcd(kernel.sequence, 4)
        t[0x8A] = b"\x00\x00"

    def release(self):
        """Between transactions: the card's data, keys and PIN block let go; the object stays for
        the next transaction (Kernel.process sets it again with __init__), so its table of 29
        attributes is not grown again step by step (nine rehashes) every sale."""
        self.pan = ""
        self.pin_block = None
        self.issuer_key = self.icc_key = self.pin_key = None
        self.static_data = None
        self.pdol_data = self.cdol1_data = b""
        self.out = None

    def trace(self, text):
        self.out.trace.append(text)

    def ui_message(self, text):
        if self.ui is not None and hasattr(self.ui, "message"):
            self.ui.message(text)

    def source(self):
        """Data for DOLs: the terminal's objects, then the card's (no merged copy)."""
        t = self.term
        t[0x95] = self.tvr.bytes()
        t[0x9B] = self.tsi.bytes()
        return _Source(t, self.data)


class _Source:
    """A read-only {tag: bytes} view over terminal data, then ICC data."""

    def __init__(self, term, card):
        self.term = term
        self.card = card

    def get(self, tag, default=None):
        v = self.term.get(tag)
        if v is None:
            v = self.card.get(tag, default)
        return v

    def __getitem__(self, tag):
        v = self.get(tag)
        if v is None:
            raise KeyError(tag)
        return v

    def __contains__(self, tag):
        return tag in self.term or tag in self.card

    def __setitem__(self, tag, value):
        self.term[tag] = value


def _today():
    try:
        y, mo, d, h, mi, s = time.localtime()[:6]
    except Exception:
        y, mo, d, h, mi, s = 2000, 1, 1, 0, 0, 0
    return (_dol.bcd((y % 100) * 10000 + mo * 100 + d, 3), _dol.bcd(h * 10000 + mi * 100 + s, 3))


def _default_random(n):
    try:
        import os
        return os.urandom(n)
    except (ImportError, AttributeError):
        import random
        return bytes(random.getrandbits(8) for _ in range(n))


class _LocalRequest:
    """AuthRequest stand-in with the agreed fields (pos.payments.authorizer owns the real one)."""

    def __init__(self, **kw):
        for k in kw:
            setattr(self, k, kw[k])


try:
    # imported with the kernel, not mid-transaction: loading a module on a heap fragmented
    # by the transaction can fail where the same import at start-up does not
    from pos.payments.authorizer import AuthRequest as _AuthRequest
except ImportError:
    _AuthRequest = _LocalRequest


def _auth_request(**kw):
    return _AuthRequest(**kw)


class Kernel:
    def __init__(self, config, transmit, ui=None, authorizer=None, keystore=None, txlog=None,
                 random=None, draw=None, clock=None):
        self.cfg = config
        self.tables = (_table(), _table())     # a transaction's ICC and terminal data (TABLE)
        self.card = _apdu.Card(transmit)
        self.ui = ui
        self.authorizer = authorizer
        self.keystore = keystore
        self.txlog = txlog if txlog is not None else _risk.TransactionLog(config.terminal.transaction_log_size)
        self.random = random or _default_random
        self.draw = draw or (lambda: 1 + self.random(1)[0] % 99)
        self.clock = clock or _today
        self.sequence = 0
        self._tx = None                         # the Transaction, made once and set again per sale

    # ------------------------------------------------------------------ public
    def detach(self):
        """Between transactions: drop the card link, the cardholder UI, the authorizer and the
        last host exchange (request and reply: PAN, ICC data), the card's data objects and the
        transaction's keys and PIN block, so nothing of a finished
        transaction stays in RAM; the next transaction sets them again."""
        self.card = None
        self.ui = None
        self.authorizer = None
        self._host = None
        _emptied(self.tables[0])               # the card's data objects (PAN, track 2 equivalent)
        _emptied(self.tables[1])
        if self._tx is not None:
            self._tx.release()

    def process(self, amount, kind="sale", other_amount=0, force_online=False, offer=None):
        """Run one transaction; always returns an Outcome (never raises for card faults).
        offer: fn(pan, amount) -> the amount to authorise, asked once the records are read
        (the PAN is known) and before anything uses the amount: CVM list amounts, floor limit,
        CDOL1 of the first GENERATE AC (a card-linked offer of the issuer; pos.offers)."""
        if not isinstance(amount, int) or amount < 0 or amount > 999999999999:
            raise ValueError("amount must be 0..999999999999 minor units, got %r" % (amount,))
        self.sequence = (self.sequence + 1) % 100000000      # 9F41: n, at most 8 digits
        tx = self._tx
        if tx is None:
            tx = self._tx = Transaction(self, amount, other_amount, kind, self.clock())
        else:
            tx.__init__(self, amount, other_amount, kind, self.clock())
        self._host = None
        o = tx.out
        try:
            self._run(tx, force_online, offer)
        except (Terminate, CardError, ValueError) as exc:
            # ValueError: TLV/DOL/crypto rejected card data (TLVError, CryptoError)
            self._abort(tx, exc)
        except MemoryError:
            self._abort(tx, "out of memory")
        except (IndexError, KeyError, TypeError) as exc:
            # a card answer of an unexpected shape that no check above caught
            log.error("emv", "unexpected card data", error=type(exc).__name__)
            self._abort(tx, "card data not understood (%s)" % type(exc).__name__)
        o.tvr = tx.tvr.hex()
        o.tsi = tx.tsi.hex()
        if tx.scheme is not None and o.cryptogram_type:
            try:
                o.field55 = _out.field55(tx.scheme.field55, tx.source())
            except MemoryError:
                o.message = o.message or "out of memory building field 55"
        try:
            log.info("emv", "outcome", result=o.result, aid=o.aid, tvr=o.tvr, tsi=o.tsi,
                     cid=o.cid, cvm=o.cvm_results, pan=tx.pan, msg=o.message,
                     online="yes" if o.online else "no")
        except MemoryError:
            pass            # a log line never costs the transaction its outcome
        tx.pan = ""
        return o

    def _abort(self, tx, exc):
        o = tx.out
        # after a cryptogram the transaction is declined, before it terminated (Book 4 6.3)
        o.result = _out.DECLINED if o.cryptogram_type else _out.TERMINATED
        o.message = str(exc) if isinstance(exc, Exception) else exc
        # Book 4 11.2 standard messages
        tx.ui_message("CARD ERROR" if isinstance(exc, CardError) else "PROCESSING ERROR")
        if isinstance(exc, ValueError) and not isinstance(exc, CardError):
            o.message = "card data rejected: %s" % exc
        if self._host is not None:
            # host approved but the card never confirmed: reverse (Book 4 12.2.5)
            self._complete_host(tx, False)

    # ------------------------------------------------------------------ steps
    def _run(self, tx, force_online, offer):
        o = tx.out
        cands = _sel.candidate_list(self.card, self.cfg, o.trace)
        if not cands:
            o.result = _out.NOT_ACCEPTED
            o.message = "no supported application on the card"
            return
        self._select_and_initiate(tx, cands)
        self._read_records(tx)
        if offer is not None:
            self._offer(tx, offer)
        self._offline_data_authentication(tx)
        self._processing_restrictions(tx)
        self._cardholder_verification(tx)
        _risk.run(tx, self.txlog, self.draw)
        if force_online:
            tx.tvr.set(T.MERCHANT_FORCED_ONLINE)        # Book 4 6.3.6
        p1 = self._terminal_action_analysis(tx)
        cid = self._first_generate_ac(tx, p1)
        if cid == ARQC:
            self._online(tx)
        else:
            self._finish_offline(tx, cid)

    def _select_and_initiate(self, tx, cands):
        """Final selection (Book 1 12.4) and GET PROCESSING OPTIONS (Book 3 10.1)."""
        o = tx.out
        while True:
            cand = _sel.choose(cands, self.cfg, self.ui, o.trace)
            if cand is None:
                raise Terminate("no application left to try")
            fci, sw = _sel.final_select(self.card, cand)
            if fci is None:
                o.trace.append("SELECT %s failed (SW %04X): removed" % (cand.aid.hex().upper(), sw))
                cands.remove(cand)
                tx.ui_message("TRY AGAIN")
                continue
            _emptied(tx.data)
            for tag in (0x84, 0x50, 0x87, 0x9F38, 0x5F2D, 0x9F11, 0x9F12):
                v = tlv.tlv_find(fci, tag)
                if v is not None:
                    tx.data[tag] = v
            tx.aid = cand.aid
            tx.term[0x4F] = cand.aid
            tx.term[0x9F06] = cand.term_aid
            tx.scheme = self.cfg.scheme_for(cand.term_aid)
            tx.term[0x9F09] = tx.scheme.app_version
            tx.term[0x9F1B] = tx.scheme.floor_limit.to_bytes(4, "big")
            o.aid = cand.aid.hex().upper()
            o.label = cand.label
            o.scheme = tx.scheme.name
            pdol = tx.data.get(0x9F38)
            tx.pdol_data = _dol.dol_build(pdol, tx.source()) if pdol else b""
            data, sw = self.card.get_processing_options(tx.pdol_data)
            if sw == 0x6985:
                # conditions of use not satisfied: next application (Book 3 10.1)
                o.trace.append("GPO 6985 for %s: conditions of use not satisfied" % o.aid)
                cands.remove(cand)
                tx.ui_message("NOT ACCEPTED")
                continue
            if sw != 0x9000:
                raise Terminate("GET PROCESSING OPTIONS failed (SW %04X)" % sw)
            self._parse_gpo(tx, data)
            return

    def _parse_gpo(self, tx, data):
        try:
            aip = afl = None
            for tag, s, e, cons in tlv.tlv_iter(data):
                if tag == 0x80:                 # format 1: AIP || AFL
                    v = data[s:e]
                    if len(v) < 2:
                        raise ValueError("format 1 too short")
                    aip, afl = bytes(v[:2]), bytes(v[2:])
                elif tag == 0x77:               # format 2: template
                    body = data[s:e]
                    aip = tlv.tlv_find(body, 0x82)
                    afl = tlv.tlv_find(body, 0x94)
                    self._store_template(tx, body, (0x82, 0x94))
                break
        except ValueError as exc:
            raise Terminate("GPO response malformed (%s)" % exc)
        if aip is None or len(aip) != 2 or afl is None or len(afl) % 4 or not afl:
            raise Terminate("GPO response without a valid AIP/AFL")
        tx.aip = aip
        tx.data[0x82] = aip
        tx.data[0x94] = afl

    def _store_template(self, tx, body, skip=()):
        for tag, s, e, cons in tlv.tlv_iter(body):
            if tag in skip:
                continue
            if tag in tx.data and not cons:
                # Book 3 7.5: a primitive object returned twice is an error
                raise Terminate("card returned data object %X twice" % tag)
            tx.data[tag] = bytes(body[s:e])

    def _read_records(self, tx):
        """READ RECORD for each AFL entry (Book 3 10.2); collect ODA static data."""
        afl = tx.data[0x94]
        for i in range(0, len(afl), 4):
            sfi = afl[i] >> 3
            first, last, n_oda = afl[i + 1], afl[i + 2], afl[i + 3]
            if not 1 <= sfi <= 30 or first == 0 or last < first or n_oda > last - first + 1:
                raise Terminate("AFL entry %s invalid" % bytes(afl[i:i + 4]).hex())
            for rec in range(first, last + 1):
                data, sw = self.card.read_record(sfi, rec)
                if sw != 0x9000:
                    raise Terminate("READ RECORD SFI %d record %d failed (SW %04X)" % (sfi, rec, sw))
                try:
                    it = tlv.tlv_iter(data)
                    tag, s, e, cons = next(it)
                    if tag != 0x70:
                        raise ValueError("not a 70 template")
                    for _ in it:
                        raise ValueError("data after the record template")
                    self._store_template(tx, data[s:e])
                except (ValueError, StopIteration) as exc:
                    raise Terminate("record SFI %d/%d malformed (%s)" % (sfi, rec, exc))
                if rec < first + n_oda:
                    # Book 3 10.3: SFI 1-10 -> template value; 11-30 -> whole record
                    tx.static_data.extend(data[s:e] if sfi <= 10 else data)
        for tag in _MANDATORY:
            if tag not in tx.data:
                raise Terminate("card data incomplete: mandatory %X missing (ICC data missing)" % tag)
        for tag in _LENGTHS:
            v = tx.data.get(tag)
            if v is not None and not _LENGTHS[tag][0] <= len(v) <= _LENGTHS[tag][1]:
                raise Terminate("card data object %X has a bad length (%d)" % (tag, len(v)))
        pan = bytes(tx.data[0x5A]).hex().upper()
        tx.pan = pan.rstrip("F")
        o = tx.out
        o.masked_pan = log.mask_pan(tx.pan)
        psn = tx.data.get(0x5F34)
        o.pan_seq = bytes(psn).hex() if psn else ""
        tx.trace("read %d records, PAN %s" % (len(afl) // 4, o.masked_pan))

    def _offer(self, tx, offer):
        """The amount after a card-linked offer: Amount, Authorised (9F02) for everything from
        here on; only ever lowered (the cardholder agreed to the amount shown)."""
        new = offer(tx.pan, tx.amount)
        if new == tx.amount:
            return
        if not isinstance(new, int) or not 0 < new < tx.amount:
            raise Terminate("offer gave amount %r for %d" % (new, tx.amount))
        tx.trace("offer: amount %d -> %d" % (tx.amount, new))
        tx.amount = new
        tx.term[0x9F02] = _dol.bcd(new, 6)
        tx.out.amount = new

    def _offline_data_authentication(self, tx):
        """Book 3 10.3: choose CDA > DDA > SDA by AIP and 9F33 byte 3."""
        caps = self.cfg.terminal.capabilities[2]
        aip = tx.aip[0]
        if aip & 0x01 and caps & 0x08:
            method = "CDA"
        elif aip & 0x20 and caps & 0x40:
            method = "DDA"
        elif aip & 0x40 and caps & 0x80:
            method = "SDA"
        else:
            tx.tvr.set(T.ODA_NOT_PERFORMED)
            tx.trace("ODA: not performed (no common method)")
            return
        tx.oda = tx.out.oda = method
        tx.tsi.set(T.TSI_ODA_PERFORMED)
        failed = {"SDA": T.SDA_FAILED, "DDA": T.DDA_FAILED, "CDA": T.CDA_FAILED}[method]
        if method == "SDA":
            tx.tvr.set(T.SDA_SELECTED)
        try:
            tag_list = tx.data.get(0x9F4A)
            if tag_list is not None:
                if bytes(tag_list) != b"\x82":
                    raise _oda.OdaFailure("static data tag list (9F4A) other than AIP")
                tx.static_data.extend(tx.aip)
            tx.issuer_key = _oda.issuer_key(self.cfg, tx.aid[:5], tx.data, tx.today)
            if method == "SDA":
                tx.data[0x9F45] = _oda.verify_sda(tx.issuer_key, tx.data, tx.static_data)
            else:
                tx.icc_key = _oda.icc_key(tx.issuer_key, tx.data, tx.static_data, tx.today)
                if method == "DDA":
                    self._dda(tx)
            tx.trace("ODA: %s %s" % (method, "verified" if method != "CDA" else "keys recovered"))
        except _oda.OdaFailure as exc:
            tx.tvr.set(failed)
            if exc.missing:
                tx.tvr.set(T.ICC_DATA_MISSING)
            tx.trace("ODA: %s failed: %s" % (method, exc))
            if method == "CDA":
                tx.icc_key = None
        tx.static_data = None       # no longer needed

    def _dda(self, tx):
        """Book 2 6.5: INTERNAL AUTHENTICATE with the DDOL."""
        ddol = tx.data.get(0x9F49) or tx.scheme.default_ddol
        if not any(t == 0x9F37 for t, n in _dol.dol_parse(ddol)):
            raise _oda.OdaFailure("DDOL without the unpredictable number (9F37)")
        ddol_data = _dol.dol_build(ddol, tx.source())
        data, sw = self.card.internal_authenticate(ddol_data)
        if sw != 0x9000:
            raise _oda.OdaFailure("INTERNAL AUTHENTICATE failed (SW %04X)" % sw)
        dd = _oda.verify_dynamic(tx.icc_key, _oda.dda_response(data), (ddol_data,))
        tx.term[0x9F4C] = dd[1:1 + dd[0]] if dd else b""

    def _processing_restrictions(self, tx):
        """Book 3 10.4: application version, usage control, dates."""
        d = tx.data
        v = d.get(0x9F08)
        if v is not None and v != tx.scheme.app_version:
            tx.tvr.set(T.VERSIONS_DIFFER)
        auc = d.get(0x9F07)
        if auc is not None and len(auc) == 2:
            term = self.cfg.terminal
            atm = term.terminal_type[0] in (0x14, 0x15, 0x16)
            ok = auc[0] & (0x02 if atm else 0x01)
            country = d.get(0x5F28)
            if ok and country is not None:
                domestic = country == term.country_code
                t = tx.tx_type
                if t == 0x01:
                    ok = auc[0] & (0x80 if domestic else 0x40)
                elif t in (0x00, 0x09):
                    ok = auc[0] & (0x20 | 0x08 if domestic else 0x10 | 0x04)
                    if ok and t == 0x09:
                        ok = auc[1] & (0x80 if domestic else 0x40)
            if not ok:
                tx.tvr.set(T.SERVICE_NOT_ALLOWED)
                tx.trace("restrictions: service not allowed by AUC %s" % bytes(auc).hex())
        eff = d.get(0x5F25)
        if eff is not None and _date_key(eff) > _date_key(tx.today):
            tx.tvr.set(T.NOT_YET_EFFECTIVE)
        if _date_key(d[0x5F24]) < _date_key(tx.today):
            tx.tvr.set(T.EXPIRED_APPLICATION)
            tx.trace("restrictions: application expired")

    def _cardholder_verification(self, tx):
        v = _cvm.Verifier(tx)
        res = v.run()
        tx.term[0x9F34] = res
        o = tx.out
        o.cvm_results = bytes(res).hex().upper()
        o.cvm = _cvm.NAMES.get(res[0] & 0x3F, "none") if res[0] != 0x3F else "none"
        o.signature_required = v.signature
        tx.pin_block = v.pin_block

    def _terminal_action_analysis(self, tx):
        """Book 3 10.7: TAC/IAC denial, online, default -> cryptogram to request."""
        s = tx.scheme
        d = tx.data
        iac_denial = d.get(0x9F0E, b"\x00" * 5)
        iac_online = d.get(0x9F0F, b"\xff" * 5)
        iac_default = d.get(0x9F0D, b"\xff" * 5)
        tvr = tx.tvr
        if tvr.matches(iac_denial) or tvr.matches(s.tac_denial):
            tx.trace("TAA: denial action codes match: AAC")
            return AAC
        if self.cfg.terminal.online_capable:
            if tvr.matches(iac_online) or tvr.matches(s.tac_online):
                tx.trace("TAA: online action codes match: ARQC")
                return ARQC
            return TC
        if tvr.matches(iac_default) or tvr.matches(s.tac_default):
            tx.trace("TAA: offline-only terminal, default action codes match: AAC")
            return AAC
        return TC

    def _use_cda(self, tx, request):
        return tx.oda == "CDA" and tx.icc_key is not None and request != AAC

    def _tc_hash(self, tx, cdol, source):
        # Book 3 5.4 / 10.7: TC Hash Value (98) over the TDOL data
        if any(t == 0x98 for t, n in _dol.dol_parse(cdol)):
            tdol = tx.data.get(0x97)
            if tdol is None:
                tdol = tx.scheme.default_tdol
                if tdol:
                    tx.tvr.set(T.DEFAULT_TDOL_USED)
                    source[0x95] = tx.tvr.bytes()
            source[0x98] = crypto.sha1(_dol.dol_build(tdol, source) if tdol else b"")

    def _generate_ac(self, tx, request, cdol_tag, extra_hash_parts):
        cdol = tx.data[cdol_tag]
        source = tx.source()
        self._tc_hash(tx, cdol, source)
        cdol_data = _dol.dol_build(cdol, source)
        cda = self._use_cda(tx, request)
        data, sw = self.card.generate_ac(request | (_CDA if cda else 0), cdol_data)
        if sw != 0x9000:
            raise Terminate("GENERATE AC failed (SW %04X)" % sw)
        resp = {}
        tlvs = bytearray()
        try:
            tag, s, e, cons = next(tlv.tlv_iter(data))
            body = data[s:e]
            if tag == 0x80:                         # format 1 (Book 3 6.5.5.4); with CDA only for an AAC
                if len(body) < 11:
                    raise ValueError("format 1 too short")
                resp[0x9F27] = body[0:1]
                resp[0x9F36] = body[1:3]
                resp[0x9F26] = body[3:11]
                if len(body) > 11:
                    resp[0x9F10] = body[11:]
            elif tag == 0x77:
                for t, s2, e2, c2 in tlv.tlv_iter(body):
                    resp[t] = bytes(body[s2:e2])
                    if t != 0x9F4B:
                        tlvs.extend(tlv.tlv_encode(t, resp[t]))
            else:
                raise ValueError("unexpected template %X" % tag)
        except (ValueError, StopIteration) as exc:
            raise Terminate("GENERATE AC response malformed (%s)" % exc)
        cid = resp.get(0x9F27)
        if cid is None or len(cid) != 1 or 0x9F36 not in resp:
            raise Terminate("GENERATE AC response without CID/ATC")
        ctype = cid[0] & 0xC0
        if ctype not in _RANK or _RANK[ctype] > _RANK[request]:
            raise Terminate("card answered %s to a %s request" % (_out.CRYPTOGRAM_TYPES.get(ctype, "RFU"),
                                                                 _out.CRYPTOGRAM_TYPES[request]))
        if cda and ctype != AAC:
            hash_input = b"".join(extra_hash_parts) + cdol_data + bytes(tlvs)
            try:
                idn, ac = _oda.cda_check(tx.icc_key, resp.get(0x9F4B), tx.term[0x9F37], cid[0], hash_input)
                resp[0x9F26] = ac
                tx.term[0x9F4C] = idn
                tx.trace("CDA: signature verified")
            except _oda.OdaFailure as exc:
                tx.tvr.set(T.CDA_FAILED)
                if exc.missing:
                    tx.tvr.set(T.ICC_DATA_MISSING)
                tx.trace("CDA: %s" % exc)
                resp["cda_failed"] = True
        if 0x9F26 not in resp and ctype != AAC or 0x9F26 in resp and len(resp[0x9F26]) != 8:
            if not resp.get("cda_failed"):
                raise Terminate("GENERATE AC response without a valid cryptogram")
        for t in (0x9F27, 0x9F36, 0x9F26, 0x9F10):
            if t in resp:
                tx.data[t] = resp[t]
        o = tx.out
        o.cid = bytes(cid).hex().upper()
        o.cryptogram_type = _out.CRYPTOGRAM_TYPES[ctype]
        o.cryptogram = bytes(resp.get(0x9F26, b"")).hex().upper()
        o.atc = bytes(resp[0x9F36]).hex().upper()
        return ctype, cdol_data, resp

    def _first_generate_ac(self, tx, request):
        ctype, tx.cdol1_data, resp = self._generate_ac(tx, request, 0x8C, (tx.pdol_data,))
        tx.tsi.set(T.TSI_CARD_RISK_MANAGEMENT)        # Book 3 10.8
        tx.out.first_cryptogram_type = tx.out.cryptogram_type
        if resp.get("cda_failed"):
            if ctype == ARQC:
                # Book 4 6.3.7: CDA failed on an ARQC: complete with an AAC request
                self._second_generate_ac(tx, AAC, b"Z1")
            tx.out.result = _out.DECLINED
            tx.out.message = "card authentication (CDA) failed"
            return None
        tx.trace("1st GENERATE AC: requested %s, card gave %s" % (_out.CRYPTOGRAM_TYPES[request],
                                                                  tx.out.cryptogram_type))
        return ctype

    def _finish_offline(self, tx, cid):
        o = tx.out
        if cid is None:
            return
        tx.term[0x8A] = b"Y1" if cid == TC else b"Z1"
        o.arc = tx.term[0x8A].decode()
        if cid == TC:
            o.result = _out.APPROVED
            self.txlog.record(tx.pan, tx.amount)
            self._advise(tx, "Y1")
        else:
            o.result = _out.DECLINED
            o.message = "declined offline by the card"

    # -------------------------------------------------------------- online
    def _online(self, tx):
        o = tx.out
        o.online = True
        resp = None
        if self.authorizer is not None:
            tx.ui_message("PLEASE WAIT")
            try:
                req = self._request(tx)
                resp = self.authorizer.authorize(req)
            except Exception as exc:
                tx.trace("online: authorizer failed: %s" % exc)
                resp = None
        if resp is None or getattr(resp, "unable_to_go_online", False):
            return self._unable_to_go_online(tx)
        self._host = (req, resp)
        o.response_code = resp.response_code or ""
        o.auth_code = resp.auth_code or ""
        issuer = resp.icc_data or b""
        try:
            arc = tlv.tlv_find(issuer, 0x8A)
            iad = tlv.tlv_find(issuer, 0x91)
        except ValueError:
            arc = iad = None
            tx.trace("online: issuer data malformed; ignored")
            issuer = b""
        if arc is None or len(arc) != 2:
            arc = (resp.response_code or ("00" if resp.approved else "05"))[:2].encode()
        tx.term[0x8A] = arc
        o.arc = arc.decode()
        if iad is not None:
            tx.term[0x91] = iad
            if tx.aip[0] & 0x04:
                # Book 3 10.9: EXTERNAL AUTHENTICATE when the AIP says issuer authentication
                data, sw = self.card.external_authenticate(iad)
                tx.tsi.set(T.TSI_ISSUER_AUTH_PERFORMED)
                if sw != 0x9000:
                    tx.tvr.set(T.ISSUER_AUTH_FAILED)
                    o.issuer_auth = "failed"
                    tx.trace("issuer authentication failed (SW %04X)" % sw)
                else:
                    o.issuer_auth = "ok"
        results = bytearray()
        self._scripts(tx, issuer, 0x71, results)
        request = TC if resp.approved else AAC
        ctype = self._second_generate_ac(tx, request, None)
        self._scripts(tx, issuer, 0x72, results)
        if results:
            o.script_results = bytes(results).hex().upper()
            tx.term[0x9F5B] = bytes(results)
        card_ok = ctype == TC
        if resp.approved and card_ok:
            o.result = _out.APPROVED
            self.txlog.record(tx.pan, tx.amount)
        else:
            o.result = _out.DECLINED
            o.message = (resp.text or "declined by the issuer") if not resp.approved \
                else "card declined after issuer approval"
        self._complete_host(tx, card_ok)

    def _request(self, tx):
        o = tx.out
        f55 = _out.field55(tx.scheme.field55, tx.source())
        exp = tx.data.get(0x5F24)
        t2 = tx.data.get(0x57)
        # Track 2 Equivalent Data (57): separator D -> '=' as on the magnetic stripe
        return _auth_request(kind=_HOST_KINDS.get(tx.kind, tx.kind), amount=tx.amount,
                             currency=bytes(tx.term[0x5F2A]).hex()[1:], pan=tx.pan,
                             expiry=bytes(exp).hex()[:4], pan_seq=o.pan_seq or None,
                             track2=bytes(t2).hex().upper().rstrip("F").replace("D", "=") if t2 else None,
                             entry_mode="chip", icc_data=f55, pin_block=getattr(tx, "pin_block", None),
                             scheme=tx.scheme.name, aid=o.aid)

    def _advise(self, tx, arc):
        """An offline approval (Y1, Y3) goes to the host as an advice (0220) when the
        authorizer keeps a batch (pos.payments.engine: store and forward)."""
        adv = getattr(self.authorizer, "advise_offline", None)
        if adv is None:
            return
        try:
            adv(self._request(tx), arc, arc)
        except Exception as exc:
            tx.trace("offline advice not queued: %s" % exc)

    def _complete_host(self, tx, card_ok):
        if self._host is None:
            return
        req, resp = self._host
        self._host = None
        try:
            f55 = _out.field55(tx.scheme.field55, tx.source())
            self.authorizer.complete(req, resp, card_ok, f55)
        except Exception as exc:
            tx.trace("online: completion advice failed: %s" % exc)

    def _unable_to_go_online(self, tx):
        """Book 3 10.7 / Book 4 6.3.8: default action analysis, then 2nd GENERATE AC."""
        o = tx.out
        o.unable_to_go_online = True
        o.online = False                # decided by the terminal and the card, not the issuer
        s = tx.scheme
        iac_default = tx.data.get(0x9F0D, b"\xff" * 5)
        if tx.tvr.matches(iac_default) or tx.tvr.matches(s.tac_default):
            request, arc = AAC, b"Z3"
        else:
            request, arc = TC, b"Y3"
        tx.trace("unable to go online: requesting %s" % _out.CRYPTOGRAM_TYPES[request])
        ctype = self._second_generate_ac(tx, request, arc)
        if ctype == TC:
            o.result = _out.APPROVED
            o.message = "unable to go online; approved offline"
            self.txlog.record(tx.pan, tx.amount)
            self._advise(tx, "Y3")
        else:
            o.result = _out.DECLINED
            o.message = "unable to go online; declined"

    def _second_generate_ac(self, tx, request, arc):
        if arc is not None:
            tx.term[0x8A] = arc
            tx.out.arc = arc.decode()
        ctype, cdol2, resp = self._generate_ac(tx, request, 0x8D, (tx.pdol_data, tx.cdol1_data))
        if resp.get("cda_failed"):
            return AAC
        tx.trace("2nd GENERATE AC: requested %s, card gave %s" % (_out.CRYPTOGRAM_TYPES[request],
                                                                  tx.out.cryptogram_type))
        if ctype == ARQC:
            raise Terminate("card answered ARQC to the second GENERATE AC")
        return ctype

    def _scripts(self, tx, issuer, which, results):
        """Book 3 10.10: run issuer scripts 71 (before) or 72 (after the final GENERATE AC)."""
        if not issuer:
            return
        for tag, s, e, cons in tlv.tlv_iter(issuer):
            if tag != which:
                continue
            tx.tsi.set(T.TSI_SCRIPT_PROCESSING)
            body = issuer[s:e]
            sid = b"\x00\x00\x00\x00"
            status = 0x20               # performed successfully
            n = 0
            try:
                for t, s2, e2, c2 in tlv.tlv_iter(body):
                    if t == 0x9F18:
                        sid = bytes(body[s2:e2])
                    elif t == 0x86:
                        n += 1
                        data, sw = self.card.raw(bytes(body[s2:e2]))
                        if sw >> 8 not in (0x90, 0x62, 0x63):
                            status = 0x10 | min(n, 15)
                            break
            except ValueError:
                status = 0x10
            if status != 0x20:
                tx.tvr.set(T.SCRIPT_FAILED_BEFORE_FINAL_AC if which == 0x71 else T.SCRIPT_FAILED_AFTER_FINAL_AC)
                tx.trace("issuer script %s failed" % sid.hex())
            results.append(status)
            results.extend(sid)


def _date_key(yymmdd):
    y = (yymmdd[0] >> 4) * 10 + (yymmdd[0] & 15)
    return (y + (1900 if y >= 50 else 2000)) * 10000 + int(bytes(yymmdd[1:3]).hex())
