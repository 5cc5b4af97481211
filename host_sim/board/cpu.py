"""The virtual board's CPU: the MicroPython unix port behind a REPL that acts like the stm32 port.

The unix port runs ``board_start.py`` (board support, /flash, boot.py,
main.py) and then its own REPL (``-i``), with stdin/stdout on pipes.  This
class sits between the REPL ports (pty, TCP, the in-process API) and that
process and adds what the unix port lacks (platform-notes):

* soft reset: when the process exits (Ctrl-D in the friendly or raw REPL,
  ``sys.exit()``, ``machine.soft_reset()``) it prints the stm32 banner
  ``MPY: sync filesystems`` / ``MPY: soft reboot`` and starts a fresh process
  (fresh heap), which runs boot.py and, unless the REPL was in raw mode,
  main.py; in raw mode the raw-REPL prompt comes back as on the stm32 port;
* hard reset (``machine.reset()``): the process is killed and restarted with
  reset cause HARD_RESET, and the board powers the device models on again;
* Ctrl-C: while Python code runs (the process has a SIGINT handler, see
  /proc/PID/status SigCgt) it is delivered as SIGINT, as the stm32 UART IRQ
  raises KeyboardInterrupt; at a prompt the byte goes to the REPL;
* output cooked like the stm32 port (``\\n`` -> ``\\r\\n``) and the unix banner
  replaced by the board's.
"""
import fcntl
import os
import platform
import queue
import re
import select
import shutil
import signal
import struct
import subprocess
import termios
import threading
import time

from host_sim.mpy import micropython_binary
from posbuild.toolchain import gc_geometry

INTERRUPT_WAIT_S = 2.0      # a Ctrl-C sent through the bridge and not taken: SIGINT after this
BSP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bsp")
START = os.path.join(BSP_DIR, "board_start.py")

PWRON_RESET, HARD_RESET, WDT_RESET, SOFT_RESET = 1, 2, 3, 5

BANNER = (b"MicroPython v1.29.0-preview on 2026-07-05; NUCLEO-F429ZI (virtual) with STM32F429\r\n"
          b"Type \"help()\" for more information.\r\n")
SOFT_REBOOT = b"MPY: sync filesystems\r\nMPY: soft reboot\r\n"
_UNIX_BANNER = re.compile(rb"MicroPython [^\r\n]*; linux [^\r\n]*\r?\n")
_HELP = b"Type \"help()\" for more information.\r\n"


def parse_heap(text):
    """'192K' -> 196608; '1M' -> 1048576; '65536' -> 65536."""
    t = str(text).strip().upper()
    mult = 1
    if t.endswith("K"):
        mult, t = 1024, t[:-1]
    elif t.endswith("M"):
        mult, t = 1024 * 1024, t[:-1]
    try:
        n = int(t) * mult
    except ValueError:
        raise ValueError("heap size %r: use bytes or K/M, e.g. 192K" % (text,))
    if n < 16 * 1024:
        raise ValueError("heap size %r is too small for MicroPython (16K at least)" % (text,))
    return n


# What the Python board-support layer (machine, the flash filesystem) keeps on the heap after
# start-up; on the board this is the port's C code and costs no heap.  With frozen firmware
# the heap is grown by this much so the firmware keeps the board's heap for itself
# (tests/board/test_frozen_firmware.py checks the layer stays within it).
BSP_HEAP_ALLOWANCE = 40 * 1024    # + the ROMFS slots, flash test points and boot-stage support
# The same layer on a 32-bit build (docs/bridge.md "A 32-bit virtual board"): 26,330 bytes
# measured at Ready (38,762 on x64), with the same couple of KB to spare.
BSP_HEAP_ALLOWANCE_32BIT = 28 * 1024


def bsp_heap_allowance(geometry=None):
    """BSP_HEAP_ALLOWANCE for the virtual board's MicroPython (64-bit or 32-bit build)."""
    return BSP_HEAP_ALLOWANCE if (geometry or gc_geometry()).word_bytes == 8 else BSP_HEAP_ALLOWANCE_32BIT

