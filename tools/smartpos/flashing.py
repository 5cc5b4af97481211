"""Flash the firmware onto a board through its REPL (mpremote's transport).

Works the same for a real serial port (/dev/ttyACM0: the NUCLEO's ST-LINK
VCP), the virtual board's pty and its ``socket://127.0.0.1:PORT``.

1. connect and enter the raw REPL (soft reset first: fresh heap, main.py not run);
2. ask the board its ``.mpy`` format (``sys.implementation._mpy``) and compile
   every firmware module with mpy-cross for it (``-march`` from the arch bits);
   ``boot.py`` and ``main.py`` stay sources, as the port runs them by name.
   A module that does not compile stops everything before anything is copied;
3. compare with the manifest of hashes kept on the board (``.flash-manifest``
   at the flash root) and copy only what changed; check the free space first;
4. write the manifest last (files being replaced are dropped from it before
   the copy, so an interrupted flash is redone next time, never trusted);
5. hard reset and wait for the firmware to report ``smartpos ready``.
"""
import contextlib
import io
import json
import os
import shutil
import tempfile
import time

from posbuild.mpy import MANIFEST, build_cached, sha256_file
from posbuild.toolchain import FIRMWARE_DIR, BuildError, decode_mpy

READY_LINE = b"smartpos ready"

# a failed build stops a flash before anything is copied: one error family for both
FlashError = BuildError


# --- the board side ----------------------------------------------------------
# Printed piece by piece (a line per file, the manifest copied in small reads): the listing and
# manifest of a whole firmware are tens of KB, which one repr() would have to hold twice in one
# block, more than a board's heap has in one piece.
_PROBE = """
import sys, os
try:
    os.stat('/flash'); r = '/flash'
except OSError:
    r = os.getcwd()
if r == '/':
    r = ''
s = os.statvfs(r or '/')
print(repr((sys.implementation._mpy if hasattr(sys.implementation, '_mpy') else 0, r, s[0] * s[3])))
def walk(d):
    for e in os.ilistdir(d or '/'):
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            walk(p)
        else:
            print(repr((p[len(r) + 1:], e[3] if len(e) > 3 else os.stat(p)[6])))
walk(r)
print('%s')
try:
    f = open(r + '/%s')
except OSError:
    f = None
if f:
    b = bytearray(512)
    while True:
        n = f.readinto(b)
        if not n:
            break
        sys.stdout.write(b[:n])
    f.close()
    del b
print()
del walk, f, s, r
"""
_PROBE_END = "--- manifest ---"

# the flash root alone (as _PROBE finds it)
_ROOT = """
import os
try:
    os.stat('/flash'); r = '/flash'
except OSError:
    r = os.getcwd()
print('' if r == '/' else r)
del r
"""


