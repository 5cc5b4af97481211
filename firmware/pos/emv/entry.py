# EMV contactless: Entry Point (EMV Contactless Book B, subset) and a Visa-like kernel for
# online qVSDC transactions (Book C-3, subset: GET PROCESSING OPTIONS returns the ARQC; no
# fDDA, so card-approved offline outcomes are declined and the cardholder asked to insert).
#
#   ep = EntryPoint(emv_config, transmit, authorizer, indicators=leds_and_buzzer)
#   o = ep.process(amount)               # pos.emv.outcome.Outcome (result, message, cvm, ...)
#   o = ep.process(amount, offer=fn)     # fn(pan, amount) -> amount; another one: o.tap_again
#
# Pre-processing per AID from config/contactless.json: reader contactless transaction limit
# (above it: try another interface), CVM required limit (above it the TTQ asks for a CVM;
# a phone's consumer device CVM satisfies it, a card gives signature), floor limit.  The
# status indicators follow Book A 9.2: LED 1 ready, LED 2 while the card is read, all four
# and the success tone when the card can be removed, the alert tone on failure.
import json
import os
import time
from binascii import hexlify

from pos import log
from pos.emv import dol, oda, outcome as _out, tlv
from pos.emv.errors import CardError
# loaded with Entry Point, not at each tap (an import statement costs a name look-up every time,
# and loading a module mid-transaction on a fragmented heap can fail where it does not here)
from pos.payments.authorizer import AuthRequest

PPSE = b"2PAY.SYS.DDF01"
_F55 = (0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82, 0x9F1A, 0x9F03,
        0x9F66, 0x9F6C, 0x5F34)
_WANTED = _F55 + (0x57, 0x5F24, 0x94, 0x9F4B, 0x9F69)   # what the GPO answer is read for
_SELECT_PPSE = b"\x00\xa4\x04\x00" + bytes((len(PPSE),)) + PPSE + b"\x00"
# what fDDA reads from the records (pos.emv.oda: CA key index, issuer and ICC certificates,
# exponents, remainders, the PAN); the rest of the records (track 2, the name...) is not copied
_ODA_TAGS = (0x8F, 0x90, 0x92, 0x9F32, 0x9F46, 0x9F47, 0x9F48, 0x5A)
_ZEROS = bytes(6)
_ZEROS5 = bytes(5)


class ContactlessConfig:
    def __init__(self, path="config/contactless.json"):
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError("contactless config %s: %s" % (path, exc))
        self.ttq = bytes.fromhex(d.get("ttq", "36004000"))
        self.aids = {}
        for aid, a in d.get("aids", {}).items():
            self.aids[bytes.fromhex(aid)] = (a.get("rctl", 10000000), a.get("cvm_limit", 5000),
                                             a.get("floor", 0), a.get("kernel", 3))


