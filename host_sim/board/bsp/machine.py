# Board support for the virtual board: MicroPython's `machine` module.
#
# This file plays the part of a real port's C layer (ports/stm32/machine_*.c):
# it lives OUTSIDE the flash directory, is imported by the board start-up
# before the flash is mounted, and shadows the unix port's built-in `machine`.
# Every bus operation goes over the bridge (docs/bridge.md) to the device
# models in the host process:
#
#   control connection  request/response frames (SPI, I2C, pins, PWM, RTC, reset)
#   irq connection      pin edges pushed by the host -> micropython.schedule (_irq_take)
#   one connection per opened UART, carrying the raw UART bytes both ways
#
# Signatures follow MicroPython's machine module (docs: library/machine.*).
import os
import select
import socket
import struct
import sys
import time
import io
import micropython
from micropython import const

# --- bridge -------------------------------------------------------------
_OP_HELLO = const(0x01)
_OP_UART_INIT = const(0x10)
_OP_SPI_INIT = const(0x20)
_OP_SPI_WRITE = const(0x21)
_OP_SPI_XFER = const(0x22)
_OP_I2C_INIT = const(0x30)
_OP_I2C_WRITE = const(0x31)
_OP_I2C_READ = const(0x32)
_OP_I2C_SCAN = const(0x33)
_OP_PIN_INIT = const(0x40)
_OP_PIN_WRITE = const(0x41)
_OP_PIN_READ = const(0x42)
_OP_PIN_IRQ = const(0x43)
_OP_PWM = const(0x50)
_OP_RTC_GET = const(0x60)
_OP_RTC_SET = const(0x61)
_OP_RESET = const(0x70)
_OP_INTR = const(0x77)

_ADDR = os.getenv("SMARTPOS_BRIDGE")  # "unix:/path/bridge.sock"
_hdr = bytearray(8)


def _connect(role, bus=0):
    if not _ADDR or not _ADDR.startswith("unix:"):
        raise OSError(19)  # ENODEV: not started by the virtual board
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(struct.pack("<H", socket.AF_UNIX) + _ADDR[5:].encode() + b"\0")
    s.write(struct.pack("<BBHI", _OP_HELLO, bus, role, 0))
    return s


_ctl = _connect(0)
_hdr_mv = memoryview(_hdr)
_EMPTY = memoryview(b"")
# The irq connection's state in one list (each module-level name is an interned string on the
# heap here, and none on the board, whose board support is C): the socket, the bytes of the
# event read so far, and the asyncio loop (its IOQueue) where a task waits on the socket.
_irq = [None, bytearray(4), 0, None]
_SOCK = const(0)
_BUF = const(1)
_HAVE = const(2)
_LOOP = const(3)
_busy = 0           # >0 while a control transaction is on the wire
_deferred = []      # IRQ handlers that fired during a transaction


# A bus transaction is C code on the board: a Ctrl-C that comes in the middle raises
# KeyboardInterrupt once it is over.  Here it is Python on a socket, and SIGINT raises
# KeyboardInterrupt inside a blocked send/recv (which then moved no byte) or at the next jump
# opcode.  So a frame is written (_frame) and an answer read (_reply) each in one loop whose
# jumps all sit inside its try, with the byte count kept before any jump: a KeyboardInterrupt
# is caught there, the frame carried on, and raised by the caller once the frame is whole.  A
# `while True` has no jump on entry, so nothing can be raised between two frames' halves.
def _frame(op, bus, arg, data):
    """Write one request frame whole; True if a Ctrl-C came in the middle."""
    n = len(data)
    struct.pack_into("<BBHI", _hdr, 0, op, bus, arg, n)
    n += 8
    off = 0
    intr = False
    while True:
        try:
            while off < n:
                if off < 8:
                    off += _ctl.send(_hdr_mv[off:] if off else _hdr)
                else:
                    off += _ctl.send(data if off == 8 else memoryview(data)[off - 8:])
            return intr
        except KeyboardInterrupt:
            intr = True