class Flasher:
    def __init__(self, port, progress=None, ready_timeout=30, connect_timeout=10):
        self.port = port
        self.progress = progress or (lambda msg: None)
        self.ready_timeout = ready_timeout
        self.connect_timeout = connect_timeout
        self.t = None

    # connection ----------------------------------------------------------
    def connect(self):
        from mpremote.transport_serial import SerialTransport
        from mpremote.transport import TransportError
        if not self.port.startswith(("socket://", "rfc2217://", "loop://")) and not os.path.exists(self.port):
            raise FlashError("no port %s: check the cable, or start the virtual board "
                             "(smartpos board --pty-link PATH) and use its path" % self.port)
        try:
            self.t = SerialTransport(self.port, baudrate=115200)
        except (TransportError, OSError) as exc:
            raise FlashError("cannot open %s (%s): check the port name and that no other program holds it"
                             % (self.port, exc))
        # mpremote reads with no timeout: a silent port would hang it for ever
        self.t.serial.timeout = self.connect_timeout
        try:
            with contextlib.redirect_stdout(io.StringIO()):      # mpremote prints what it got on failure
                self.t.enter_raw_repl(soft_reset=True, timeout_overall=self.connect_timeout)
            self.t.serial.timeout = 10      # a board that stops answering mid-transfer is an error, not a hang
        except Exception:
            self.close()
            raise FlashError("board on %s does not answer (no MicroPython REPL): press its reset button, "
                             "check the baud rate (115200) and that it runs MicroPython" % self.port)

    def close(self):
        if self.t is not None:
            try:
                self.t.close()
            except Exception:
                pass
            self.t = None

    def _exec(self, code):
        from mpremote.transport import TransportExecError, TransportError
        try:
            return self.t.exec(code).decode("utf-8", "replace")
        except TransportExecError as exc:
            msg = exc.error_output.strip().splitlines()
            raise _BoardError(msg[-1] if msg else "error on the board")
        except (TransportError, OSError) as exc:
            raise FlashError("board on %s stopped answering (%s): reset it and flash again; the manifest "
                             "keeps its flash consistent" % (self.port, exc))

    # the flash -----------------------------------------------------------
    def probe(self):
        import ast
        out = self._exec(_PROBE % (_PROBE_END, MANIFEST)).replace("\r\n", "\n")
        head, _, manifest = out.partition("\n" + _PROBE_END + "\n")
        lines = head.strip().splitlines()
        try:
            mpy, root, free = ast.literal_eval(lines[0])
            files = dict(ast.literal_eval(l) for l in lines[1:])
        except (IndexError, ValueError, SyntaxError):
            raise FlashError("board on %s answered the flash listing with something else: %r"
                             % (self.port, out[:80]))
        try:
            manifest = json.loads(manifest) if manifest.strip() else {}
        except ValueError:
            manifest = {}
        return mpy, root, files, manifest, free

    def flash(self, src=FIRMWARE_DIR, reset=True):
        """Flash; return a dict of what was done."""
        t0 = time.monotonic()
        self.progress("connecting to %s" % self.port)
        self.connect()
        try:
            mpy, root, on_board, manifest, free = self.probe()
            version, sub, arch = decode_mpy(mpy) if mpy else (None, None, None)
            self.progress("board: .mpy v%s.%s arch %s, flash %s, %d KB free"
                          % (version, sub, arch or "bytecode-only", root or "/", free // 1024))
            tmp = tempfile.mkdtemp(prefix="smartpos-build-")
            try:
                built = build_cached(tmp, mpy or None, src)
                result = self._copy(built, root, on_board, manifest, free)
                result["mpy_bytes"] = sum(os.path.getsize(p) for _, p in built)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            if reset:
                result["ready"] = self._reset_and_wait(src)
            result["seconds"] = time.monotonic() - t0
            return result
        finally:
            self.close()

    def put_file(self, rel, data, reset=True):
        """Write one file `rel` under the board's flash root: to a temporary name, then
        renamed (a cut leaves the old file or the new one); then reset and wait for the
        firmware unless `reset` is false.  Returns the path written on the board."""
        self.connect()
        try:
            root = self._exec(_ROOT).strip()
            path = (root + "/" if root else "") + rel
            try:
                self._write_file(path + ".tmp", data)
                self._exec("import os\nos.rename(%r, %r)" % (path + ".tmp", path))
            except _BoardError as exc:
                raise FlashError("cannot write %s on the board: %s" % (path, exc))
            if reset:
                self._reset_and_wait(FIRMWARE_DIR)
            return path
        finally:
            self.close()

    def _copy(self, built, root, on_board, manifest, free):
        want = {path: (local, sha256_file(local)) for path, local in built}
        changed = [p for p, (local, h) in sorted(want.items())
                   if manifest.get(p) != h or on_board.get(p) != os.path.getsize(local)]
        # a source twin would shadow the compiled module (import tries .py first)
        stale = sorted(p for p in manifest if p not in want)
        stale += sorted(p[:-4] + ".py" for p in want if p.endswith(".mpy") and p[:-4] + ".py" in on_board
                        and p[:-4] + ".py" not in stale)
        need = sum(os.path.getsize(want[p][0]) - on_board.get(p, 0) for p in changed)
        freed = sum(on_board.get(p, 0) for p in stale)
        if need - freed > free - 4096:
            raise FlashError("flash full: the firmware needs %d KB more, %d KB free; remove files "
                             "(mpremote fs rm) or give the board a bigger filesystem" % ((need - freed) // 1024,
                                                                                         free // 1024))
        total = len(changed)
        self.progress("%d of %d files changed, %d to remove" % (total, len(want), len(stale)))
        prefix = root + "/" if root else ""
        keep = {p: h for p, h in manifest.items() if p in want and p not in changed}
        if total or stale:
            self._write_manifest(prefix, keep)      # nothing half-copied is ever in the manifest
        for p in stale:
            try:
                self._exec("import os\nos.remove(%r)" % (prefix + p))
            except _BoardError:
                pass
        dirs = sorted({os.path.dirname(p) for p in changed if os.path.dirname(p)})
        have_dirs = {os.path.dirname(p) for p in on_board}
        for d in dirs:
            parts = d.split("/")
            for i in range(1, len(parts) + 1):
                sub = "/".join(parts[:i])
                if sub not in have_dirs:
                    try:
                        self._exec("import os\nos.mkdir(%r)" % (prefix + sub))
                    except _BoardError:
                        pass
                    have_dirs.add(sub)
        copied = 0
        for i, p in enumerate(changed, 1):
            local, h = want[p]
            with open(local, "rb") as f:
                data = f.read()
            self.progress("[%d/%d] %s (%d bytes)" % (i, total, p, len(data)))
            try:
                self._write_file(prefix + p, data)
            except _BoardError as exc:
                if "ENOSPC" in str(exc) or "28" in str(exc):
                    raise FlashError("flash full while writing %s: remove files (mpremote fs rm) and "
                                     "flash again (the manifest keeps the board consistent)" % p)
                raise FlashError("writing %s failed on the board: %s" % (p, exc))
            keep[p] = h
            copied += len(data)
        if total or stale or manifest != keep:
            self._write_manifest(prefix, keep)
        return {"files": len(want), "changed": total, "removed": len(stale), "bytes_copied": copied}

    def _write_file(self, path, data, chunk=2048):
        self._exec("f=open(%r,'wb')\nw=f.write" % path)
        try:
            for off in range(0, len(data), chunk):
                self._exec("w(%r)" % data[off:off + chunk])
        finally:
            try:
                self._exec("f.close()\ndel f, w")
            except _BoardError:
                pass

    def _write_manifest(self, prefix, entries):
        self._write_file(prefix + MANIFEST, json.dumps(entries, sort_keys=True, separators=(",", ":")).encode())

    def _reset_and_wait(self, src):
        """Hard reset; wait for 'smartpos ready' (or the REPL banner if there is no main.py)."""
        expect_main = os.path.exists(os.path.join(src, "main.py"))
        self.progress("resetting the board")
        ser = self.t.serial
        # as mpremote's reset: let the raw-REPL acknowledgement leave the UART first
        self.t.exec_raw_no_follow("import time, machine\ntime.sleep_ms(100)\nmachine.reset()")
        ser.timeout = 0.2
        buf = bytearray()
        end = time.monotonic() + self.ready_timeout
        while time.monotonic() < end:
            n = max(1, ser.in_waiting) if hasattr(ser, "in_waiting") else 1
            try:
                data = ser.read(n)
            except Exception:
                data = b""
            if data:
                buf += data
            if expect_main and READY_LINE in buf:
                return True
            if b"Traceback" in buf and b">>> " in buf[buf.find(b"Traceback"):]:
                err = bytes(buf[buf.find(b"Traceback"):]).decode("utf-8", "replace").strip().splitlines()
                last = [l for l in err if l and not l.startswith((" ", "Traceback", "MicroPython", "Type", ">>>"))]
                why = last[-1] if last else "error"
                hint = "run `smartpos board --console` or mpremote repl to see it"
                if why.startswith("MemoryError") and b"(virtual)" in buf:
                    # the unix port's objects take 8-byte words where the board's take 4
                    from host_sim.board.virtual_board import PRODUCT_HEAP
                    hint = ("the virtual board is 64-bit and the whole firmware needs %s of its heap "
                            "there (the board's 192 KB): start it with `smartpos board --heap %s` "
                            "(docs/bridge.md)" % (PRODUCT_HEAP, PRODUCT_HEAP))
                raise FlashError("flashed, but the firmware stopped at boot: %s; %s" % (why, hint))
            if b">>> " in buf:
                if not expect_main:
                    return True
                raise FlashError("flashed, but main.py ended without reporting ready: check main.py")
        raise FlashError("flashed, but the board did not report ready within %ds after reset: check it "
                         "with mpremote connect %s repl" % (self.ready_timeout, self.port))


class _BoardError(Exception):
    pass
