"""Fault injection for the acquirer host simulator.

Kinds (each applies to the next `count` replies to the chosen request MTIs,
default the financial ones 0100/0200):
  drop        the request is processed (the account may be charged) but never answered
  delay       the reply is sent after `seconds` (past the terminal's timeout)
  duplicate   the reply is sent twice
  malformed   the reply's bitmap is corrupted (fields no longer line up)
  bad_mac     the reply's MAC (field 64/128) is altered
  close       half the reply is sent, then the connection is closed
  refuse      the listening port is closed: connections are refused (count = seconds)
  settle_mismatch  the host loses one transaction before the next 0500 (reconcile error)
"""
import threading
import time

KINDS = ("drop", "delay", "duplicate", "malformed", "bad_mac", "close", "refuse", "settle_mismatch")
DEFAULT_MTIS = ("0110", "0210")


class Fault:
    def __init__(self, kind, count=1, mtis=DEFAULT_MTIS, seconds=0.0):
        if kind not in KINDS:
            raise ValueError("unknown fault %r (known: %s)" % (kind, ", ".join(KINDS)))
        self.kind = kind
        self.count = count
        self.mtis = tuple(mtis)
        self.seconds = seconds


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._active = []
        self._refuse_until = 0.0
        self.fired = []                  # (kind, reply MTI) log, for tests
        self.on_refuse = None            # the server closes its port at once

    def set(self, kind, count=1, mtis=None, seconds=None):
        """Arm a fault; `mtis` are reply MTIs (e.g. ('0210',)); returns the Fault."""
        if kind == "refuse":
            with self._lock:
                self._refuse_until = time.monotonic() + (seconds if seconds is not None else 3600)
            if self.on_refuse:
                self.on_refuse()
            return None
        f = Fault(kind, count, mtis or DEFAULT_MTIS, seconds if seconds is not None else 20.0)
        with self._lock:
            self._active.append(f)
        return f

    def clear(self):
        with self._lock:
            self._active = []
            self._refuse_until = 0.0

    def refusing(self):
        return time.monotonic() < self._refuse_until

    def take(self, reply_mti):
        with self._lock:
            for f in self._active:
                if f.kind != "settle_mismatch" and reply_mti in f.mtis and f.count > 0:
                    f.count -= 1
                    if f.count == 0:
                        self._active.remove(f)
                    self.fired.append((f.kind, reply_mti))
                    return f
        return None

    def take_settlement_mismatch(self):
        with self._lock:
            for f in self._active:
                if f.kind == "settle_mismatch":
                    self._active.remove(f)
                    self.fired.append((f.kind, "0510"))
                    return True
        return False