def _reply(into):
    """Read one response frame whole: (Ctrl-C came, status, arg, payload); the payload goes
    into `into` when given (then None is returned for it)."""
    got = 0
    n = -1
    buf = None
    off = 0
    intr = False
    while True:
        try:
            while got < 8:
                r = _ctl.readinto(_hdr_mv[got:] if got else _hdr_mv)
                got += r
                if not r:
                    raise OSError(5)  # EIO: host went away
            if n < 0:
                ln = _hdr[4] | _hdr[5] << 8 | _hdr[6] << 16 | _hdr[7] << 24
                buf = memoryview(into)[:ln] if into is not None else (memoryview(bytearray(ln)) if ln else _EMPTY)
                n = ln
            while off < n:
                r = _ctl.readinto(buf[off:] if off else buf)
                off += r
                if not r:
                    raise OSError(5)
            return intr, _hdr[0], _hdr[2] | _hdr[3] << 8, None if into is not None else buf
        except KeyboardInterrupt:
            intr = True


def _send(op, bus, arg, data=b""):
    global _busy
    if _irq[_SOCK] is not None and not _busy:
        _irq_take()
    _busy += 1          # an IRQ handler must not write its frame into the middle of this one
    try:
        intr = _frame(op, bus, arg, data)
    finally:
        _busy -= 1
        if not _busy and _deferred:
            _run_deferred()
    if intr:
        raise KeyboardInterrupt


def _call(op, bus, arg, data=b"", into=None):
    """One request/response on the control connection; returns (arg, payload)."""
    global _busy
    if _irq[_SOCK] is not None and not _busy:
        _irq_take()
    _busy += 1
    try:
        intr = _frame(op, bus, arg, data)
        late, status, rarg, payload = _reply(into)
    finally:
        _busy -= 1
        if not _busy and _deferred:
            _run_deferred()
    if intr or late:
        raise KeyboardInterrupt
    if status:
        raise OSError(status)
    return rarg, payload


def _run_deferred():
    while _deferred:
        h, p = _deferred.pop(0)
        h(p)


# --- pins ----------------------------------------------------------------
_irq_handlers = {}


def _pin_id(name):
    """'PD5' -> 0x35 (port index << 4 | pin); ints pass through."""
    if isinstance(name, int):
        return name
    if len(name) >= 3 and name[0] == "P" and "A" <= name[1] <= "K":
        n = int(name[2:])
        if n < 16:
            return ((ord(name[1]) - 65) << 4) | n
    raise ValueError("Pin(%s) doesn't exist" % name)


def _pin_name(pid):
    return "P%s%d" % (chr(65 + (pid >> 4)), pid & 15)


def _irq_dispatch(pid):
    h = _irq_handlers.get(pid)
    if h is None:
        return
    if _busy:
        _deferred.append(h)
    else:
        h[0](h[1])


# Pin interrupts come as 4-byte events on the irq connection and run in the board's one
# thread, as MicroPython's soft IRQs do on the board (micropython.schedule: the handler runs
# at the next bytecode boundary).  The unix port has no interrupt that could stop the program
# for them, so the edges are taken (_irq_take) whenever the program next uses the bridge (any
# bus or pin operation), calls machine.idle(), or waits in asyncio (a task that waits on the
# irq connection runs in a loop that has one).  A loop that waits for a flag with time.sleep
# alone never sees its interrupt here; on the board it would: wait with machine.idle() or
# asyncio, or poll a pin.  There is no second interpreter thread: one that waited on the
# connection was woken by every garbage collection (the unix port signals other threads to
# scan their stacks) and could take the Ctrl-C meant for the program.
#
# Ctrl-C comes the same way (event 2), and KeyboardInterrupt is raised here, in Python, as the
# board's UART interrupt makes it pending for the next bytecode.  The unix port's own Ctrl-C
# (SIGINT) raises it from the signal handler, wherever the C code is: inside a collection or
# an allocation it left the heap locked or inconsistent (`heap is locked`, a module that lost
# its attributes, "FATAL: uncaught NLR"), inside the interned-name pool it left that pool's
# lock held (the next name interned waits forever), and the more the program collects the
# likelier.  The host falls back to SIGINT only for a program that neither uses the bridge
# nor waits (host_sim/board/cpu.py, INTERRUPT_WAIT_S).
def _irq_take():
    """Schedule the handlers of the edges pushed since the last look (never blocks); raise
    KeyboardInterrupt for a Ctrl-C the host still wants.  Starts the asyncio waiter in a
    running loop that has none (asyncio.new_event_loop() drops the old loop's tasks)."""
    global _busy
    a = sys.modules.get("asyncio")      # never imported here: a program without it pays nothing
    if a is not None and _irq[_SOCK] is not None and _irq[_LOOP] is not a.core._io_queue:
        try:
            a.current_task()
            _irq[_LOOP] = a.core._io_queue
            a.create_task(_irq_wait())
        except RuntimeError:
            pass                        # no loop running: bridge operations and idle() take the edges
    buf = _irq[_BUF]
    while _irq[_SOCK] is not None:
        have = _irq[_HAVE]
        try:
            r = _irq[_SOCK].readinto(memoryview(buf)[have:] if have else buf)
        except OSError:
            return
        if r is None:
            return                      # nothing pushed
        if not r:
            _irq[_SOCK] = None          # the host went away (the board is being reset)
            return
        _irq[_HAVE] = have = have + r
        if have < 4:
            continue
        _irq[_HAVE] = 0
        if buf[0] == 2:                 # Ctrl-C: raised if the host still wants it
            _busy += 1
            try:
                _frame(_OP_INTR, 0, 0, b"")
                wanted = _reply(None)[2]
            finally:
                _busy -= 1
            if wanted:
                raise KeyboardInterrupt
            continue
        pid = buf[2] | (buf[3] << 8)
        try:
            micropython.schedule(_irq_dispatch, pid)
        except RuntimeError:            # schedule queue full: run it now (not inside a frame: _busy)
            _irq_dispatch(pid)


