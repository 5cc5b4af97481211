# MicroPython side of the EMV test harness (tests/emv/harness.py): runs the
# kernel on the real MicroPython unix port and proxies card I/O, the UI and
# the authorizer to the pytest process as "@@<json>" lines on stdout, reading
# the answers as JSON lines on stdin.
import gc
import json
import sys
import time



_wait_us = 0        # time spent waiting on the pytest side (card and host latency)


def _write(obj, w):
    # JSON written piece by piece: no big string to allocate on a fragmented heap
    if isinstance(obj, dict):
        w("{")
        first = True
        for k in obj:
            if not first:
                w(",")
            first = False
            w('"')                  # the driver's keys are plain ASCII names: no escaping
            w(k)
            w('":')
            _write(obj[k], w)
        w("}")
    elif isinstance(obj, (list, tuple)):
        w("[")
        for i, v in enumerate(obj):
            if i:
                w(",")
            _write(v, w)
        w("]")
    elif isinstance(obj, str) and '"' not in obj and "\\" not in obj and "\n" not in obj \
            and "\r" not in obj and "\t" not in obj:
        w('"')                      # nothing to escape: written as it is (json.loads takes UTF-8)
        w(obj)
        w('"')
    elif obj is None:
        w("null")
    elif obj is True or obj is False:
        w("true" if obj else "false")
    elif type(obj) is int:
        w(b"%d" % obj)              # bytes: no new string (each one searches the name pool)
    else:
        w(json.dumps(obj))


def call(msg, reply=True):
    global _wait_us
    t0 = time.ticks_us()
    w = _io.write if isinstance(_io, _Socket) else sys.stdout.write
    w("@@")
    _write(msg, w)
    w("\n")
    r = None
    if reply:
        line = _io.readline()
        if not line:
            raise SystemExit(3)
        r = json.loads(line)
    _wait_us += time.ticks_diff(time.ticks_us(), t0)
    return r


class HarnessCardError(OSError):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


_memtrace = []
_memtrace_on = [False]
_rbuf = bytearray(260)      # R-APDU frame buffer: preallocated, as a reader driver's would be
_hdr = bytearray(3)


class HarnessCardError(OSError):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class _Stdio:
    """The pytest process on stdin/stdout (default)."""

    def write(self, b):
        sys.stdout.buffer.write(b)

    def readinto(self, mv):
        return sys.stdin.buffer.readinto(mv)

    def readline(self):
        return sys.stdin.readline()


class _Socket:
    """The pytest process on a loopback TCP connection (the virtual board's run)."""

    def __init__(self, port):
        import socket
        self.s = socket.socket()
        self.s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])

    def write(self, b):
        mv = memoryview(b if not isinstance(b, str) else b.encode())
        while len(mv):
            n = self.s.write(mv)
            mv = mv[n:]

    def readinto(self, mv):
        return self.s.readinto(mv)

    def readline(self):
        return self.s.readline().decode()


_io = _Stdio()


def _read_exact(buf, n):
    mv = memoryview(buf)
    got = 0
    while got < n:
        k = _io.readinto(mv[got:n])
        if not k:
            raise SystemExit(3)
        got += k


def transmit(apdu):
    """C-APDU out as a binary frame (00, length, bytes); R-APDU back the same way.
    Length 0xFFFE = card mute, 0xFFFD = card removed."""
    global _wait_us
    if _memtrace_on[0]:
        gc.collect()
        _memtrace.append((apdu[1], gc.mem_alloc()))
    t0 = time.ticks_us()
    n = len(apdu)
    _hdr[0] = 0
    _hdr[1] = n >> 8
    _hdr[2] = n & 0xFF
    _io.write(_hdr)
    _io.write(apdu)
    _read_exact(_hdr, 2)
    n = (_hdr[0] << 8) | _hdr[1]
    if n >= 0xFFF0:
        _wait_us += time.ticks_diff(time.ticks_us(), t0)
        raise HarnessCardError("mute" if n == 0xFFFE else "removed")
    _read_exact(_rbuf, n)
    _wait_us += time.ticks_diff(time.ticks_us(), t0)
    return bytes(_rbuf[:n])


class UI:
    def enter_pin(self, online, tries):
        return call({"t": "pin", "online": online, "tries": tries}).get("pin")

    def choose_application(self, labels):
        return call({"t": "choose", "labels": labels}).get("i")

    def confirm_application(self, label):
        return call({"t": "confirm", "label": label}).get("ok", True)

    def message(self, text):
        call({"t": "msg", "text": text}, reply=False)


class AuthResponse:
    def __init__(self, d):
        self.approved = d.get("approved", False)
        self.response_code = d.get("response_code", "")
        self.auth_code = d.get("auth_code", "")
        self.rrn = d.get("rrn", "")
        self.icc_data = bytes.fromhex(d.get("icc_data", ""))
        self.text = d.get("text", "")
        self.unable_to_go_online = d.get("unable_to_go_online", False)


def _req_dict(req):
    d = {}
    for k in ("kind", "amount", "currency", "pan", "expiry", "pan_seq", "track2", "entry_mode",
              "scheme", "aid"):
        d[k] = getattr(req, k, None)
    d["icc_data"] = bytes(req.icc_data).hex().upper()
    pb = getattr(req, "pin_block", None)
    d["pin_block"] = bytes(pb).hex().upper() if pb else None
    return d


