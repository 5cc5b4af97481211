"""The bridge: bus traffic between the virtual board's CPU and the device models.

The board-support ``machine`` module (host_sim/board/bsp/machine.py) connects
to a unix-domain socket served here.  Byte-level format: docs/bridge.md.

Every frame starts with the same 8-byte little-endian header::

    u8 op | u8 bus | u16 arg | u32 length | payload[length]

Connections say what they are with a HELLO frame (arg = role):

* role 0, control: requests from the CPU.  Requests that need an answer
  (UART_INIT, SPI_INIT, SPI_XFER, I2C_*, PIN_READ, RTC_*) get a response frame
  ``u8 status | u8 0 | u16 arg | u32 length | payload``; writes (SPI_WRITE,
  PIN_INIT, PIN_WRITE, PIN_IRQ, PWM) are not answered, so a display frame
  streams without round trips.  Frames are handled strictly in order, so a
  pin change and the SPI bytes after it reach the models in that order.
* role 1, irq: the host pushes 4-byte pin events ``u8 1 | u8 level | u16 pin``
  for pins whose IRQ trigger matches; the CPU schedules the handler.  A Ctrl-C
  for a running program is the event ``u8 2 | 0 | 0``: the CPU asks INTR
  (answer arg 1: still wanted) and raises KeyboardInterrupt.
* role 2, uart (bus = UART number): raw UART bytes both ways, no framing.

Pins are numbered ``port << 4 | n`` ("PD5" = 3 << 4 | 5 = 0x35).
"""
import errno
import os
import select
import socket
import struct
import threading
import time
import logging

log = logging.getLogger("smartpos.board.bridge")

HEADER = struct.Struct("<BBHI")

OP_HELLO = 0x01
OP_UART_INIT = 0x10
OP_SPI_INIT = 0x20
OP_SPI_WRITE = 0x21
OP_SPI_XFER = 0x22
OP_I2C_INIT = 0x30
OP_I2C_WRITE = 0x31
OP_I2C_READ = 0x32
OP_I2C_SCAN = 0x33
OP_PIN_INIT = 0x40
OP_PIN_WRITE = 0x41
OP_PIN_READ = 0x42
OP_PIN_IRQ = 0x43
OP_PWM = 0x50
OP_RTC_GET = 0x60
OP_RTC_SET = 0x61
OP_RESET = 0x70
OP_BOOT_STAGE = 0x72
OP_WDT_START = 0x74
OP_WDT_FEED = 0x75
OP_POWER_CUT = 0x76        # a power-cut test point in the flash layer fired (tests)
OP_INTR = 0x77             # the CPU took a Ctrl-C event: is it still wanted? (arg 1: raise it)

ROLE_CONTROL, ROLE_IRQ, ROLE_UART = 0, 1, 2

# pin modes / pulls as the bsp sends them (stm32 values, low byte)
MODE_IN, MODE_OUT, MODE_OPEN_DRAIN = 0x00, 0x01, 0x11
PULL_NONE, PULL_UP, PULL_DOWN = 0, 1, 2
TRIG_RISING, TRIG_FALLING = 1, 2


def pin_id(name):
    """'PD5' -> 0x35."""
    if isinstance(name, int):
        return name
    if len(name) >= 3 and name[0] == "P" and "A" <= name[1] <= "K" and name[2:].isdigit():
        n = int(name[2:])
        if n < 16:
            return ((ord(name[1]) - 65) << 4) | n
    raise ValueError("not an STM32 pin name: %r" % (name,))


def pin_name(pid):
    return "P%s%d" % (chr(65 + (pid >> 4)), pid & 15)


class _Pin:
    __slots__ = ("mode", "pull", "out", "driven", "trigger", "loads")

    def __init__(self):
        self.mode = MODE_IN
        self.pull = PULL_NONE
        self.out = 0
        self.driven = None       # level a device model drives, or None
        self.trigger = 0
        self.loads = []          # (device, role) wired to this pin

    def level(self):
        if self.mode == MODE_OUT:
            return self.out
        if self.mode == MODE_OPEN_DRAIN:
            # wired-AND: low if the CPU or a device pulls low, else pulled up
            return 0 if self.out == 0 or self.driven == 0 else 1
        if self.driven is not None:
            return self.driven
        return 1 if self.pull == PULL_UP else 0