# What the exception-injection support (bsp/_faults.py, switched on by SMARTPOS_FAULT_POINTS in
# tests only) keeps on the heap: a wrapper for each function it can fault (about 37 KB with
# every point of host_sim.faultinject) and the interned-name pool it grows at start-up (about
# 130 KB, _faults.grow_name_pool).  It is test instrumentation, not firmware: the heap grows by it
# (a little more than the firmware loses to it: no heap figure is taken from these boards).
FAULTS_HEAP_ALLOWANCE = (40 + 136) * 1024


def rom_qstrs(image):
    """The qstr pool the image's modules intern on the unix port (in flash on a frozen build)."""
    try:
        from posbuild.romfs import rom_qstr_bytes
    except ImportError:
        return 0
    return rom_qstr_bytes(image)


def rom_heap_cost(size, geometry=None):
    """GC heap taken by a bytearray of `size` bytes (data blocks with a block of slack, and two
    blocks of object header) on the virtual board's MicroPython: 32-byte blocks on the x64 unix
    port, 16-byte ones on a 32-bit build (posbuild.toolchain.gc_geometry, measured)."""
    block = (geometry or gc_geometry()).block_bytes
    return (size + block + block - 1) // block * block + 2 * block


def gc_table_cost(pool, geometry=None):
    """GC table bytes the unix port takes from `-X heapsize` for `pool` bytes of blocks
    (3 bits per block: 3/256 of the pool on x64, 3/128 on a 32-bit build)."""
    return (geometry or gc_geometry()).table_bytes(pool)