async def _irq_wait():
    """While an asyncio loop runs: wake it when an edge or a Ctrl-C comes (the loop polls the
    connection with its streams)."""
    from asyncio import core
    try:
        while _irq[_SOCK] is not None:
            yield core._io_queue.queue_read(_irq[_SOCK])
            _irq_take()
    finally:
        _irq[_LOOP] = None


def _start_irq():
    if _irq[_SOCK] is None:
        s = _connect(1)
        s.read(4)       # the host acknowledges: edges (and Ctrl-C) from now on are delivered
        s.setblocking(False)
        _irq[_SOCK] = s
    _irq_take()


class Pin:
    # values as in the stm32 port (ports/stm32/pin.c)
    IN = const(0)
    OUT = const(1)
    OPEN_DRAIN = const(0x11)
    ALT = const(2)
    ALT_OPEN_DRAIN = const(0x12)
    ANALOG = const(3)
    PULL_NONE = None
    PULL_UP = const(1)
    PULL_DOWN = const(2)
    IRQ_RISING = const(0x10110000)
    IRQ_FALLING = const(0x10210000)

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=0, alt=-1):
        self._id = _pin_id(id)
        self._mode = Pin.IN
        if mode != -1 or value is not None:
            self.init(mode, pull, value=value, alt=alt)

    def init(self, mode=-1, pull=-1, *, value=None, drive=0, alt=-1):
        if mode != -1:
            self._mode = mode
        p = 0 if pull in (-1, None) else pull
        v = 0xFF if value is None else (1 if value else 0)
        _send(_OP_PIN_INIT, 0, self._id, bytes((self._mode & 0xFF, p, v)))

    def value(self, x=None):
        if x is None:
            return _call(_OP_PIN_READ, 0, self._id)[0]
        _send(_OP_PIN_WRITE, 1 if x else 0, self._id)

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        _send(_OP_PIN_WRITE, 1, self._id)

    def off(self):
        _send(_OP_PIN_WRITE, 0, self._id)

    high = on
    low = off

    def irq(self, handler=None, trigger=0x10310000, *, priority=1, wake=None, hard=False):
        if handler is None:
            _irq_handlers.pop(self._id, None)
            trigger = 0
        else:
            _start_irq()
            _irq_handlers[self._id] = (handler, self)
        t = (1 if trigger & 0x00100000 else 0) | (2 if trigger & 0x00200000 else 0)
        _send(_OP_PIN_IRQ, t, self._id)
        return self

    def mode(self, m=None):
        if m is None:
            return self._mode
        self.init(m)

    def name(self):
        return _pin_name(self._id)

    def __repr__(self):
        return "Pin(Pin.cpu.%s)" % _pin_name(self._id)[1:]


class Signal:
    def __init__(self, pin, *args, invert=False, **kw):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, *args, **kw)
        self._inv = invert

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if x else 0) ^ self._inv)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    __call__ = value


# --- UART ----------------------------------------------------------------
_uarts = {}