def _recv_exact(f, n):
    data = f.read(n)
    if data is None or len(data) != n:
        raise EOFError
    return data


def _sock_exact(conn, n):
    """Read exactly n bytes straight from the socket (nothing buffered beyond them)."""
    buf = bytearray()
    while len(buf) < n:
        d = conn.recv(n - len(buf))
        if not d:
            raise EOFError
        buf += d
    return bytes(buf)


class Bridge:
    """Serves the bridge socket and routes bus traffic to the attached models."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.pins = {}           # pid -> _Pin
        self.spi = {}            # bus -> [(device, cs pid or None)]
        self.i2c = {}            # bus -> {address: device}
        self.uart_devices = {}   # bus -> [device]
        self.uart_conns = {}     # bus -> socket to the CPU
        self.uart_config = {}    # bus -> (baud, bits, parity, stop)
        self.irq_conn = None
        self._intr = None        # threading.Event of the Ctrl-C sent to the CPU and not yet taken
        self.rtc_offset = 0.0
        self.on_reset = None     # fn(kind) on a reset request: True hard, False soft, "wdt" watchdog
        self.on_stage = None     # fn(stage) -> Ctrl-C held (stage 1) as the CPU's start-up progresses
        self.on_power_cut = None  # fn(op number): a flash test point asks for the power to go
        self.stats = {"frames": 0, "spi_bytes": 0, "uart_tx": 0, "uart_rx": 0}
        self._srv = None
        self._conns = set()
        self._send_lock = threading.Lock()
        self._uart_lock = threading.Lock()   # a UART connection's ack and registration vs model bytes
        self._rx_lock = threading.Lock()
        self._wdt_timeout = 0
        self._wdt_deadline = None
        self._wdt_thread = None
        self._busy = {}          # conn -> chunks received, not yet handled

    # --- wiring ----------------------------------------------------------
    def pin(self, name):
        pid = pin_id(name)
        p = self.pins.get(pid)
        if p is None:
            p = self.pins[pid] = _Pin()
        return p

    def attach(self, device, uart=None, spi=None, i2c=None, address=None, pins=None):
        """Wire `device` to buses and pins (roles -> pin names)."""
        roles = {}
        for role, name in (pins or {}).items():
            self.pin(name).loads.append((device, role))
            roles[role] = pin_id(name)
        if uart is not None:
            self.uart_devices.setdefault(uart, []).append(device)
            device.connect_uart(lambda data, bus=uart: self.to_cpu_uart(bus, data))
        if spi is not None:
            self.spi.setdefault(spi, []).append((device, roles.get("cs")))
        if i2c is not None:
            if address is None:
                address = device.address
            device.address = address
            self.i2c.setdefault(i2c, {})[address] = device
        device.connect_pins(lambda role, value, r=roles: self.drive_input(r[role], value))

    # --- model side -> CPU ---------------------------------------------------
    def to_cpu_uart(self, bus, data):
        with self._uart_lock:       # a UART the CPU was told is open is registered before this
            conn = self.uart_conns.get(bus)
            if conn is None:
                return    # UART not opened by the firmware: bytes fall on the floor, as on the wire
            try:
                n = conn.send(data)             # non-blocking: a CPU that does not read overruns
            except BlockingIOError:
                n = 0
            except OSError:
                return
        self.stats["uart_rx"] += n
        if n < len(data):
            self.stats["uart_overrun"] = self.stats.get("uart_overrun", 0) + len(data) - n

    def drive_input(self, pid, value):
        """A model drives a pin (INT, card detect...): the CPU sees the level and edges."""
        with self.lock:
            p = self.pins.setdefault(pid, _Pin())
            before = p.level()
            p.driven = None if value is None else (1 if value else 0)
            after = p.level()
            edge = before != after and p.trigger and (
                (after and p.trigger & TRIG_RISING) or (not after and p.trigger & TRIG_FALLING))
            if edge:
                self._send_irq(pid, after)     # under the lock: edges leave in the order they happened

    def interrupt(self):
        """Ctrl-C for the running program, as an event on the irq connection: the board support
        raises KeyboardInterrupt where the program next uses the bridge, waits in asyncio or
        calls machine.idle() (a Python line, never inside the interpreter's C code).  Returns a
        threading.Event set once it is raised, or None when the CPU has no irq connection."""
        conn = self.irq_conn
        if conn is None:
            return None
        ev = threading.Event()
        try:
            with self._send_lock:
                self._intr = ev
                conn.sendall(b"\x02\x00\x00\x00")
        except OSError:
            self._intr = None
            return None
        return ev

    def cancel_interrupt(self):
        """The Ctrl-C sent is no longer wanted (the program ended first): the CPU drops it."""
        with self._send_lock:
            self._intr = None

    def _send_irq(self, pid, level):
        conn = self.irq_conn
        if conn is None:
            return
        try:
            with self._send_lock:
                conn.sendall(struct.pack("<BBH", 1, level, pid))
        except OSError:
            pass

    # --- CPU side --------------------------------------------------------
    # Locking: self.lock guards only the bridge's own pin state and is never held
    # while a model runs (models take their own lock and call set_pin() from any
    # thread: holding both in opposite orders would deadlock).
    def _drive_output(self, pid, value):
        with self.lock:
            p = self.pins.setdefault(pid, _Pin())
            before = p.level()
            p.out = value
            after = p.level()
            loads = list(p.loads)
        for dev, role in loads:
            if before != after or role not in dev.pins:
                dev.pin_changed(role, after)

    def _selected(self, bus):
        with self.lock:
            return [dev for dev, cs in self.spi.get(bus, ()) if cs is None or self.pins[cs].level() == 0]

    def handle(self, op, bus, arg, payload):
        """Do one control request; return (status, arg, payload) or None (no reply)."""
        self.stats["frames"] += 1
        if op == OP_SPI_WRITE:
            self.stats["spi_bytes"] += len(payload)
            for dev in self._selected(bus):
                dev.spi_write(payload)
            return None
        if op == OP_PIN_WRITE:
            self._drive_output(arg, bus & 1)
            return None
        if op == OP_PIN_INIT:
            mode, pull, value = payload[0], payload[1], payload[2]
            with self.lock:
                p = self.pins.setdefault(arg, _Pin())
                before = p.level()
                p.mode, p.pull = mode, pull
                if value != 0xFF:
                    p.out = value
                after = p.level()
                loads = list(p.loads)
            for dev, role in loads:
                if mode in (MODE_OUT, MODE_OPEN_DRAIN) and (before != after or role not in dev.pins):
                    dev.pin_changed(role, after)
            return None
        if op == OP_PIN_READ:
            with self.lock:
                return 0, self.pins.setdefault(arg, _Pin()).level(), b""
        if op == OP_PIN_IRQ:
            with self.lock:
                self.pins.setdefault(arg, _Pin()).trigger = bus
            return None
        if op == OP_SPI_XFER:
            self.stats["spi_bytes"] += len(payload)
            rx = None
            for dev in self._selected(bus):
                r = dev.spi_transfer(payload)
                if rx is None:
                    rx = r
            if rx is None:
                rx = b"\xff" * len(payload)   # MISO idles high with nothing selected
            rx = bytes(rx)
            if len(rx) != len(payload):
                rx = (rx + b"\xff" * len(payload))[:len(payload)]
            return 0, 0, rx
        if op == OP_I2C_WRITE:
            dev = self.i2c.get(bus, {}).get(arg & 0x7FF)
            if dev is None or not dev.i2c_write(bytes(payload)):
                return errno.ENODEV, 0, b""
            return 0, len(payload), b""
        if op == OP_I2C_READ:
            n = struct.unpack("<I", payload)[0]
            dev = self.i2c.get(bus, {}).get(arg & 0x7FF)
            if dev is None:
                return errno.ENODEV, 0, b""
            data = bytes(dev.i2c_read(n))
            return 0, 0, (data + b"\xff" * n)[:n]
        if op == OP_I2C_SCAN:
            return 0, 0, bytes(sorted(self.i2c.get(bus, {})))
        if op in (OP_I2C_INIT, OP_SPI_INIT):
            return 0, 0, b""
        if op == OP_UART_INIT:
            baud, bits, parity, stop = struct.unpack("<IBBB", payload)
            parity = None if parity == 0xFF else parity
            self.uart_config[bus] = (baud, bits, parity, stop)
            for dev in self.uart_devices.get(bus, ()):
                dev.uart_config(baud, bits, parity, stop)
            return 0, 0, b""
        if op == OP_PWM:
            freq, duty = struct.unpack("<IH", payload)
            with self.lock:
                loads = list(self.pins.setdefault(arg, _Pin()).loads)
            for dev, role in loads:
                dev.pwm_changed(role, freq if bus else 0, duty if bus else 0)
            return None
        if op == OP_RTC_GET:
            t = time.time() + self.rtc_offset
            tm = time.localtime(t)
            return 0, 0, struct.pack("<HBBBBBBH", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_wday + 1,
                                     tm.tm_hour, tm.tm_min, tm.tm_sec, 0)
        if op == OP_RTC_SET:
            y, mo, d, _wd, h, mi, s, _ss = struct.unpack("<HBBBBBBH", payload)
            want = time.mktime((y, mo, d, h, mi, s, 0, 0, -1))
            self.rtc_offset = want - time.time()
            return 0, 0, b""
        if op == OP_RESET:
            if self.on_reset:
                threading.Thread(target=self.on_reset, args=(arg == 0,), daemon=True).start()
            return None
        if op == OP_WDT_START:
            self._wdt_timeout = struct.unpack("<I", payload)[0] / 1000.0
            self._wdt_feed()
            return None
        if op == OP_WDT_FEED:
            if self._wdt_timeout:
                self._wdt_feed()
            return None
        if op == OP_POWER_CUT:
            if self.on_power_cut:
                threading.Thread(target=self.on_power_cut, args=(arg,), daemon=True).start()
            return None
        if op == OP_INTR:
            with self._send_lock:
                ev, self._intr = self._intr, None
            if ev is None:
                return 0, 0, b""                # cancelled: the program ended before it looked
            ev.set()
            return 0, 1, b""
        if op == OP_BOOT_STAGE:
            held = self.on_stage(arg) if self.on_stage else 0
            return (0, held, b"") if arg == 1 else None     # stage 1 is a request
        return errno.EINVAL, 0, b""

    # --- watchdog (IWDG) ---------------------------------------------------
    def _wdt_feed(self):
        with self.lock:
            self._wdt_deadline = time.monotonic() + self._wdt_timeout
            if self._wdt_thread is None:
                self._wdt_thread = threading.Thread(target=self._wdt_watch, daemon=True, name="wdt")
                self._wdt_thread.start()

    def _wdt_watch(self):
        while True:
            with self.lock:
                deadline = self._wdt_deadline
                if deadline is None or self._srv is None:
                    self._wdt_thread = None
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    self._wdt_deadline = None
                    self._wdt_timeout = 0
                    self._wdt_thread = None
                    self.stats["wdt_resets"] = self.stats.get("wdt_resets", 0) + 1
                    cb = self.on_reset
                    break
            time.sleep(min(left, 0.05))
        if cb:
            cb("wdt")

    def wdt_stop(self):
        """A system reset stops the IWDG (a soft reset does not)."""
        with self.lock:
            self._wdt_deadline = None
            self._wdt_timeout = 0

    # --- serving ---------------------------------------------------------
    def start(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.path)
        srv.listen(16)
        self._srv = srv
        threading.Thread(target=self._accept_loop, daemon=True, name="bridge-accept").start()

    def stop(self):
        if self._srv:
            self._srv.close()
            self._srv = None
        self.cpu_gone()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def cpu_gone(self):
        """The CPU restarted: its connections are dead, IRQ registrations cleared."""
        with self.lock:
            for c in list(self._conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()
            self.uart_conns.clear()
            self.irq_conn = None
            self._intr = None
            for p in self.pins.values():
                p.trigger = 0

    def power_on(self):
        """Hard reset: GPIOs back to inputs (reset state of the STM32 GPIO registers)."""
        self.wdt_stop()
        with self.lock:
            for p in self.pins.values():
                p.mode, p.pull, p.out, p.trigger = MODE_IN, PULL_NONE, 0, 0

    def _accept_loop(self):
        srv = self._srv
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="bridge-conn").start()

    def _serve(self, conn):
        bus = -1
        try:
            op, bus, role, _n = HEADER.unpack(_sock_exact(conn, 8))
            if op != OP_HELLO:
                raise EOFError
            if role == ROLE_CONTROL:
                self._serve_control(conn)
            elif role == ROLE_IRQ:
                # the connection is where edges go BEFORE the ack: the CPU registers its triggers
                # once acknowledged, and an edge between the two must not find no connection
                with self._send_lock:         # ... and no edge goes ahead of the ack
                    self.irq_conn = conn
                    conn.sendall(b"\x00\x00\x00\x00")   # ack: IRQs are live from here
                conn.recv(1)   # blocks until the CPU goes away
            elif role == ROLE_UART:
                # the UART receives from the moment its constructor returns: the CPU waits for
                # this ack, and a model's bytes wait for the registration (same lock), so none
                # sent after UART() returned falls on the floor, and none goes ahead of the ack
                with self._uart_lock:
                    conn.sendall(b"\x00\x00\x00\x00")
                    conn.setblocking(False)
                    self.uart_conns[bus] = conn
                self._serve_uart(conn, bus)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            if self.uart_conns.get(bus) is conn:
                self.uart_conns.pop(bus, None)
            if self.irq_conn is conn:
                self.irq_conn = None
            self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def _recv(self, conn):
        """recv once the socket is readable; bookkeeping under the lock so settle() can trust it."""
        while True:
            r, _, _ = select.select([conn], [], [], 0.5)
            if not r:
                if conn not in self._conns:
                    raise EOFError
                continue
            with self._rx_lock:
                try:
                    data = conn.recv(1 << 20)
                except BlockingIOError:
                    continue
                if data:
                    self._busy[conn] = self._busy.get(conn, 0) + 1
                return data

    def _done(self, conn):
        with self._rx_lock:
            self._busy[conn] -= 1

    def settle(self, timeout=30.0):
        """Wait until every byte the CPU has written so far has been handled by the models.

        Writes (SPI_WRITE, PIN_WRITE, UART bytes) are not acknowledged; after the
        CPU finished a piece of code, this makes the models' state final."""
        end = time.monotonic() + timeout
        while True:
            with self._rx_lock:
                conns = [c for c in self._conns if c is not self.irq_conn and c.fileno() >= 0]
                busy = any(self._busy.get(c) for c in conns)
                if not busy:
                    try:
                        r, _, _ = select.select(conns, [], [], 0)
                    except (OSError, ValueError):
                        r = []
                    if not r:
                        return True
            if time.monotonic() > end:
                return False
            time.sleep(0.001)

    def _serve_control(self, conn):
        buf = bytearray()
        pos = 0
        while True:
            data = self._recv(conn)
            if not data:
                raise EOFError
            try:
                if pos:
                    del buf[:pos]
                    pos = 0
                buf += data
                while len(buf) - pos >= 8:
                    op, bus, arg, n = HEADER.unpack_from(buf, pos)
                    if len(buf) - pos < 8 + n:
                        break
                    payload = bytes(buf[pos + 8:pos + 8 + n])
                    pos += 8 + n
                    try:
                        reply = self.handle(op, bus, arg, payload)
                    except Exception as exc:    # a model bug must not kill the bus: tell the CPU EIO
                        log.exception("bridge: op 0x%02x on bus %d failed: %s", op, bus, exc)
                        reply = (errno.EIO, 0, b"")
                    if reply is not None:
                        status, rarg, rdata = reply
                        conn.sendall(HEADER.pack(status, 0, rarg & 0xFFFF, len(rdata)) + rdata)
            finally:
                self._done(conn)

    def _serve_uart(self, conn, bus):
        while True:
            data = self._recv(conn)
            if not data:
                return
            try:
                self.stats["uart_tx"] += len(data)
                for dev in self.uart_devices.get(bus, ()):
                    try:
                        dev.uart_rx(data)
                    except Exception:
                        log.exception("bridge: %s.uart_rx failed", dev.name)
            finally:
                self._done(conn)