class Cpu:
    """One MicroPython process at a time; restarts it on soft/hard reset."""

    def __init__(self, flash_dir, heap=196608, env=None, flash_size=1 << 20, rom=None):
        self.flash_dir = os.path.abspath(flash_dir)
        self.heap = heap
        self.rom = rom                  # ROMFS image (frozen firmware), memory-mapped like the board's flash
        self.rom_length = None          # bytes of `rom` that hold the image (a slot is larger)
        self.rom_qstr = None            # measured qstr cost of that image (None: from rom + ".qstr")
        self.bootloader = None          # host_sim.board.bootloader.Bootloader: picks the slot on reset
        self.boot_choice = None         # what it picked last
        self.boot_error = None
        self.flash_size = flash_size
        self.extra_env = dict(env or {})
        self.sinks = []                 # fn(bytes): REPL ports and listeners
        self.on_hard_reset = None       # fn(): power the device models on again
        self.raw = False                # REPL mode as the client left it
        self.proc = None
        self.booting = True
        self.boots = 0
        self.hard_resets = 0
        self.last_boot_s = None
        self._queue = []                # input held while the CPU boots
        self._lock = threading.RLock()
        self._gen = 0
        self._stopping = False
        self._hard = False
        self._line = b""                # held-back partial line (maybe a banner)
        self._last = b""                # last byte sent, for \n -> \r\n
        self._swallow = 0               # raw-mode restart: hide the friendly prompt
        self._t_start = 0.0
        self.ready = threading.Event()
        self._pump_thread = None
        self._pump_busy = False         # the output thread holds bytes read but not yet sent out
        self._inq = queue.Queue()
        threading.Thread(target=self._writer, daemon=True, name="cpu-in").start()
        self.up = False                 # the start-up lets Ctrl-C interrupt now (BOOT_STAGE 2)
        self._intr = False              # Ctrl-C held until boot.py starts
        self.ctrl_c = []                # how each Ctrl-C went (the last 20): (monotonic time, "held", "bridge",
        #                                 "signal", "signal (late)", "dropped (program ended)", "queued", "typed")
        self.on_interrupt = None        # fn() -> threading.Event set once the program took the Ctrl-C, or None
        self.on_interrupt_cancel = None  # fn(): that Ctrl-C is no longer wanted
        self.start_dir = BSP_DIR        # where board_start.py and the bsp live (maybe compiled)

    # --- lifecycle -------------------------------------------------------
    def start(self, cause=PWRON_RESET):
        with self._lock:
            self._stopping = False
            self._spawn(cause)

    def stop(self):
        with self._lock:
            self._stopping = True
            self._kill()
        self._inq.put((None, b""))

    def _kill(self):
        p = self.proc
        if p and p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def _spawn(self, cause):
        self._gen += 1
        gen = self._gen
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update({
            "SMARTPOS_FLASH": self.flash_dir,
            "SMARTPOS_FLASH_SIZE": str(self.flash_size),
            "SMARTPOS_RESET_CAUSE": str(cause),
            "SMARTPOS_RAW": "1" if self.raw else "0",     # raw REPL kept across soft reset: skip main.py
            "MICROPYPATH": ".frozen",
            "HOME": self.flash_dir + "/.home-never-used",   # no REPL history written into the user's home
        })
        if cause != SOFT_RESET and self.bootloader is not None:
            if not self._run_bootloader(env):
                return
        elif self.boot_choice is not None:
            env["SMARTPOS_BOOT_SLOT"] = str(self.boot_choice.slot)
        self._spawn_raw = self.raw
        if not self.booting:
            self._queue = []
            self._intr = False      # a Ctrl-C typed while resetting is kept for the new start-up
        self.booting = True
        self.up = False
        self.ready.clear()
        self._line = b""
        self._swallow = 0
        self._t_start = time.monotonic()
        heap = self.heap
        if self.rom:
            # The board executes frozen bytecode in place from its flash; the unix port can
            # only map the image inside its GC heap, so the heap grows by exactly the image
            # (one block allocated first by board_start.py) and the firmware keeps `heap` free.
            size = self.rom_length or os.path.getsize(self.rom)
            env["SMARTPOS_ROM"] = self.rom
            env["SMARTPOS_ROM_SIZE"] = str(size)
            qstr = self.rom_qstr if self.rom_qstr is not None else rom_qstrs(self.rom)
            extra = rom_heap_cost(size) + bsp_heap_allowance() + qstr
            if self.extra_env.get("SMARTPOS_FAULT_POINTS"):
                extra += FAULTS_HEAP_ALLOWANCE
            heap += extra + gc_table_cost(extra)    # + the GC tables for the blocks added
        argv = [micropython_binary(), "-X", "heapsize=%d" % heap, "-i",
                os.path.join(self.start_dir, "board_start.py")]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0, env=env, cwd=self.start_dir,
                                     start_new_session=True)
        self.boots += 1
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc, gen), daemon=True,
                                             name="cpu-out")
        self._pump_thread.start()

    def _run_bootloader(self, env):
        """Power-on / system reset: the bootloader picks the slot mapped at /rom.  False when
        no slot may boot (the board then prints why and stays stopped, as a bricked board)."""
        from host_sim.board.bootloader import BootError
        try:
            choice = self.bootloader.boot()
        except BootError as exc:
            self.boot_error = str(exc)
            self.boot_choice = None
            self.proc = None
            self._emit(b"bootloader: " + str(exc).encode() + b"\r\n")
            return False
        self.boot_error = None
        self.boot_choice = choice
        self.rom = choice.path
        self.rom_length = choice.length
        with open(choice.path, "rb") as f:
            image = f.read(choice.length)
        try:
            from posbuild.romfs import image_qstr_bytes
            self.rom_qstr = image_qstr_bytes(image)
        except ImportError:
            self.rom_qstr = 0
        env["SMARTPOS_BOOT_SLOT"] = str(choice.slot)
        return True

    def board_up(self, stage):
        """The start-up reached `stage` (docs/bridge.md, BOOT_STAGE).

        1: boot.py is about to start; returns 1 if a Ctrl-C was typed since power-on (held
           until now), which the start-up then raises at boot.py's first line, 0 if not.
           Ctrl-C typed from here to stage 2 is held again.
        2: Ctrl-C may interrupt from now on: one held since stage 1 is delivered."""
        with self._lock:
            if self.up or not self.booting:
                return 0        # the REPL is already up (this message came late)
            if stage == 1:
                held, self._intr = self._intr, False
                return 1 if held else 0
            self.up = True
            if self._intr:
                self._intr = False
                how = self._interrupt()
                if not how:
                    self._queue.insert(0, b"\x03")
                self._ctrl_c("held, then %s" % (how or "queued"))
            return 0

    def _resetting(self):
        # from now on wait_ready() waits for the new boot, and input is held for it
        self.ready.clear()
        self.booting = True
        self.up = False
        self._queue = []

    def soft_reset(self):
        """machine.soft_reset() / SystemExit in main.py: as if the REPL got Ctrl-D."""
        with self._lock:
            self._gen += 1
            self._resetting()
        self._kill_and_drain()
        with self._lock:
            if self._line:
                self._emit(self._line)
                self._line = b""
            self._emit(SOFT_REBOOT)
            self._last = b"\n"
            if not self._stopping:
                self._spawn(SOFT_RESET)

    def _interrupt(self):
        """Ctrl-C for the running program (False: none runs).  Through the bridge when the board
        support listens (on_interrupt: it raises KeyboardInterrupt in Python, as the board's
        UART interrupt makes it pending); SIGINT only when it does not, or when the program has
        not looked within INTERRUPT_WAIT_S (a loop that neither uses the bridge nor waits).  The
        unix port raises SIGINT's KeyboardInterrupt from the signal handler, wherever its C code
        is: inside a collection that left the heap locked or inconsistent (docs/bridge.md)."""
        if not self._running_python():
            return False
        ev = self.on_interrupt() if self.on_interrupt else None
        if ev is None:
            self._sigint()
            return "signal"
        threading.Thread(target=self._interrupt_late, args=(ev, self._gen), daemon=True,
                         name="ctrl-c").start()
        return "bridge"

    def _interrupt_late(self, ev, gen):
        if ev.wait(INTERRUPT_WAIT_S):
            return
        with self._lock:
            if gen != self._gen:
                return                  # the CPU restarted meanwhile
            if self.on_interrupt_cancel:
                self.on_interrupt_cancel()
            if ev.is_set():
                return                  # taken while we looked
            if self._running_python():
                self._sigint()
                how = "signal (late)"
            else:
                how = "dropped (program ended)"
            self._ctrl_c(how)

    def _ctrl_c(self, how):
        self.ctrl_c.append((time.monotonic(), how))
        del self.ctrl_c[:-20]

    def _sigint(self):
        try:
            os.kill(self.proc.pid, signal.SIGINT)
        except OSError:
            pass

    def hard_reset(self, cause=HARD_RESET):
        """machine.reset() / the reset button / the watchdog: a system reset (cause HARD_RESET or WDT_RESET)."""
        with self._lock:
            self.hard_resets += 1
            self._gen += 1          # the old process's exit is not a soft reset
            self._resetting()
            self.raw = False
        self._kill_and_drain()
        with self._lock:
            if self.on_hard_reset:
                self.on_hard_reset()
            self.raw = False        # a system reset always boots main.py (input typed meanwhile waits)
            if not self._stopping:
                self._spawn(cause)

    def power_off(self):
        """Power cut: the CPU stops where it is (nothing more is printed, nothing restarts)."""
        with self._lock:
            self._gen += 1
        self._kill_and_drain()
        with self._lock:
            self.proc = None
            self.booting = True
            self.ready.clear()
            self._queue = []

    def power_on(self):
        """Power back on: a cold start (reset cause PWRON_RESET), friendly REPL."""
        with self._lock:
            self.raw = False
            self._queue = []
            self._last = b"\n"
            if not self._stopping:
                self._spawn(PWRON_RESET)

    def _kill_and_drain(self):
        """Stop the process; what it printed before dying still goes out (as a UART's FIFO would)."""
        self._kill()
        t = self._pump_thread
        if t is not None and t is not threading.current_thread():
            t.join(30)          # ends as soon as the dead process's pipe is read empty

    # --- output path -------------------------------------------------------
    def _emit(self, data):
        if not data:
            return
        for fn in list(self.sinks):
            try:
                fn(data)
            except Exception:
                pass

    def _cook(self, data):
        # stm32 mp_hal_stdout_tx_strn_cooked: every "\n" goes out as "\r\n"
        if b"\n" not in data:
            if data:
                self._last = data[-1:]
            return data
        out = bytearray()
        prev = self._last
        for i, b in enumerate(data):
            if b == 10 and prev != b"\r":
                out += b"\r"
            out.append(b)
            prev = data[i:i + 1]
        self._last = prev
        return bytes(out)

    def _filter(self, data):
        """Replace the unix banner; in a raw-mode restart hide it and enter raw REPL."""
        buf = self._line + data
        self._line = b""
        out = bytearray()
        while buf:
            if self._swallow == 2:          # waiting for the friendly prompt to hide
                i = buf.find(b">>> ")
                if i < 0:
                    self._line = buf[-3:]
                    return bytes(out)
                buf = buf[i + 4:]
                self._swallow = 0
                self._became_ready(enter_raw=True)
                continue
            m = _UNIX_BANNER.search(buf)
            if m:
                out += buf[:m.start()]
                rest = buf[m.end():]
                if len(rest) < len(_HELP) and _HELP.startswith(rest):
                    self._line = buf[m.start():]      # wait for the "Type help" line
                    return bytes(out)
                if rest.startswith(_HELP):
                    rest = rest[len(_HELP):]
                if self.booting and self._spawn_raw:
                    self._swallow = 2
                else:
                    out += BANNER
                    if self.booting:
                        self._became_ready(enter_raw=False)
                buf = rest
                continue
            # hold back a tail that could be the start of the banner
            j = buf.rfind(b"\n")
            tail = buf[j + 1:]
            k = tail.find(b"M")
            if k >= 0 and (b"MicroPython ".startswith(tail[k:k + 12]) and b"\n" not in tail[k:]):
                cut = j + 1 + k
                if len(buf) - cut < 200:
                    out += buf[:cut]
                    self._line = buf[cut:]
                    return bytes(out)
            out += buf
            buf = b""
        return bytes(out)

    def _became_ready(self, enter_raw):
        self.booting = False
        self.up = True
        self.last_boot_s = time.monotonic() - self._t_start
        q, self._queue = self._queue, []
        if self._intr:          # held, and the start-up never said boot.py starts (no board support)
            self._intr = False
            q.insert(0, b"\x03")
        if enter_raw:
            self._write_proc(b"\x01")
        for data in q:
            self._write_proc(data)
        self.ready.set()

    def _pump(self, proc, gen):
        fd = proc.stdout.fileno()
        while True:
            try:
                select.select([fd], [], [])
                self._pump_busy = True      # before the read: waiting_for_input() relies on it
                data = os.read(fd, 65536)
            except (OSError, ValueError):
                data = b""
            if not data:
                self._pump_busy = False
                break
            with self._lock:
                out = self._filter(self._cook(data))
            self._emit(out)         # only this thread emits while the process lives: order kept
            self._pump_busy = False
        proc.wait()
        with self._lock:
            if gen != self._gen or self._stopping:
                return
            if self._line:
                self._emit(self._line)
                self._line = b""
            # the process ended by itself: a soft reset
            self._emit(SOFT_REBOOT)
            self._last = b"\n"
            if self.boots > 3 and time.monotonic() - self._t_start < 0.2:
                time.sleep(0.2)    # boot loop (main.py exits at once): do not spin the PC
            self._spawn(SOFT_RESET)

    # --- input path ------------------------------------------------------
    def _write_proc(self, data):
        """Queue bytes for the process's stdin (written by one thread, never under the lock)."""
        self._inq.put((self.proc, data))

    def _writer(self):
        while True:
            proc, data = self._inq.get()
            try:
                if proc is None:
                    return
                if proc is not self.proc or proc.poll() is not None:
                    continue        # typed at a CPU that has since reset: lost, as on a real UART
                try:
                    proc.stdin.write(data)
                except (BrokenPipeError, OSError, ValueError):
                    pass
            finally:
                self._inq.task_done()

    def waiting_for_input(self):
        """True when the CPU has read everything typed to it and sits in a read of its console,
        with everything it printed before that already sent out: its last prompt is the live one.

        Checked in this order: the process blocked reading stdin (so whatever it printed is in
        its output pipe or past it), nothing left to read on its input, its output pipe empty,
        and the output thread holding nothing (it marks itself busy before it reads)."""
        with self._lock:
            p = self.proc
            if p is None or self.booting or self._queue or self._line or p.poll() is not None:
                return False
        if self._inq.unfinished_tasks:
            return False
        try:
            if not _reading_stdin(p.pid) or _pending(p.stdin) or _pending(p.stdout):
                return False
        except (OSError, ValueError):
            return False
        return not self._pump_busy and self._line == b""

    def diagnose(self, backtrace=True):
        """What the CPU's threads are doing now, for an error message: each thread's state
        (R running, S sleeping), where the kernel has it waiting and its system call, then,
        where gdb is installed, every thread's C backtrace (the VM function, the blocking call)."""
        p = self.proc
        if p is None or p.poll() is not None:
            return "the CPU is not running"
        lines = []
        try:
            for tid in sorted(os.listdir("/proc/%d/task" % p.pid), key=int):
                base = "/proc/%d/task/%s/" % (p.pid, tid)
                with open(base + "stat") as f:
                    state = f.read().rsplit(") ", 1)[1].split()[0]
                with open(base + "wchan") as f:
                    wchan = f.read().strip() or "-"
                with open(base + "syscall") as f:
                    call = f.read().split()[0]
                lines.append("thread %s: state %s, waiting in %s, syscall %s" % (tid, state, wchan, call))
        except OSError as e:
            lines.append("threads not readable: %s" % e)
        gdb = backtrace and shutil.which("gdb")
        if gdb:
            try:
                out = subprocess.run([gdb, "-batch", "-nx", "-p", str(p.pid), "-ex", "thread apply all bt 16"],
                                     capture_output=True, text=True, timeout=60).stdout
                lines += [ln for ln in out.splitlines() if ln.startswith(("Thread ", "#"))]
            except (OSError, subprocess.TimeoutExpired) as e:
                lines.append("gdb: %s" % e)
        return "\n".join(lines)

    def _running_python(self):
        """True while the process executes Python code (it then has a SIGINT handler)."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
        except (OSError, AttributeError):
            pass
        return False

    def write(self, data):
        """Bytes from a REPL client (any port)."""
        with self._lock:
            while data:
                i = data.find(b"\x03")
                chunk = data if i < 0 else data[:i]
                if chunk:
                    a, b = chunk.rfind(b"\x01"), chunk.rfind(b"\x02")   # Ctrl-A raw, Ctrl-B friendly
                    if a != b:
                        self.raw = a > b
                    if self.booting:
                        self._queue.append(chunk)
                    else:
                        self._write_proc(chunk)
                if i < 0:
                    break
                # Ctrl-C
                if not self.up:
                    self._intr = True       # never interrupt the start-up before boot.py
                    how = "held"
                else:
                    how = self._interrupt()     # "bridge" or "signal": the running program's
                    if not how and self.booting:
                        self._queue.append(b"\x03")
                        how = "queued"
                    elif not how:
                        self._write_proc(b"\x03")
                        how = "typed"
                self._ctrl_c(how)
                data = data[i + 1:]


# the read system call's number, for /proc/<pid>/syscall (None: unknown, state alone decides)
_READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "i686": 3, "i386": 3, "armv7l": 3}.get(platform.machine())


def _reading_stdin(pid):
    """Is the process asleep in a read of file descriptor 0?"""
    with open("/proc/%d/stat" % pid) as f:
        if f.read().rsplit(") ", 1)[1].split()[0] != "S":
            return False
    if _READ_SYSCALL is None:
        return True
    with open("/proc/%d/syscall" % pid) as f:
        fields = f.read().split()
    return len(fields) > 1 and fields[0] == str(_READ_SYSCALL) and int(fields[1], 16) == 0


def _pending(pipe):
    """Bytes waiting in a pipe (either end)."""
    return struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
