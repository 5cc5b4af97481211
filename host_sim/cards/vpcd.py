"""Connect a simulated card to pcscd through vsmartcard's virtual reader driver (vpcd).

vpcd (Debian `vsmartcard-vpcd`, /etc/reader.conf.d/vpcd) listens on 127.0.0.1:35963 for
reader 0 ("Virtual PCD 00 00"; +1 per further reader).  The card side connects and then
exchanges messages framed as a 2-byte big-endian length and a payload: a 1-byte payload is
a control code (0 power off, 1 power on, 2 reset, 4 get ATR -> answer the ATR); a longer
payload is a command APDU -> answer the response APDU.
"""
import os
import socket
import struct
import time

VPCD_PORT = 35963
POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4


class VpcdError(OSError):
    pass


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return buf


class VpcdCard:
    """Serve `card` (atr, transmit, reset) to vpcd until stop() or the connection drops."""

    def __init__(self, card, host="127.0.0.1", port=VPCD_PORT, log=None):
        self.card = card
        self.host = host
        self.port = port
        self.log = log or (lambda msg: None)
        self.sock = None
        self.running = False
        self.apdus = 0

    def connect(self, timeout=3.0):
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise VpcdError("cannot reach vpcd on %s:%d (%s): is pcscd running with vsmartcard-vpcd "
                            "installed? (start it with: pcscd -f)" % (self.host, self.port,
                                                                        exc.strerror or exc))
        self.sock.settimeout(None)
        return self

    def serve(self):
        """Answer vpcd until it disconnects (returns) or stop() is called."""
        self.running = True
        s = self.sock
        while self.running:
            (n,) = struct.unpack(">H", _recv_exact(s, 2))
            msg = _recv_exact(s, n) if n else b""
            if n == 1:
                code = msg[0]
                if code == GET_ATR:
                    self._send(bytes(self.card.atr))
                elif code in (POWER_ON, RESET, POWER_OFF):
                    if hasattr(self.card, "reset"):
                        self.card.reset()
                    self.log("%s" % {POWER_ON: "power on", RESET: "reset", POWER_OFF: "power off"}[code])
                continue
            try:
                r = self.card.transmit(msg)
            except Exception as exc:              # a mute card: say nothing useful
                self.log("card gave no answer (%s)" % exc)
                r = b"\x6f\x00"
            if r is None:
                r = b"\x6f\x00"
            self.apdus += 1
            self.log("APDU %s -> SW %s" % (msg[:4].hex().upper(), bytes(r[-2:]).hex().upper()))
            self._send(bytes(r))

    def _send(self, payload):
        self.sock.sendall(struct.pack(">H", len(payload)) + payload)

    def stop(self):
        self.running = False
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None


PCSCD_COMM = "/run/pcscd/pcscd.comm"      # pcscd's client socket (pcsc-lite's default)


def _pcscd_serves():
    """True when pcscd's client socket takes connections: what pyscard and pcsc_scan need."""
    path = os.environ.get("PCSCLITE_CSOCK_NAME", PCSCD_COMM)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def ensure_pcscd(host="127.0.0.1", port=VPCD_PORT, log=print, wait_s=8.0):
    """Start pcscd (in the background) when it is installed but does not serve; True once both
    vpcd's port and pcscd's client socket take connections.

    Starts are serialised across processes with a lock file: two pcscd started together leave
    one running with its client socket removed by the other ("Service not available" for every
    PC/SC client until it is restarted)."""
    import fcntl
    import shutil
    import subprocess
    import tempfile

    def port_up():
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            return False
    local = host in ("127.0.0.1", "localhost")
    if port_up() and (not local or _pcscd_serves()):
        return True
    exe = shutil.which("pcscd") or ("/usr/sbin/pcscd" if shutil.which("/usr/sbin/pcscd") else None)
    if exe is None or not local:
        return False
    with open(os.path.join(tempfile.gettempdir(), "smartpos-pcscd.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        end = time.monotonic() + wait_s
        started = False
        # a pcscd that is still starting (or stopping) gets two seconds before another is started
        grace = time.monotonic() + 2.0
        while time.monotonic() < end:
            if port_up() and _pcscd_serves():
                return True
            alive = subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True).returncode == 0
            if not started and (not alive or time.monotonic() > grace):
                log("starting pcscd (%s)" % exe)
                # pcscd forks into the background; its first process exits at once
                subprocess.Popen([exe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True).wait()
                started = True
            time.sleep(0.2)
    return False


def serve_forever(card, host="127.0.0.1", port=VPCD_PORT, log=print, retry_s=1.0):
    """Keep the card connected, reconnecting when pcscd restarts."""
    ensure_pcscd(host, port, log)
    first = True
    while True:
        v = VpcdCard(card, host, port, log)
        try:
            v.connect()
        except VpcdError:
            if first:
                raise
            time.sleep(retry_s)
            continue
        if first:
            log("card connected to vpcd at %s:%d" % (host, port))
        first = False
        try:
            v.serve()
        except (ConnectionError, OSError):
            log("vpcd went away; reconnecting")
            time.sleep(retry_s)
        finally:
            v.stop()
