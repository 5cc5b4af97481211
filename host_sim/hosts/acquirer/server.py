"""ISO 8583 acquirer host: TCP server (loopback), pyiso8583 codec, issuer logic.

Messages handled (ISO 8583:1987):
  0800 DE70=001 sign-on + working keys (TPK, TAK under the acquirer's TMK, in DE 48)
  0800 DE70=301 echo test
  0100 authorization, 0200 financial (sale, refund, void, completion, balance)
  0220 advice (offline approvals), 0400 reversal, 0320 batch upload
  0500 settlement (DE 3 920000 / 960000 after upload): totals in DE 63 reconciled
Replies: DE 39 response codes 00 05 12 13 14 25 30 51 54 55 57 61 63 75 91 94 95 96.
Faults (see faults.py) are applied to the reply of the chosen message types.
"""
import json
import logging
import random
import socket
import struct
import threading
import time

import iso8583

from host_sim.hosts.acquirer import hsm
from host_sim.hosts.acquirer import spec as hspec
from host_sim.hosts.acquirer.faults import Faults
from host_sim.hosts.acquirer.issuer import IssuerDB, luhn_ok

log = logging.getLogger("smartpos.host.acquirer")

_PCODE_EFFECT = {"00": -1, "20": 1, "02": 0, "31": 0}


def mask(pan):
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:] if len(pan) > 10 else "*" * len(pan)


