"""ISO 8583 acquirer host: TCP server (loopback), pyiso8583 codec, issuer logic.

Messages handled (ISO 8583:1987):
  0800 DE70=001 sign-on + working keys (TPK, TAK under the terminal's TMK, in DE 48); the
       request must carry a MAC (DE 64) under the terminal master key, the 0810 carries
       one under the same key; a sign-on without it, with a wrong one, or replayed (same
       DE 11 and DE 7 as one already accepted) is refused with 63 / 94 and changes no key
  0800 DE70=301 echo test
  0100 authorization, 0200 financial (sale, refund, void, completion, balance)
  0220 advice (offline approvals), 0400 reversal, 0320 batch upload
  0500 settlement (DE 3 920000 / 960000 after upload): totals in DE 63 reconciled
Replies: DE 39 response codes 00 05 12 13 14 25 30 51 54 55 57 61 63 64 75 91 94 95 96.

A transaction is identified by terminal (DE 41), STAN (DE 11), transmission date and time
(DE 7) and amount (DE 4); records are appended, never replaced.  The same request again is
a retransmission (the first answer, no second charge); an open STAN reused with another
amount, date or message is declined 94 (duplicate transmission).  A reversal names its
original in DE 90 (MTI, STAN, DE 7) and must carry the original's amount (else 64,
original amount incorrect): it gives back exactly what the original took.

Connections: a TLS handshake runs in the connection's own thread (an idle client cannot
hold up the others), a started message must arrive within `read_timeout_s` and an idle
connection is closed after `idle_timeout_s`; past `max_connections` open ones a new
connection is closed at once.
A request that pyiso8583 cannot decode, or whose MTI is not 4 digits, gets no reply; one
with a numeric or track-2 field not of its type gets 30 (format error).
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
from host_sim.hosts.acquirer.issuer import IssuerDB, luhn_ok, mask

log = logging.getLogger("smartpos.host.acquirer")

_PCODE_EFFECT = {"00": -1, "20": 1, "02": 0, "31": 0}
_NO_DT = "0000000000"


class _Timeout(Exception):
    """A connection read that did not complete in time (the connection is closed)."""


class AcquirerHost:
    """One acquirer's host.  `name` picks its TEST TMK (host_sim/hosts/acquirer/data)."""

    def __init__(self, port=0, name="alpha", spec="iso87", db=None, host="127.0.0.1", tls=False,
                 imk_ac=None, trace=None, terminals=None, read_timeout_s=15.0, idle_timeout_s=300.0,
                 handshake_timeout_s=10.0, max_connections=64):
        """`terminals`: {TID: TMK} of the terminals this host knows (a sign-on from any
        other TID is refused); None: every TID uses the acquirer's TEST TMK."""
        self.name = name
        self.spec_name = spec
        self.spec = hspec.get(spec)
        self.tpdu = hspec.TPDU[spec]
        self.host = host
        self.port = port
        self.tls = tls
        self.db = db if isinstance(db, IssuerDB) else IssuerDB(db or ":memory:")
        self.tmk = hsm.TEST_TMK[name]
        self.terminals = terminals
        self.read_timeout_s = read_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.handshake_timeout_s = handshake_timeout_s
        self.max_connections = max_connections
        self.sign_ons = set()            # (tid, DE 11, DE 7) of accepted sign-ons (replays refused)
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
        # requests that move money are handled one at a time: a reversal sent on a new
        # connection can otherwise overtake its original still being handled on the old one
        self._money = threading.Lock()
        self.early_reversals = set()    # (terminal, STAN, DE 7) reversed before they arrived
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

    def open_connections(self):
        """How many terminal connections the host holds now."""
        return len(self._conns)

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
            if len(self._conns) >= self.max_connections:
                log.warning("connection refused: %d open already", len(self._conns))
                c.close()                        # one thread per connection: bounded
                continue
            self._conns.add(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    # ------------------------------------------------------------ connection
    def _read_exact(self, c, n, seconds):
        """`n` bytes within `seconds`, None when the peer closed first; _Timeout otherwise."""
        buf = bytearray()
        deadline = time.monotonic() + seconds
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout()
            c.settimeout(left)
            try:
                chunk = c.recv(n - len(buf))
            except socket.timeout:
                raise _Timeout() from None
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _secure(self, c):
        """The connection, TLS-wrapped here (in its own thread) when the host serves TLS:
        a client that never finishes its handshake only holds its own thread, for at
        most `handshake_timeout_s`.  None when the handshake fails."""
        if not self.tls:
            return c
        from host_sim.hosts.acquirer.tls import server_context
        c.settimeout(self.handshake_timeout_s)
        try:
            t = server_context().wrap_socket(c, server_side=True)
        except (OSError, ValueError) as e:       # ssl.SSLError and socket.timeout are OSErrors
            log.info("TLS handshake failed: %s", e)
            return None
        self._conns.discard(c)
        self._conns.add(t)
        return t

    def _serve(self, c):
        raw = c
        try:
            c = self._secure(c)
            if c is None:
                return
            while not self._stop.is_set():
                # between messages the terminal may stay idle (up to idle_timeout_s);
                # once a message has started, all of it must arrive within read_timeout_s
                hdr = self._read_exact(c, 1, self.idle_timeout_s)
                if hdr is None:
                    return
                rest = self._read_exact(c, 1, self.read_timeout_s)
                if rest is None:
                    return
                payload = self._read_exact(c, struct.unpack(">H", hdr + rest)[0], self.read_timeout_s)
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
        except _Timeout:
            log.info("connection closed: read timed out")
            return
        except OSError:
            return
        finally:
            for s in (c, raw):
                if s is None:
                    continue
                self._conns.discard(s)
                try:
                    s.close()
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
        if not _is_digits(mti):
            with self._lock:
                self.stats["errors"] += 1
            log.warning("request with an MTI that is not 4 digits: not answered")
            return None
        if self.trace:
            self.trace(">", mti, doc)
        f = hspec.from_host(self.spec_name, doc)
        self._report("out", mti, f, payload)
        tid = f.get(41, "")
        rmti = mti[:2] + str((int(mti[2]) + 1) % 10) + mti[3]
        handler = {"0800": self._network, "0100": self._financial, "0200": self._financial,
                   "0120": self._advice, "0220": self._advice, "0400": self._reversal, "0420": self._reversal,
                   "0320": self._upload, "0500": self._settlement}.get(mti)
        bad = _format_errors(f)
        rf = {11: f.get(11, "000000") if 11 not in bad else "000000", 41: tid}
        if bad:
            rf[39] = "30"                            # format error: a field not of its type
            log.warning("%s from %s: field(s) %s not of their type", mti, tid, ",".join(map(str, bad)))
        elif handler is None:
            rf[39] = "12"
        else:
            mac_ok = self._check_mac(tid, mti, f, payload)
            bad = format_error(mti, f) if mac_ok else None
            if not mac_ok:
                rf[39] = "63"
            elif bad is not None:
                log.warning("%s stan %s: format error: %s", mti, f.get(11, ""), bad)
                rf[39] = "30"
            else:
                try:
                    with self._money:
                        handler(mti, f, rf)
                except Exception:                    # a host bug must not kill the link
                    log.exception("handler failed")
                    rf[39] = "96"
        rf = {k: v for k, v in rf.items() if v is not None}
        if _is_sign_on(mti, f):
            # the 0810 is authenticated under the same TMK; a refusal is not (no trust yet)
            key = self.tmk_for(tid) if rf.get(39) == "00" else None
        else:
            key = self.terminal_keys.get(tid, {}).get("tak")
        body = self._reply(rmti, rf, key)
        if self.trace:
            self.trace("<", rmti, rf)
        self._report("in", rmti, rf, body, pan=self._card(f)[0])
        return rmti, body

    def tmk_for(self, tid):
        """The terminal master key of `tid`, None for a terminal this host does not know."""
        if self.terminals is None:
            return self.tmk
        return self.terminals.get(tid)

    def _report(self, direction, mti, f, raw, pan=None):
        if self.on_message is None:
            return
        pan = pan or self._card(f)[0]
        try:
            self.on_message(direction, summary(mti, f), mask_raw(bytes(raw), pan, f.get(35)), (40000, self.port))
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
        if _is_sign_on(mti, f):
            key = self.tmk_for(tid)                  # no working keys yet: the TMK
            if key is None:
                log.warning("sign-on from unknown terminal %r refused", tid)
        else:
            key = self.terminal_keys.get(tid, {}).get("tak")   # None: not signed on
        if key is None:
            return False
        n = 128 if 128 in f else 64
        if n not in f or max(f) != n or len(payload) < 8:
            return False
        return hsm.mac_x919(key, payload[:-8]) == f[n]

    def _network(self, mti, f, rf):
        code = f.get(70, "")
        rf[70] = code or None                        # echoed when present
        if code == "001":                            # sign-on: new working keys under TMK
            tid = f.get(41, "")
            once = (tid, f.get(11, ""), f.get(7, ""))
            with self._lock:
                replay = once in self.sign_ons
                self.sign_ons.add(once)
            if replay:
                log.warning("replayed sign-on from %s refused", tid)
                rf[39] = "94"
                return
            keys = {"tpk": hsm.new_key(), "tak": hsm.new_key()}
            self.terminal_keys[tid] = keys
            parts = []
            for name in ("tpk", "tak"):
                cg, cv = hsm.wrap(self.tmk_for(tid), keys[name])
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

    def _seen(self, mti, f, rf, amount):
        """(False, None) for a new transaction; (True, row) for a retransmission of an open
        one (same MTI, DE 7, amount and card: answer as the first time, charge nothing
        twice); (True, None) for a reused STAN that differs in any of them: declined 94
        (duplicate transmission) in `rf` and kept as a row of its own marked duplicate."""
        tid, stan = f.get(41, ""), f.get(11, "")
        prev = self.db.find(tid, stan, open_only=True)
        if not prev:
            return False, None
        p = prev[0]
        pan, _ = self._card(f)
        if (p["mti"] == mti and p["dt"] == f.get(7, "") and p["amount"] == amount
                and p["pan_hash"] == hsm.pan_token(pan)):
            return True, p
        rf.update({3: f.get(3), 4: f.get(4), 39: "94"})
        self.db.record(tid, stan, mti, f.get(3, "000000"), pan, amount, "94", "", "", 0,
                       self.batch_no.get(tid, 1), f.get(7, ""), duplicate=True)
        log.warning("%s stan %s reused (first: %s amount %d at %s, now amount %d at %s): duplicate",
                    mti, stan, p["mti"], p["amount"], p["dt"], amount, f.get(7, ""))
        return True, None

    def _financial(self, mti, f, rf):
        tid = f.get(41, "")
        stan = f.get(11, "")
        amount = int(f.get(4, "0") or 0)
        seen, prev = self._seen(mti, f, rf, amount)
        if seen and prev is None:
            return
        if prev is not None:
            if prev["reply"]:
                for k, v in json.loads(prev["reply"]).items():
                    rf[int(k)] = bytes.fromhex(v["hex"]) if isinstance(v, dict) else v
            else:
                rf.update({3: f.get(3), 4: f.get(4), 39: prev["rc"]})
            return
        pan, exp = self._card(f)
        pcode = f.get(3, "000000")
        if (tid, stan, f.get(7, "")) in self.early_reversals:
            # its reversal came first (the terminal gave up on it): never charged
            self.early_reversals.discard((tid, stan, f.get(7, "")))
            rf.update({3: pcode, 4: f.get(4), 39: "68"})
            self.db.record(tid, stan, mti, pcode, pan, amount, "68", "", "", 0,
                           self.batch_no.get(tid, 1), f.get(7, ""))
            log.warning("%s stan %s arrived after its reversal: not charged", mti, stan)
            return
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
            orig = self._original(f)
            if orig is None or orig["reversed"]:
                return "25", 0, None
            self.db.mark_reversed(orig["id"])
            effect = -orig["effect"]
        icc = None
        if icc_reply is not None:
            arpc, arc = icc_reply
            icc = _tlv(0x91, arpc + arc) + _tlv(0x8A, arc)
        return "00", effect, icc

    def _advice(self, mti, f, rf):
        tid, stan = f.get(41, ""), f.get(11, "")
        amount = int(f.get(4, "0") or 0)
        rf[39] = "00"
        if self._seen(mti, f, rf, amount)[0]:
            return                                       # the same advice again: nothing twice (or 94)
        pan, _ = self._card(f)
        pcode = f.get(3, "000000")
        # 0220 financial advice: the offline approval moves money; 0120 authorization advice
        # (a pre-authorization approved offline): funds held, nothing moves until the completion
        effect = _PCODE_EFFECT.get(pcode[:2], 0) * amount if mti == "0220" else 0
        if self.db.account(pan) is not None:
            self.db.adjust(pan, effect)                  # offline approvals are final
        self.db.record(tid, stan, mti, pcode, pan, amount, f.get(39, "Y1"), f.get(38, ""), self._next_rrn(),
                       effect, self.batch_no.get(tid, 1), f.get(7, ""))

    def _original(self, f, duplicates=False):
        """The transaction a reversal or void names: DE 90 original data elements (n42:
        MTI, STAN, DE 7 of the original, ISO 8583:1987); without DE 90 the request's own STAN.
        `duplicates`: all the rows it may name (refused duplicates too), accepted ones first."""
        tid = f.get(41, "")
        o = f.get(90, "")
        if len(o) >= 20:
            dt = o[10:20]
            found = self.db.find(tid, o[4:10], mti=o[:4], dt=None if dt == _NO_DT else dt, duplicates=duplicates)
        else:
            found = self.db.find(tid, f.get(11, ""), duplicates=duplicates)
        if duplicates:
            return sorted(found, key=lambda r: r["duplicate"])
        return found[0] if found else None

    def _reversal(self, mti, f, rf):
        rf[4] = f.get(4)
        amount = int(f.get(4, "0") or 0)
        named = self._original(f, duplicates=True)
        same = [r for r in named if r["amount"] == amount]
        orig = same[0] if same else (named[0] if named and not named[0]["duplicate"] else None)
        if orig is None or orig["duplicate"]:
            rf[39] = "25"                                # never had it (or declined it 94): nothing to undo
            o = f.get(90, "")
            if orig is None and len(o) >= 20 and o[10:20] != _NO_DT:
                # the original may still be on its way (another connection): it is not to
                # be charged when it arrives (ISO 8583 reversal of an unknown original)
                self.early_reversals.add((f.get(41, ""), o[4:10], o[10:20]))
            return
        if amount != orig["amount"]:
            # only the whole original is reversed, for what it took: another amount names
            # another transaction (partial reversals would carry DE 95)
            log.warning("reversal of stan %s for %d, original %d: refused", orig["stan"], amount, orig["amount"])
            rf[39] = "64"
            return
        if not orig["reversed"]:
            if orig["rc"] == "00" and orig["effect"]:
                self.db.adjust_token(orig["pan_hash"], -orig["effect"])
            self.db.mark_reversed(orig["id"])
            log.info("reversed %s stan %s amount %d", orig["pan_mask"], orig["stan"], orig["amount"])
        rf[39] = "00"

    def _upload(self, mti, f, rf):
        tid = f.get(41, "")
        o = f.get(60, "")
        omti, ostan = o[:4], o[4:10]
        rf[39] = "00"
        found = self.db.find(tid, ostan, mti=omti or None, open_only=True)
        prev = found[0] if found else None
        pan, _ = self._card(f)
        pcode = f.get(3, "000000")
        amount = int(f.get(4, "0"))
        effect = _PCODE_EFFECT.get(pcode[:2], 0) * amount
        if prev is not None:
            # a known transaction with another amount: a tip adjusted after authorization
            if prev["amount"] != amount and not prev["settled"] and not prev["reversed"]:
                self.db.set_amount(prev["id"], amount, effect)
                self.db.adjust_token(prev["pan_hash"], effect - prev["effect"])
                log.info("upload tid %s stan %s: amount %d -> %d (adjusted)", tid, ostan, prev["amount"], amount)
            return
        # a transaction the host never saw (its advice or its record lost): the terminal's record
        # wins for the settlement, and the cardholder's account is charged now, once
        if f.get(39, "00")[:2] in ("00", "Y1", "Y3") and self.db.account(pan) is not None:
            self.db.adjust(pan, effect)
        self.db.record(tid, ostan, omti, pcode, pan, amount, f.get(39, "00"), f.get(38, ""), f.get(37, ""),
                       effect, self.batch_no.get(tid, 1), f.get(7, ""))

    def _settlement(self, mti, f, rf):
        tid = f.get(41, "")
        rf[3] = f.get(3)
        rf[60] = f.get(60)
        if not _is_digits(f.get(60, "0") or "0"):
            rf[39] = "30"                            # DE 60 of a 0500 carries the batch number
            return
        batch = int(f.get(60, "0") or 0)
        theirs = f.get(63, "")
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


def _is_digits(text):
    return text.isdigit() and text.isascii()


def _format_errors(f):
    """Numbers of the data elements whose value is not of their type: n fields digits only,
    track 2 (z) digits with one '=' separator (ISO 7813)."""
    bad = [n for n in hspec.NUMERIC if n in f and not _is_digits(f[n])]
    for n in hspec.TRACK2:
        if n in f and not (f[n].count("=") == 1 and _is_digits(f[n].replace("=", ""))):
            bad.append(n)
    return bad


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


def mask_raw(raw, pan, track2=None):
    """`raw` with the PAN's middle digits replaced (ASCII '*' or BCD 'F' nibbles), same length;
    with `track2` (DE 35 as decoded, '=' separator) everything of it after the PAN's last
    four digits (separator, expiry, service code, discretionary data) is replaced too."""
    if not pan or len(pan) <= 10:
        return raw
    if track2 and track2.startswith(pan) and len(track2) > len(pan):
        raw = _mask_track2(raw, pan, track2)
    m = pan[:6] + "*" * (len(pan) - 10) + pan[-4:]
    raw = raw.replace(pan.encode(), m.encode())
    h = raw.hex()
    p = pan if len(pan) % 2 == 0 else pan + "f"
    q = pan[:6] + "f" * (len(pan) - 10) + pan[-4:] + ("" if len(pan) % 2 == 0 else "f")
    for cand, rep in ((p, q), ("0" + pan if len(pan) % 2 else pan, "0" + q[:-1] if len(pan) % 2 else q)):
        if cand in h:
            h = h.replace(cand, rep)
    return bytes.fromhex(h)


def _mask_track2(raw, pan, track2):
    """Track 2 after the PAN: ASCII '*' (iso87) or 'F' nibbles (packed iso87bcd)."""
    rest = track2[len(pan):]
    raw = raw.replace(track2.encode(), pan.encode() + b"*" * len(rest))
    digits = track2.replace("=", "d").lower()
    h = raw.hex()
    i = h.find(digits)
    while i >= 0:
        if i % 2 == 0:                          # packed track 2 starts on a byte
            j = i + len(pan)
            h = h[:j] + "f" * (len(digits) - len(pan)) + h[i + len(digits):]
        i = h.find(digits, i + 1)
    return bytes.fromhex(h)


# per MTI: the data elements whose leading digits a handler reads (original MTI + STAN,
# batch number, original data elements), and how many
_NEEDS = {"0320": {60: 10}, "0500": {60: 6}, "0400": {90: 42}, "0420": {90: 42}}


def format_error(mti, f):
    """What is wrong with the request's fields (ISO 8583 DE 39 = 30, format error), or None:
    numeric (n) elements with other than digits, track 2 with other than digits and one
    separator, DE 60 / DE 90 that do not hold the original MTI and STAN the handler needs."""
    for n in hspec.NUMERIC:
        v = f.get(n)
        if v is not None and not v.isdigit():
            return "DE %d is not numeric" % n
    t2 = f.get(35)
    if t2 is not None and (t2.count("=") != 1 or not t2.replace("=", "").isdigit()):
        return "DE 35 is not track 2 data (digits, one separator)"
    for n, size in _NEEDS.get(mti, {}).items():
        v = f.get(n)
        if v is None and n == 90:
            continue                            # a reversal without DE 90 names its own STAN
        if v is None or len(v) < size or not v[:size].isdigit():
            return "DE %d must start with %d digits" % (n, size)
    return None


def _is_sign_on(mti, f):
    return mti == "0800" and f.get(70) == "001"


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