class Authorizer:
    def authorize(self, req):
        r = call({"t": "auth", "req": _req_dict(req)})
        if r.get("raise"):
            raise OSError(r["raise"])
        if r.get("none"):
            return None
        return AuthResponse(r)

    def complete(self, req, resp, card_approved, icc_data=b""):
        call({"t": "complete", "card_approved": card_approved, "icc_data": bytes(icc_data).hex().upper()})


class Approve:
    """An issuer that approves every online request, in this process (instruction counts: the
    request is not marshalled to the pytest side, whose JSON is no terminal's work)."""

    def authorize(self, req):
        return _APPROVED


class _Approved:
    approved = True
    response_code = "00"
    auth_code = "A1B2C3"
    rrn = "000000000001"
    icc_data = b""
    text = ""
    unable_to_go_online = False


_APPROVED = _Approved()


class TestKeys:
    def __init__(self, keys):
        self.keys = keys

    def key(self, name, pan=None):
        if name not in self.keys:
            raise KeyError("no key %r" % name)
        return bytes.fromhex(self.keys[name])


class Rng:
    def __init__(self, seed):
        self.x = seed or 1

    def __call__(self, n):
        out = bytearray(n)
        for i in range(n):
            self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
            out[i] = (self.x >> 16) & 0xFF
        return bytes(out)


def main_socket(port):
    global _io
    _io = _Socket(port)
    main()


def main():
    global _wait_us
    from pos import stdmods         # the built-ins bound as main.py binds them at boot
    stdmods.bind()
    p = json.loads(_io.readline())
    _memtrace_on[0] = p.get("memtrace", False)
    # configuration first (its JSON parse garbage is gone before the kernel loads), as at boot
    from pos.emv import config
    try:
        cfg = config.load(p["config"], p.get("capk"))
    except config.ConfigError as exc:
        call({"t": "config_error", "key": exc.key, "text": str(exc)}, reply=False)
        return
    gc.collect()
    from pos.emv.kernel import Kernel
    from pos.emv.apdu import Card
    draws = list(p.get("draws", [99]))
    when = (bytes.fromhex(p.get("date", "261122")), bytes.fromhex(p.get("time", "120000")))
    auth = p.get("authorizer", True)
    auth = Approve() if auth == "approve" else Authorizer() if auth else None
    if p.get("engine"):
        # the real transaction engine (pos.payments) talking ISO 8583 to the acquirer simulator;
        # cwd is the terminal's flash directory (config/acquirers.json, keys.kld, journal.bin)
        from pos.store.journal import Journal
        from pos.store.keystore import KeyStore
        from pos.store.devicekey import DeviceKey
        from pos.payments import config as pcfg
        from pos.payments.engine import PaymentEngine
        dev = DeviceKey(bytes.fromhex(p["device"][0]), bytes.fromhex(p["device"][1]))
        auth = PaymentEngine(pcfg.load("config/acquirers.json"), KeyStore("keys.kld", ".", dev), Journal("journal.bin"))
        auth.start()
        gc.collect()
    k = Kernel(cfg, transmit, ui=UI(), authorizer=auth,
               keystore=TestKeys(p["keys"]) if p.get("keys") else None,
               random=Rng(p.get("seed", 7)), draw=lambda: draws.pop(0) if len(draws) > 1 else draws[0],
               clock=lambda: when)
    if p.get("contactless"):
        # a tap instead: Entry Point and the contactless kernel (pos.emv.entry) on the same card I/O
        from pos.emv.entry import ContactlessConfig, EntryPoint
        k = None
        gc.collect()
        ep = EntryPoint(cfg, transmit, auth, cl_config=ContactlessConfig(p["contactless"]),
                        clock=lambda: when[0])
    lean = p.get("lean")    # instruction counts: nothing of the driver's own between transactions
    for t in p["transactions"]:
        # the heap as the services leave it for a card: collected (the collector's threshold at
        # Ready, its collection after each card; smartpos bench counts no explicit collection)
        gc.collect()
        _wait_us = 0
        del _memtrace[:]
        free0 = 0 if lean else gc.mem_free()     # gc.mem_free() walks the whole heap's table
        if p.get("alloc"):
            gc.collect()
            gc.disable()
            alloc = gc.mem_alloc()
        t0 = time.ticks_us()
        if k is None:
            o = ep.process(t["amount"], t.get("kind", "sale"))
        else:
            o = k.process(t["amount"], t.get("kind", "sale"), t.get("other", 0), t.get("force_online", False))
        total = time.ticks_diff(time.ticks_us(), t0)
        if p.get("alloc"):
            alloc = gc.mem_alloc() - alloc
            gc.enable()
        if lean:                    # the result alone: the report is no terminal's work either
            call({"t": "result", "outcome": {"result": o.result}, "terminal_us": total,
                  "alloc": alloc if p.get("alloc") else None}, reply=False)
            o = None
            continue
        d = o.as_dict()
        d["summary"] = o.summary()
        if p.get("detach") and k is not None:
            tx = k._tx
            k.detach()              # then attached again for the next one, as the services do
            d["after_detach"] = {"icc": len(k.tables[0]), "terminal": len(k.tables[1]), "pan": tx.pan,
                                 "pin_block": tx.pin_block is None, "keys": tx.icc_key is None,
                                 "out": tx.out is None, "same_tx": tx is k._tx}
            k.card = Card(transmit)
            k.ui = UI()
            k.authorizer = auth
        o = None
        gc.collect()
        call({"t": "result", "outcome": d, "terminal_us": total - _wait_us, "total_us": total,
              "free_before": free0, "free_after": gc.mem_free(),
              "memtrace": _memtrace}, reply=False)
        d = None


if __name__ == "__main__":
    main()