class UART(io.IOBase):
    """UART whose wire is a socket to the host: bytes go through unframed."""
    CTS = const(2)
    RTS = const(1)

    def __init__(self, id, baudrate=None, bits=8, parity=None, stop=1, **kw):
        if not (1 <= id <= 8):
            raise ValueError("UART(%d) doesn't exist" % id)
        self._id = id
        self._s = None
        self._baud = 0
        self._timeout = 0
        self._tchar = 2
        if baudrate is not None or kw:
            self.init(baudrate or 9600, bits, parity, stop, **kw)

    def init(self, baudrate=9600, bits=8, parity=None, stop=1, *, tx=None, rx=None,
             txbuf=None, rxbuf=None, timeout=0, timeout_char=0, flow=0, invert=0, **kw):
        if bits not in (7, 8, 9) or stop not in (1, 2) or parity not in (None, 0, 1):
            raise ValueError("unsupported combination of bits and parity")
        self._baud = baudrate
        self._timeout = timeout
        # stm32: at least the time of a few characters between bytes
        self._tchar = max(timeout_char, 2)
        _call(_OP_UART_INIT, self._id, 0,
              struct.pack("<IBBB", baudrate, bits, 0xFF if parity is None else parity, stop))
        if self._s is None:
            old = _uarts.get(self._id)
            if old is not None and old._s is not None:
                self._s = old._s       # same peripheral, same wire
            else:
                self._s = _connect(2, self._id)
                self._s.read(4)     # the host acknowledges: bytes from now on reach this UART
                self._s.setblocking(False)
            self._p = select.poll()
            self._p.register(self._s, select.POLLIN)
            _uarts[self._id] = self

    def deinit(self):
        pass

    def _wait(self, ms):
        for _ in self._p.ipoll(ms):     # ipoll: no list made per call
            return True
        return False

    def _need(self):
        if self._s is None:
            raise OSError(22)  # EINVAL: UART not initialised

    def any(self):
        """1 when a byte waits, else 0 (machine.UART.any() "may return 1 even if there is more
        than one character available").  Allocates nothing, as on the board: drivers call it
        on every tick, and the 512-byte peek it used to make each time churned the heap the
        firmware's own blocks needed (a card sale ran out of heap at the reader's first byte)."""
        self._need()
        return 1 if self._wait(0) else 0

    def readinto(self, buf, nbytes=None):
        self._need()
        mv = memoryview(buf)
        n = len(buf) if nbytes is None else min(nbytes, len(buf))
        got = 0
        t = self._timeout
        while got < n:
            if not self._wait(t):
                break
            r = self._s.readinto(mv[got:n])
            if not r:
                break
            got += r
            t = self._tchar
        return got or None

    def read(self, nbytes=None):
        self._need()
        if nbytes is None:
            out = bytearray()
            t = self._timeout
            while self._wait(t):
                d = self._s.recv(256)
                if not d:
                    break
                out.extend(d)
                t = self._tchar
            return bytes(out) if out else None
        buf = bytearray(nbytes)
        n = self.readinto(buf)
        if n is None:
            return None
        return bytes(buf) if n == nbytes else bytes(buf[:n])

    def readline(self):
        self._need()
        out = bytearray()
        t = self._timeout
        while self._wait(t):
            d = self._s.recv(1)
            if not d:
                break
            out.extend(d)
            if d == b"\n":
                break
            t = self._tchar
        return bytes(out) if out else None

    def write(self, buf):
        self._need()
        mv = memoryview(buf)
        off = 0
        while off < len(mv):
            r = self._s.write(mv[off:])
            if r:
                off += r
            else:
                time.sleep_ms(1)   # the host is draining the wire
        return off

    def flush(self):
        pass

    def txdone(self):
        return True

    def sendbreak(self):
        pass

    def ioctl(self, req, arg):
        if req == 10:          # MP_STREAM_GET_FILENO: lets select/asyncio poll the wire
            return self._s.fileno()
        if req == 3:           # MP_STREAM_POLL
            r = 0
            if arg & 1 and self._wait(0):
                r |= 1
            if arg & 4:
                r |= 4
            return r
        return 0

    def __repr__(self):
        return "UART(%d, baudrate=%d, timeout=%d)" % (self._id, self._baud, self._timeout)


