"""Device-model framework: the contract between the virtual board and each model.

A device model is one chip (PN532, ST7789, TCA8418, ESC/POS printer, …) as the
board's buses see it.  The virtual board (host_sim/board) attaches models to
the buses and pins named in the board wiring (host_sim/board/wiring.py, which
mirrors firmware/boards/) and calls the methods below from its bridge thread.
Models keep their own state, guard it with ``self.lock``, and can have faults
injected.  UART models can also be served on a raw TCP port (``serve_tcp``) so
that a Renode UART socket terminal or any other client talks to them instead
of the board.

Board side ⇄ model side:

    board UART write  ──►  UartDevice.uart_rx(data)
    board UART read   ◄──  UartDevice.uart_tx(data)      (model pushes bytes)
    board SPI xfer    ──►  SpiDevice.spi_transfer(tx) -> rx (same length)
    board SPI write   ──►  SpiDevice.spi_write(data)      (default: spi_transfer)
    board I2C write   ──►  I2cDevice.i2c_write(data) -> ack (bool)
    board I2C read    ──►  I2cDevice.i2c_read(n) -> bytes
    board drives pin  ──►  Device.pin_changed(role, value)
    board PWM on pin  ──►  Device.pwm_changed(role, freq, duty_u16)
    model drives pin  ──►  Device.set_pin(role, value)    (board sees input / IRQ)

Pins are named by *role* on the model side ("dc", "rst", "int", "detect"); the
wiring maps roles to board pin names ("PD14").
"""
import socket
import threading
import time


class DeviceError(Exception):
    """A model was used in a way the real chip would not allow."""


class Device:
    #: short kind name used in wiring and traces, e.g. "st7789"
    kind = "device"

    def __init__(self, name=None):
        self.name = name or self.kind
        self.lock = threading.RLock()
        self.faults = {}
        self._pin_sink = None      # set by the board: fn(role, value)
        self.pins = {}             # role -> last level the board drove
        self.listeners = []        # fn(event: dict) for traces / web face

    # --- wiring (called by the virtual board) ---------------------------
    def connect_pins(self, sink):
        """The board gives a callable used by set_pin()."""
        self._pin_sink = sink

    def pin_changed(self, role, value):
        """The board drove an output pin wired to this device."""
        self.pins[role] = value

    def set_pin(self, role, value):
        """Drive a board input pin wired to this device (INT, card detect…)."""
        if self._pin_sink is not None:
            self._pin_sink(role, value)

    def pwm_changed(self, role, freq, duty_u16):
        """The board set PWM on a pin wired to this device (freq 0 / duty 0 = off)."""
        self.pwm = getattr(self, "pwm", {})
        self.pwm[role] = (freq, duty_u16)

    def power_on_reset(self):
        """Return to the chip's power-on state (board hard reset)."""

    # --- faults ----------------------------------------------------------
    def inject(self, fault, **params):
        """Turn a fault on (names are per model; see its FAULTS)."""
        known = getattr(self, "FAULTS", ())
        if fault not in known:
            raise DeviceError("%s: unknown fault %r (known: %s)" % (self.name, fault, ", ".join(known)))
        with self.lock:
            self.faults[fault] = params or True

    def clear(self, fault=None):
        with self.lock:
            if fault is None:
                self.faults.clear()
            else:
                self.faults.pop(fault, None)

    # --- observation -----------------------------------------------------
    def emit(self, **event):
        event.setdefault("device", self.name)
        for fn in list(self.listeners):
            fn(event)

    def status(self):
        """A JSON-able summary for tests and the web face."""
        return {"name": self.name, "kind": self.kind, "faults": sorted(self.faults)}


class UartDevice(Device):
    def __init__(self, name=None):
        super().__init__(name)
        self._uart_sinks = []      # fns(bytes) delivering to the board's / TCP client's RX
        self._tcp_server = None
        self._tcp_client_on = False

    def connect_uart(self, sink):
        self._uart_sinks.append(sink)

    def disconnect_uart(self, sink):
        if sink in self._uart_sinks:
            self._uart_sinks.remove(sink)

    def uart_config(self, baudrate, bits=8, parity=None, stop=1):
        """The board (re)initialised the UART; models may check the baud rate."""
        self.baudrate = baudrate

    def uart_rx(self, data):
        """Bytes the board transmitted to this device."""
        raise NotImplementedError

    def uart_tx(self, data):
        """Send bytes from the device to whoever is connected (board RX)."""
        for sink in list(self._uart_sinks):
            sink(bytes(data))

    def serve_tcp(self, port, host="127.0.0.1", on_connect=None, on_disconnect=None):
        """Also serve this UART on a raw TCP port: the client is the other end of the line.

        One client at a time, as a UART has one peer: a second client waits until the first
        disconnects.  ``on_connect()`` runs once the client receives the model's bytes (a
        model that speaks first, such as a card's ATR, speaks then); ``on_disconnect()``
        when it leaves.  Returns the listening port (useful with port=0); ``stop_tcp()``
        closes it."""
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, port))
        srv.listen(1)

        def accept_loop():
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                self._tcp_line(conn, on_connect, on_disconnect)

        self._tcp_server = srv
        threading.Thread(target=accept_loop, daemon=True, name="%s-tcp" % self.name).start()
        return srv.getsockname()[1]

    def connect_tcp(self, host, port, on_connect=None, on_disconnect=None, retry_s=1.0):
        """The other way round: connect to a TCP server that is the other end of the line (a
        Renode UART server-socket terminal), and connect again whenever it goes away."""
        def connect_loop():
            while self._tcp_client_on:
                try:
                    conn = socket.create_connection((host, port), timeout=5)
                except OSError:
                    time.sleep(retry_s)
                    continue
                conn.settimeout(None)
                self._tcp_line(conn, on_connect, on_disconnect)
                time.sleep(retry_s)

        self._tcp_client_on = True
        threading.Thread(target=connect_loop, daemon=True, name="%s-tcp-client" % self.name).start()

    def _tcp_line(self, conn, on_connect, on_disconnect):
        """Carry one TCP connection as the UART line until it closes."""
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def sink(data):
            try:
                conn.sendall(data)
            except OSError:
                pass
        self.connect_uart(sink)
        try:
            if on_connect is not None:
                on_connect()
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                self.uart_rx(data)
        except OSError:
            pass
        finally:
            self.disconnect_uart(sink)
            conn.close()
            if on_disconnect is not None:
                on_disconnect()

    def stop_tcp(self):
        """Stop listening or connecting again (a connection in use keeps its line until it
        closes)."""
        self._tcp_client_on = False
        srv, self._tcp_server = self._tcp_server, None
        if srv is not None:
            try:
                srv.shutdown(socket.SHUT_RDWR)     # wakes the accept() waiting in its thread
            except OSError:
                pass
            srv.close()


class SpiDevice(Device):
    def spi_transfer(self, tx):
        """Full-duplex transfer while this device is selected; return len(tx) bytes."""
        raise NotImplementedError

    def spi_write(self, data):
        """A write-only transfer (board SPI.write): MISO is ignored.  Override to
        skip building the reply, e.g. for display frames."""
        self.spi_transfer(data)


class I2cDevice(Device):
    address = None

    def i2c_write(self, data):
        """A write transaction (START, addr+W, data…, STOP/repeated START). Return ACK."""
        raise NotImplementedError

    def i2c_read(self, n):
        """A read transaction of n bytes."""
        raise NotImplementedError