class AcquirerHost:
    """One acquirer's host.  `name` picks its TEST TMK (host_sim/hosts/acquirer/data)."""

    def __init__(self, port=0, name="alpha", spec="iso87", db=None, host="127.0.0.1", tls=False,
                 imk_ac=None, trace=None):
        self.name = name
        self.spec_name = spec
        self.spec = hspec.get(spec)
        self.tpdu = hspec.TPDU[spec]
        self.host = host
        self.port = port
        self.tls = tls
        self.db = db if isinstance(db, IssuerDB) else IssuerDB(db or ":memory:")
        self.tmk = hsm.TEST_TMK[name]
        self.imk_ac = imk_ac or hsm.TEST_IMK_AC
        self.faults = Faults()
        self.faults.on_refuse = self._close_listener
        self.terminal_keys = {}          # tid -> {"tpk": key, "tak": key}
        self.batch_no = {}               # tid -> open batch (host's view, from 0500)
        self.stats = {"requests": 0, "replies": 0, "errors": 0}
        self.trace = trace               # callable(direction, mti, doc) (ISO 8583 trace pane)
        # on_message(direction, summary, raw, ports): the web face's record_host_message;
        # "out" = terminal to host; summary and raw bytes have the PAN masked
        self.on_message = None
        self._lsock = None
        self._thread = None
        self._stop = threading.Event()
        self._conns = set()
        self._lock = threading.Lock()
        self._llock = threading.Lock()
        self._rrn = random.randint(1, 9999)

    # ------------------------------------------------------------ lifecycle
    def start(self):
        self._listen()
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="acquirer-%s" % self.name, daemon=True)
        self._thread.start()
        return self

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        s.settimeout(0.2)
        self.port = s.getsockname()[1]
        if self.tls:
            from host_sim.hosts.acquirer.tls import server_context
            s = server_context().wrap_socket(s, server_side=True)
        self._lsock = s

    def _close_listener(self):
        with self._llock:
            s, self._lsock = self._lsock, None
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)      # stop listening now (wakes accept())
                except OSError:
                    pass
                s.close()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        if self._lsock:
            self._lsock.close()
            self._lsock = None
        for c in list(self._conns):
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()

    def _accept_loop(self):
        while not self._stop.is_set():
            if self.faults.refusing():
                # refuse connections: the port is closed while the fault lasts
                self._close_listener()
                time.sleep(0.05)
                continue
            if self._lsock is None:
                with self._llock:
                    if self.faults.refusing():
                        continue
                    try:
                        self._listen()
                    except OSError:
                        time.sleep(0.05)
                        continue
            ls = self._lsock
            if ls is None:
                continue
            try:
                c, _ = ls.accept()
            except (socket.timeout, OSError, AttributeError):
                continue
            c.settimeout(None)
            self._conns.add(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    # ------------------------------------------------------------ connection
    def _read_exact(self, c, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = c.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _serve(self, c):
        try:
            while not self._stop.is_set():
                hdr = self._read_exact(c, 2)
                if hdr is None:
                    return
                payload = self._read_exact(c, struct.unpack(">H", hdr)[0])
                if payload is None:
                    return
                with self._lock:
                    self.stats["requests"] += 1
                tpdu = b""
                if self.tpdu:
                    tpdu, payload = payload[:5], payload[5:]
                    tpdu = bytes((tpdu[0],)) + tpdu[3:5] + tpdu[1:3]
                try:
                    reply = self.handle(payload)
                except Exception:                     # a host bug: log it, keep serving
                    log.exception("request not handled")
                    with self._lock:
                        self.stats["errors"] += 1
                    reply = None
                if reply is None:
                    continue
                mti, body = reply
                fault = self.faults.take(mti)
                out = struct.pack(">H", len(tpdu) + len(body)) + tpdu + body
                if fault is not None and not self._apply_fault(c, fault, out, body, tpdu):
                    return
                if fault is None:
                    c.sendall(out)
                with self._lock:
                    self.stats["replies"] += 1
        except OSError:
            return
        finally:
            self._conns.discard(c)
            try:
                c.close()
            except OSError:
                pass

    def _apply_fault(self, c, fault, out, body, tpdu):
        """Send the reply the fault's way; False when the connection is to be dropped."""
        kind = fault.kind
        log.info("fault %s on reply", kind)
        if kind == "drop":
            return True                             # processed, never answered
        if kind == "delay":
            time.sleep(fault.seconds)
            c.sendall(out)
            return True
        if kind == "duplicate":
            c.sendall(out)
            c.sendall(out)
            return True
        if kind == "malformed":
            bad = bytearray(body)
            bad[4] ^= 0x01                           # a bitmap bit flipped: fields no longer line up
            c.sendall(struct.pack(">H", len(tpdu) + len(bad)) + tpdu + bytes(bad))
            return True
        if kind == "bad_mac":
            bad = bytearray(body)
            bad[-1] ^= 0xFF
            c.sendall(struct.pack(">H", len(tpdu) + len(bad)) + tpdu + bytes(bad))
            return True
        if kind == "close":
            c.sendall(out[:len(out) // 2])          # close mid-message
            return False
        if kind == "decline":
            return True
        return True

    # ------------------------------------------------------------ messages
    def _encode(self, doc):
        raw, _ = iso8583.encode(doc, self.spec)
        return bytes(raw)

    def handle(self, payload):
        """(reply MTI, reply body) for one request body, or None (unparseable: no reply)."""
        try:
            doc, _ = iso8583.decode(bytearray(payload), self.spec)
        except iso8583.DecodeError as e:
            with self._lock:
                self.stats["errors"] += 1
            log.warning("undecodable request: %s", e)
            return None
        mti = doc["t"]
        if self.trace:
            self.trace(">", mti, doc)
        f = hspec.from_host(self.spec_name, doc)
        self._report("out", mti, f, payload)
        tid = f.get(41, "")
        rmti = mti[:2] + str((int(mti[2]) + 1) % 10) + mti[3]
        handler = {"0800": self._network, "0100": self._financial, "0200": self._financial,
                   "0220": self._advice, "0400": self._reversal, "0420": self._reversal,
                   "0320": self._upload, "0500": self._settlement}.get(mti)
        rf = {11: f.get(11, "000000"), 41: tid}
        if handler is None:
            rf[39] = "12"
        else:
            mac_ok = self._check_mac(tid, mti, f, payload)
            if not mac_ok:
                rf[39] = "63"
            else:
                try:
                    handler(mti, f, rf)
                except Exception:                    # a host bug must not kill the link
                    log.exception("handler failed")
                    rf[39] = "96"
        rf = {k: v for k, v in rf.items() if v is not None}
        tak = self.terminal_keys.get(tid, {}).get("tak")
        body = self._reply(rmti, rf, tak if (mti != "0800" or f.get(70) != "001") else None)
        if self.trace:
            self.trace("<", rmti, rf)
        self._report("in", rmti, rf, body, pan=self._card(f)[0])
        return rmti, body

    def _report(self, direction, mti, f, raw, pan=None):
        if self.on_message is None:
            return
        pan = pan or self._card(f)[0]
        try:
            self.on_message(direction, summary(mti, f), mask_raw(bytes(raw), pan), (40000, self.port))
        except Exception:
            log.exception("trace listener failed")

    def _reply(self, rmti, rf, tak):
        if tak is not None:
            rf[64 if not any(k > 64 for k in rf) else 128] = b"\0" * 8
        doc = hspec.to_host(self.spec_name, rf)
        doc["t"] = rmti
        body = self._encode(doc)
        if tak is not None:
            body = body[:-8] + hsm.mac_x919(tak, body[:-8])
        return body

    def _check_mac(self, tid, mti, f, payload):
        if mti == "0800" and f.get(70) == "001":
            return True
        tak = self.terminal_keys.get(tid, {}).get("tak")
        if tak is None:
            return False                             # not signed on
        n = 128 if 128 in f else 64
        if n not in f:
            return False
        return hsm.mac_x919(tak, payload[:-8]) == f[n]

    def _network(self, mti, f, rf):
        code = f.get(70, "")
        rf[70] = code
        if code == "001":                            # sign-on: new working keys under TMK
            keys = {"tpk": hsm.new_key(), "tak": hsm.new_key()}
            self.terminal_keys[f.get(41, "")] = keys
            parts = []
            for name in ("tpk", "tak"):
                cg, cv = hsm.wrap(self.tmk, keys[name])
                parts.append(name.upper() + cg.hex().upper() + cv.hex().upper())
            rf[48] = "".join(parts)
            rf[39] = "00"
        elif code == "301":
            rf[39] = "00"
        else:
            rf[39] = "12"

    def _next_rrn(self):
        with self._lock:
            self._rrn = self._rrn % 999999 + 1
            return time.strftime("%y%j") + "%07d" % self._rrn

    def _card(self, f):
        pan = f.get(2)
        exp = f.get(14)
        t2 = f.get(35)
        if t2:
            pan, _, rest = t2.partition("=")
            exp = rest[:4]
        return pan or "", exp or ""

    def _financial(self, mti, f, rf):
        tid = f.get(41, "")
        stan = f.get(11, "")
        prev = self.db.txn(tid, stan)
        if (prev is not None and prev["mti"] == mti and prev["reply"] and prev["dt"] == f.get(7, "")
                and prev["amount"] == int(f.get(4, "0") or 0)):
            # a retransmission (same TID, STAN, DE 7, amount): same answer, no second charge
            for k, v in json.loads(prev["reply"]).items():
                rf[int(k)] = bytes.fromhex(v["hex"]) if isinstance(v, dict) else v
            return
        pan, exp = self._card(f)
        pcode = f.get(3, "000000")
        amount = int(f.get(4, "0") or 0)
        rrn = self._next_rrn()
        rf.update({3: pcode, 4: f.get(4), 37: rrn})
        rc, effect, icc = self._decide(mti, f, pan, exp, pcode, amount)
        rf[39] = rc
        if rc == "00":
            rf[38] = "%06d" % random.randint(1, 999999)
            if effect:
                self.db.adjust(pan, effect)
            if pcode[:2] == "31":
                acct = self.db.account(pan)
                rf[54] = "1002%s%s%012d" % (f.get(49, "978"), "C", max(acct["balance"], 0))
        if icc is not None:
            rf[55] = icc
        reply = {k: v for k, v in rf.items() if k in (3, 4, 37, 38, 39, 54, 55)}
        self.db.record(tid, stan, mti, pcode, pan, amount, rc, rf.get(38, ""), rrn,
                       effect if rc == "00" else 0, self.batch_no.get(tid, 1), f.get(7, ""),
                       json.dumps({str(k): ({"hex": v.hex()} if isinstance(v, bytes) else v)
                                   for k, v in reply.items()}))
        log.info("%s %s stan %s amount %d -> %s", mti, mask(pan), stan, amount, rc)

    def _decide(self, mti, f, pan, exp, pcode, amount):
        """(response code, balance effect, field 55 reply or None)."""
        if not pan.isdigit() or not 12 <= len(pan) <= 19 or not luhn_ok(pan):
            return "14", 0, None
        acct = self.db.account(pan)
        if acct is None:
            return "14", 0, None
        kind = pcode[:2]
        if kind not in _PCODE_EFFECT:
            return "12", 0, None
        if amount <= 0 and kind != "31":
            return "13", 0, None
        if not acct["issuer_online"]:
            return "91", 0, None
        if acct["blocked"]:
            return {"lost": "41", "stolen": "43"}.get(acct["blocked"], "57"), 0, None
        if exp and (exp != acct["expiry"] or exp < time.strftime("%y%m")):
            return "54", 0, None
        icc_reply = None
        if 55 in f:
            tags = _tlvs(f[55])
            if 0x9F26 in tags:
                psn = f.get(23, "000")[-2:] if 23 in f else acct["psn"]
                ok, arpc = hsm.arqc_verify_arpc(self.imk_ac, pan, psn, tags, b"00")
                if not ok:
                    arc = b"05"
                    return "05", 0, _tlv(0x8A, arc)
                tvr = tags.get(0x95, b"\0" * 5)
                if tvr[:1] and tvr[0] & 0x4C:
                    # issuer rule of the simulator: offline data authentication failed
                    # (TVR SDA/DDA/CDA failed) -> do not honour
                    return "05", 0, _tlv(0x8A, b"05")
                icc_reply = (arpc, b"00")
        if 52 in f:
            if acct["pin_tries"] >= 3:
                return "75", 0, None                       # PIN blocked until the issuer resets it
            keys = self.terminal_keys.get(f.get(41, ""), {})
            try:
                good = hsm.pin_verify(keys["tpk"], pan, f[52], acct["pvv"])
            except (KeyError, hsm.HsmError):
                good = False
            if not good:
                tries = acct["pin_tries"] + 1
                self.db.set(pan, pin_tries=tries)
                return ("75" if tries >= 3 else "55"), 0, None
            self.db.set(pan, pin_tries=0)
        effect = _PCODE_EFFECT[kind] * amount if mti == "0200" else 0
        if kind == "00" and amount > acct["txn_limit"]:
            return "61", 0, None
        if effect < 0 and acct["balance"] + effect < 0:
            return "51", 0, None
        if kind == "02":                                   # void: give the original back
            orig = self.db.txn(f.get(41, ""), f.get(90, "")[4:10]) if 90 in f else None
            if orig is None or orig["reversed"]:
                return "25", 0, None
            self.db.mark_reversed(orig["tid"], orig["stan"])
            effect = -orig["effect"]
        icc = None
        if icc_reply is not None:
            arpc, arc = icc_reply
            icc = _tlv(0x91, arpc + arc) + _tlv(0x8A, arc)
        return "00", effect, icc

    def _advice(self, mti, f, rf):
        tid, stan = f.get(41, ""), f.get(11, "")
        prev = self.db.txn(tid, stan)
        rf[39] = "00"
        if prev is not None:
            return                                       # duplicate advice: nothing twice
        pan, _ = self._card(f)
        pcode = f.get(3, "000000")
        amount = int(f.get(4, "0"))
        effect = _PCODE_EFFECT.get(pcode[:2], 0) * amount
        if self.db.account(pan) is not None:
            self.db.adjust(pan, effect)                  # offline approvals are final
        self.db.record(tid, stan, mti, pcode, pan, amount, f.get(39, "Y1"), f.get(38, ""), self._next_rrn(),
                       effect, self.batch_no.get(tid, 1), f.get(7, ""))

    def _reversal(self, mti, f, rf):
        tid = f.get(41, "")
        stan = f.get(90, "")[4:10] if 90 in f else f.get(11, "")
        rf[4] = f.get(4)
        orig = self.db.txn(tid, stan)
        if orig is None:
            rf[39] = "25"                                # never had it: nothing to undo
            return
        if not orig["reversed"]:
            if orig["rc"] == "00" and orig["effect"]:
                self.db.adjust(orig["pan"], -orig["effect"])
            self.db.mark_reversed(tid, stan)
            log.info("reversed %s stan %s", mask(orig["pan"]), stan)
        rf[39] = "00"

    def _upload(self, mti, f, rf):
        tid = f.get(41, "")
        o = f.get(60, "")
        omti, ostan = o[:4], o[4:10]
        rf[39] = "00"
        prev = self.db.txn(tid, ostan)
        pan, _ = self._card(f)
        pcode = f.get(3, "000000")
        amount = int(f.get(4, "0"))
        effect = _PCODE_EFFECT.get(pcode[:2], 0) * amount
        if prev is not None:
            # a known transaction with another amount: a tip adjusted after authorization
            if prev["amount"] != amount and not prev["settled"] and not prev["reversed"]:
                self.db.set_amount(tid, ostan, amount, effect)
                if self.db.account(prev["pan"]) is not None:
                    self.db.adjust(prev["pan"], effect - prev["effect"])
                log.info("upload tid %s stan %s: amount %d -> %d (adjusted)", tid, ostan, prev["amount"], amount)
            return
        # the terminal's record wins for the settlement; the account was charged online before
        self.db.record(tid, ostan, omti, pcode, pan, amount, f.get(39, "00"), f.get(38, ""), f.get(37, ""),
                       effect, self.batch_no.get(tid, 1), f.get(7, ""))

    def _settlement(self, mti, f, rf):
        tid = f.get(41, "")
        batch = int(f.get(60, "0") or 0)
        theirs = f.get(63, "")
        rf[3] = f.get(3)
        rf[60] = f.get(60)
        closed = self.db.closed_batch(tid, batch)
        if closed is not None:
            rf[39] = "00" if closed == theirs else "95"   # a repeated 0500 for a closed batch
            return
        ours = "%03d%012d%03d%012d" % self.db.open_totals(tid)
        if self.faults.take_settlement_mismatch():
            lost = self.db.forget_one(tid)
            log.info("fault: forgot stan %s before reconciliation", lost)
            ours = "%03d%012d%03d%012d" % self.db.open_totals(tid)
        rf[63] = ours
        if ours == theirs:
            self.db.close_batch(tid, batch, theirs)
            self.batch_no[tid] = batch + 1
            rf[39] = "00"
        else:
            rf[39] = "95"
        log.info("settlement tid %s batch %d: terminal %s host %s -> %s", tid, batch, theirs, ours, rf[39])


def summary(mti, f):
    """One masked line for a trace pane: MTI, STAN, amount, masked PAN, response code."""
    parts = [mti, "STAN %s" % f.get(11, "-")]
    if 4 in f:
        parts.append("amount %s" % f[4])
    if 49 in f:
        parts.append("currency %s" % f[49])
    pan = f.get(2) or (f.get(35, "").partition("=")[0] if 35 in f else "")
    if pan:
        parts.append("PAN %s" % mask(pan))
    if 39 in f:
        parts.append("rc %s" % f[39])
    if 70 in f:
        parts.append("DE70 %s" % f[70])
    return " ".join(parts)


def mask_raw(raw, pan):
    """`raw` with the PAN's middle digits replaced (ASCII '*' or BCD 'F' nibbles), same length."""
    if not pan or len(pan) <= 10:
        return raw
    m = pan[:6] + "*" * (len(pan) - 10) + pan[-4:]
    raw = raw.replace(pan.encode(), m.encode())
    h = raw.hex()
    p = pan if len(pan) % 2 == 0 else pan + "f"
    q = pan[:6] + "f" * (len(pan) - 10) + pan[-4:] + ("" if len(pan) % 2 == 0 else "f")
    for cand, rep in ((p, q), ("0" + pan if len(pan) % 2 else pan, "0" + q[:-1] if len(pan) % 2 else q)):
        if cand in h:
            h = h.replace(cand, rep)
    return bytes.fromhex(h)


def _tlv(tag, value):
    t = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    return t + bytes((len(value),)) + value


def _tlvs(data):
    """Top-level {tag: value} of field 55 (pyemv's TLV decoder)."""
    from pyemv import tlv
    out = {}
    for k, v in tlv.decode(bytes(data), simple=True).items():
        if isinstance(v, (bytes, bytearray)):
            out[int(k, 16)] = bytes(v)
    return out