# --- SPI -----------------------------------------------------------------
class SPI:
    CONTROLLER = const(0)
    MASTER = const(0)
    MSB = const(0)
    LSB = const(128)

    def __init__(self, id, baudrate=328125, *, polarity=0, phase=0, bits=8, firstbit=0,
                 sck=None, mosi=None, miso=None, **kw):
        if not (1 <= id <= 6):
            raise ValueError("SPI(%d) doesn't exist" % id)
        self._id = id
        self.init(baudrate, polarity=polarity, phase=phase, bits=bits, firstbit=firstbit)

    def init(self, baudrate=328125, *, polarity=0, phase=0, bits=8, firstbit=0, **kw):
        self._baud = baudrate
        _call(_OP_SPI_INIT, self._id, 0, struct.pack("<IBBBB", baudrate, polarity, phase, bits, firstbit))

    def deinit(self):
        pass

    def write(self, buf):
        _send(_OP_SPI_WRITE, self._id, 0, buf)

    def write_readinto(self, wbuf, rbuf):
        if len(wbuf) != len(rbuf):
            raise ValueError("buffers must be the same length")
        _call(_OP_SPI_XFER, self._id, 0, wbuf, into=rbuf)

    def readinto(self, buf, write=0):
        self.write_readinto(bytes((write,)) * len(buf), buf)

    def read(self, nbytes, write=0):
        buf = bytearray(nbytes)
        self.readinto(buf, write)
        return bytes(buf)


# --- I2C -----------------------------------------------------------------
class I2C:
    def __init__(self, id, *, freq=400000, scl=None, sda=None, timeout=50000, **kw):
        if not (1 <= id <= 4):
            raise ValueError("I2C(%d) doesn't exist" % id)
        self._id = id
        self.init(freq=freq)

    def init(self, *, freq=400000, **kw):
        self._freq = freq
        _call(_OP_I2C_INIT, self._id, 0, struct.pack("<I", freq))

    def deinit(self):
        pass

    def scan(self):
        return list(_call(_OP_I2C_SCAN, self._id, 0)[1])

    def writeto(self, addr, buf, stop=True):
        # bit 15 of the address word: no STOP (repeated START follows)
        return _call(_OP_I2C_WRITE, self._id, addr | (0 if stop else 0x8000), buf)[0]

    def writevto(self, addr, vector, stop=True):
        n = 0
        for b in vector:
            n += len(b)
        buf = bytearray(n)
        i = 0
        for b in vector:
            buf[i:i + len(b)] = b
            i += len(b)
        return self.writeto(addr, buf, stop)

    def readfrom_into(self, addr, buf, stop=True):
        _call(_OP_I2C_READ, self._id, addr | (0 if stop else 0x8000), struct.pack("<I", len(buf)), into=buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf, stop)
        return bytes(buf)

    @staticmethod
    def _mem(memaddr, addrsize):
        if addrsize == 8:
            return bytes((memaddr & 0xFF,))
        if addrsize == 16:
            return bytes(((memaddr >> 8) & 0xFF, memaddr & 0xFF))
        raise ValueError("addrsize must be 8 or 16")

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        self.writeto(addr, self._mem(memaddr, addrsize), False)
        self.readfrom_into(addr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize=addrsize)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self.writevto(addr, (self._mem(memaddr, addrsize), buf))