class EntryPoint:
    def __init__(self, emv_config, transmit, authorizer, indicators=None, cl_config=None, clock=None):
        self.cfg = emv_config
        self.cl = cl_config or ContactlessConfig()
        self.transmit = transmit
        self.authorizer = authorizer
        self.ind = indicators
        self.clock = clock
        self.field_us = 0
        self.kernel2 = False

    def _ind(self, what):
        if self.ind is not None:
            _signal(self.ind, what)

    def _cmd(self, apdu):
        r = self.transmit(apdu)
        if len(r) < 2:
            raise CardError("answer without status word")
        return r[:-2], (r[-2] << 8) | r[-1]

    def process(self, amount, kind="sale", offer=None):
        """One tap.  offer: fn(pan, amount) -> the amount to authorise (a card-linked offer of
        the issuer, pos.offers).  The card signed `amount` in its GPO answer, so when the offer
        changes it nothing goes to the host: the outcome is TERMINATED with `tap_again` set to
        the new amount, and the cardholder taps again for it."""
        o = _out.Outcome()
        t0 = time.ticks_us()
        self._ind("reading")
        try:
            self._run(o, amount, kind, offer)
        except CardError as exc:
            o.result = _out.TERMINATED
            o.message = "try again: %s" % exc
        except Exception as exc:                   # NfcError (removed), TLV errors
            reason = getattr(exc, "reason", "")
            o.result = _out.TERMINATED
            o.message = ("try again: card removed" if reason in ("removed", "timeout")
                         else "try again: %s" % exc)
        self.field_us = time.ticks_diff(time.ticks_us(), t0)
        if not self.kernel2:                       # kernel 2 sounds its own outcome
            self._ind("success" if o.result in (_out.APPROVED, _out.DECLINED) else "alert")
        log.info("emv", "contactless outcome", result=o.result, msg=o.message, pan=o.masked_pan,
                 field_ms=self.field_us // 1000)
        return o

    def _run(self, o, amount, kind, offer=None):
        # pre-processing (Book B 3.1) needs the AIDs' limits: done per candidate below
        fci, sw = self._cmd(_SELECT_PPSE)
        if sw != 0x9000:
            o.result = _out.NOT_ACCEPTED
            o.message = "no PPSE: insert or swipe"
            return
        directory = tlv.tlv_find_path(fci, (0x6F, 0xA5, 0xBF0C)) or b""
        cands = []
        for tag, s, e, c in tlv.tlv_iter(directory):
            if tag != 0x61:
                continue
            entry = directory[s:e]
            aid = tlv.tlv_find(entry, 0x4F)
            prio = tlv.tlv_find(entry, 0x87)
            if not aid:
                continue
            for cfg_aid in self.cl.aids:
                if aid.startswith(cfg_aid):              # (no slice made per configured AID)
                    cands.append(((prio or b"\x0f")[0] & 0x0F, aid, cfg_aid))
        if not cands:
            o.result = _out.NOT_ACCEPTED
            o.message = "no supported application: insert or swipe"
            return
        cands.sort()
        # final selection; an application that does not answer 9000 is skipped: Select Next
        # (Book B 3.3.3)
        for _prio, aid, cfg_aid in cands:
            fci, sw = self._cmd(bytes((0x00, 0xA4, 0x04, 0x00, len(aid))) + aid + b"\x00")
            if sw == 0x9000:
                break
            log.info("emv", "select next", aid=_hex(aid), sw="%04X" % sw)
        else:
            o.result = _out.TERMINATED
            o.message = "try again: no application could be selected"
            return
        rctl, cvm_limit, floor, kernel_id = self.cl.aids[cfg_aid]
        if amount > rctl:
            o.result = _out.TERMINATED
            o.message = "try another interface: over the contactless limit"
            return
        if kernel_id == 2:
            self.kernel2 = True                    # Mastercard-like: the caller runs the M/Chip flow
            o.message = "kernel 2"
            o.aid = _hex(aid)
            return
        o.aid = _hex(aid)
        sch = self.cfg.scheme_for(aid)             # reports and routing count it under its scheme
        o.scheme = sch.name if sch is not None else ""
        label = tlv.tlv_find(fci, 0x50)
        o.label = label.decode() if label else ""
        pdol = tlv.tlv_find(fci, 0x9F38) or b""
        ttq = bytearray(self.cl.ttq)
        cvm_required = amount > cvm_limit
        if cvm_required:
            ttq[1] |= 0x40                         # TTQ byte 2 b7: CVM required
        if amount > floor:
            ttq[1] |= 0x80                         # online cryptogram required
        term = self.cfg.terminal
        today = self.clock() if self.clock else _today()
        src = {0x9F66: bytes(ttq), 0x9F02: dol.bcd(amount, 6), 0x9F03: _ZEROS, 0x9F1A: term.country_code,
               0x95: _ZEROS5, 0x5F2A: term.currency_code, 0x9A: today, 0x9C: b"\x00", 0x9F37: os.urandom(4)}
        data = dol.dol_build(pdol, src) if pdol else b""
        gpo, sw = self._cmd(bytes((0x80, 0xA8, 0x00, 0x00, len(data) + 2, 0x83, len(data))) + data + b"\x00")
        if sw == 0x6985:
            o.result = _out.TERMINATED
            o.message = "try another interface: insert card"
            return
        if sw != 0x9000:
            o.result = _out.TERMINATED
            o.message = "try again: GPO answered %04X" % sw
            return
        self._ind("read_done")
        g = tlv.tlv_find(gpo, 0x77) or gpo
        got = tlv.tlv_collect(g, _WANTED, {})
        for t in (0x9F37, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x9F1A, 0x9F03, 0x9F66):
            got.setdefault(t, src[t])
        t2 = got.get(0x57)
        if t2 is None or 0x9F26 not in got:
            o.result = _out.TERMINATED
            o.message = "try again: card data missing"
            return
        # as bytes until the strings needed: every new string is a search of the interned-name pool
        t2s = hexlify(t2).upper().rstrip(b"F")
        pb, _, rb = t2s.partition(b"D")
        pan = pb.decode()
        o.masked_pan = (pb[:6] + b"*" * (len(pb) - 10) + pb[-4:]).decode()
        if offer is not None:
            new = offer(pan, amount)
            if new != amount:
                # the cryptogram covers 9F02 as tapped: this tap cannot be authorised for
                # another amount (Book C-3: the amount is fixed before the card is presented)
                pan = t2s = pb = rb = None
                o.result = _out.TERMINATED
                o.tap_again = new
                o.message = "tap again for the new amount"
                return
        o.cryptogram = _hex(got[0x9F26])
        cid = got.get(0x9F27, b"\x00")[0] & 0xC0
        o.cryptogram_type = _out.CRYPTOGRAM_TYPES.get(cid, "")
        ctq = got.get(0x9F6C, b"\x00\x00")
        if ctq[1] & 0x80:
            o.cvm = "consumer device CVM"
        elif cvm_required:
            o.cvm = "signature"
            o.signature_required = True
        else:
            o.cvm = "no CVM required"
        if cid == 0x40:                            # card approved offline: fDDA decides (Book C-3)
            self._fdda(o, got, rid=aid[:5])
            if o.result == _out.APPROVED and hasattr(self.authorizer, "advise_offline"):
                o.field55 = f55 = _out.field55(_F55, got)
                psn = got.get(0x5F34)
                try:                               # the batch and the host learn of it (0220)
                    self.authorizer.advise_offline(
                        AuthRequest("sale", amount, hexlify(term.currency_code)[1:].decode(), pan,
                                    rb[:4].decode(), pan_seq=bytes(psn).hex() if psn else None,
                                    track2=(pb + b"=" + rb).decode(), entry_mode="contactless",
                                    icc_data=f55, aid=o.aid), "Y1", "Y1")
                except Exception as exc:
                    log.warning("emv", "offline advice not queued", err=str(exc))
            return
        if cid != 0x80:
            o.result = _out.DECLINED
            o.message = "declined by the card"
            return
        o.field55 = f55 = _out.field55(_F55, got)
        o.online = True
        psn = got.get(0x5F34)
        req = AuthRequest("sale" if kind == "sale" else kind, amount, hexlify(term.currency_code)[1:].decode(),
                          pan, rb[:4].decode(), pan_seq=bytes(psn).hex() if psn else None,
                          track2=(pb + b"=" + rb).decode(), entry_mode="contactless", icc_data=f55,
                          scheme=None, aid=o.aid)
        pan = t2s = pb = rb = None
        resp = self.authorizer.authorize(req) if self.authorizer is not None else None
        req = None
        if resp is None or resp.unable_to_go_online:
            o.result = _out.DECLINED
            o.unable_to_go_online = True
            o.message = "unable to go online"
            return
        o.response_code = resp.response_code
        o.auth_code = resp.auth_code
        o.result = _out.APPROVED if resp.approved else _out.DECLINED
        o.message = "" if resp.approved else (resp.text or "declined by the issuer")


    def _fdda(self, o, got, rid):
        """Read the records the AFL names, recover the issuer and ICC keys from the terminal's CA
        keys and check the SDAD over UN || amount || currency || 9F69: approve offline or decline."""
        afl = got.get(0x94) or b""
        card = {}
        static = bytearray()
        for i in range(0, len(afl) - 3, 4):
            sfi, first, last, n_oda = afl[i] >> 3, afl[i + 1], afl[i + 2], afl[i + 3]
            for rec in range(first, last + 1):
                data, sw = self._cmd(bytes((0x00, 0xB2, rec, (sfi << 3) | 4, 0x00)))
                if sw != 0x9000:
                    raise CardError("READ RECORD %d/%d answered %04X" % (sfi, rec, sw))
                body = tlv.tlv_find(data, 0x70)
                if body is None:
                    raise CardError("record %d/%d is not a 70 template" % (sfi, rec))
                if rec - first < n_oda:
                    static += body
                tlv.tlv_store(body, card, _ODA_TAGS)
        today = self.clock() if self.clock else _today()
        try:
            ik = oda.issuer_key(self.cfg, rid, card, today)
            ck = oda.icc_key(ik, card, bytes(static), today)
            oda.verify_dynamic(ck, got.get(0x9F4B) or b"",
                               (bytes(got[0x9F37]), bytes(got[0x9F02]), bytes(got[0x5F2A]),
                                bytes(got.get(0x9F69) or b"")), "fDDA signature")
        except oda.OdaFailure as exc:
            o.result = _out.DECLINED
            o.oda = "fDDA"
            o.message = "fDDA failed: %s" % exc
            return
        o.oda = "fDDA"
        o.result = _out.APPROVED
        o.arc = "Y1"
        o.auth_code = "Y1"


def _signal(ind, what):
    # an indicator that fails does not stop the tap (kept out of _ind: the handler's slots
    # would put _ind's frame on the heap at every call)
    try:
        getattr(ind, what)()
    except Exception:
        pass


def _hex(b):
    """Upper-case hex of b: one new string (bytes.hex().upper() makes two)."""
    return hexlify(b).upper().decode()


def _today():
    y, mo, d = time.localtime()[:3]
    return bytes(((y % 100 // 10) << 4 | y % 10, (mo // 10) << 4 | mo % 10, (d // 10) << 4 | d % 10))


class Indicators:
    """Book A 9.2 on the board's four LEDs and buzzer: ready to read = light 1 (the caller,
    while it polls for a card); processing = lights 1-2; card read = lights 1-3; success =
    all four with the success tone (the caller turns them off 750 ms later); processing
    error = all off with the alert tone."""

    def __init__(self, leds, buzzer):
        self.leds = leds
        self.buzzer = buzzer

    def reading(self):
        if self.leds:
            self.leds.show(2)

    def read_done(self):
        if self.leds:
            self.leds.show(3)

    def success(self):
        if self.leds:
            self.leds.show(4)
        if self.buzzer:
            self.buzzer.success()

    def alert(self):
        if self.leds:
            self.leds.off()
        if self.buzzer:
            self.buzzer.alert()