# --- PWM -----------------------------------------------------------------
class PWM:
    def __init__(self, dest, *, freq=None, duty_u16=None, duty_ns=None, invert=False):
        self._pin = dest if isinstance(dest, Pin) else Pin(dest)
        self._freq = 0
        self._duty = 0
        self.init(freq=freq, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, *, freq=None, duty_u16=None, duty_ns=None, invert=False):
        if freq is not None:
            self._freq = freq
        if duty_u16 is not None:
            self._duty = duty_u16
        elif duty_ns is not None and self._freq:
            self._duty = min(65535, duty_ns * self._freq * 65536 // 1000000000)
        self._push()

    def _push(self):
        _send(_OP_PWM, 1, self._pin._id, struct.pack("<IH", self._freq, self._duty))

    def deinit(self):
        self._duty = 0
        _send(_OP_PWM, 0, self._pin._id, struct.pack("<IH", self._freq, 0))

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value
        self._push()

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        self._duty = value
        self._push()

    def duty_ns(self, value=None):
        if value is None:
            return self._duty * 1000000000 // (self._freq * 65536) if self._freq else 0
        self.init(duty_ns=value)


# --- RTC -----------------------------------------------------------------
class RTC:
    def __init__(self, id=0):
        pass

    def init(self, datetime):
        self.datetime(datetime)

    def datetime(self, dt=None):
        """(year, month, day, weekday 1..7 Monday=1, hours, minutes, seconds, subseconds)"""
        if dt is None:
            return struct.unpack("<HBBBBBBH", _call(_OP_RTC_GET, 0, 0)[1])
        _call(_OP_RTC_SET, 0, 0, struct.pack("<HBBBBBBH", *dt))


# --- WDT -------------------------------------------------------------------
class WDT:
    """The independent watchdog: once started it cannot be stopped, and it keeps
    running across soft resets; not fed within `timeout` ms -> reset (WDT_RESET)."""

    def __init__(self, id=0, timeout=5000):
        if not (1 <= timeout <= 32000):
            raise ValueError("WDT timeout too short or too long")
        _send(0x74, 0, 0, struct.pack("<I", timeout))

    def feed(self):
        _send(0x75, 0, 0)


# --- board-level functions -------------------------------------------------
PWRON_RESET = const(1)
HARD_RESET = const(2)
WDT_RESET = const(3)
DEEPSLEEP_RESET = const(4)
SOFT_RESET = const(5)
IDLE = const(0)
SLEEP = const(1)
DEEPSLEEP = const(2)

_uid = os.getenv("SMARTPOS_UID") or "000000000000000000000000"
_cause = int(os.getenv("SMARTPOS_RESET_CAUSE") or PWRON_RESET)


def unique_id():
    import binascii
    return binascii.unhexlify(_uid)


# System memory the firmware reads by address, as on the STM32F429 (RM0090): the OTP area
# (0x1FFF7800, 16 blocks of 32 bytes + 16 lock bytes, 3.8; block 0 carries the key-encryption
# key written at manufacture, SMARTPOS_OTP0 in hex) and the 96-bit unique device ID (0x1FFF7A10,
# 39.1).  Any other address is not modelled and raises instead of reading the host's memory.
_OTP_BASE = const(0x1FFF7800)
_OTP_SIZE = const(528)
_UID_BASE = const(0x1FFF7A10)


def _system_memory():
    import binascii
    otp = bytearray(b"\xff" * _OTP_SIZE)         # erased OTP reads 0xFF
    blk = binascii.unhexlify(os.getenv("SMARTPOS_OTP0") or "")
    otp[:len(blk)] = blk
    if blk:
        otp[512] = 0x00                           # block 0 locked (RM0090 3.8: lock byte 0x00)
    return otp, unique_id()


class _Mem:
    def __init__(self, width):
        self.width = width
        self._otp = None            # read from the environment on first use
        self._uid = None

    def __getitem__(self, addr):
        if self._otp is None:
            self._otp, self._uid = _system_memory()
        if _OTP_BASE <= addr and addr + self.width <= _OTP_BASE + _OTP_SIZE:
            b = self._otp[addr - _OTP_BASE:addr - _OTP_BASE + self.width]
        elif _UID_BASE <= addr and addr + self.width <= _UID_BASE + 12:
            b = self._uid[addr - _UID_BASE:addr - _UID_BASE + self.width]
        else:
            raise ValueError("address 0x%08x is not modelled by the virtual board" % addr)
        return int.from_bytes(b, "little")

    def __setitem__(self, addr, value):
        raise ValueError("system memory is read-only (OTP is written at manufacture)")


mem8 = _Mem(1)
mem16 = _Mem(2)
mem32 = _Mem(4)


def reset():
    """Hard reset: the host restarts the CPU and power-cycles the device models."""
    _send(_OP_RESET, 0, 0)   # arg 0 = hard, 1 = soft
    while True:
        time.sleep_ms(100)


def soft_reset():
    """Soft reset: the host restarts the interpreter (fresh heap, boot.py, main.py)."""
    _send(_OP_RESET, 0, 1)
    while True:
        time.sleep_ms(100)


def reset_cause():
    return _cause


def freq(*args):
    return (168000000, 168000000, 42000000, 84000000)   # sysclk, hclk, pclk1, pclk2


def idle():
    """Wait for an interrupt (on the board: any, the 1 ms tick included): a pin edge or 1 ms."""
    if _irq[_SOCK] is None:
        time.sleep_ms(1)
        return
    p = select.poll()
    p.register(_irq[_SOCK], select.POLLIN)
    p.poll(1)
    _irq_take()


def lightsleep(ms=None):
    time.sleep_ms(ms or 0)


def deepsleep(ms=None):
    reset()


def disable_irq():
    global _busy
    _busy += 1
    return 1


def enable_irq(state=1):
    global _busy
    _busy = max(0, _busy - 1)
    if not _busy and _deferred:
        _run_deferred()


def bootloader():
    raise OSError(1)  # EPERM: no DFU on the virtual board


_start_irq()            # Ctrl-C comes this way from power-on (board_start's first lines on)
