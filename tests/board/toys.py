"""Toy device models for the bridge tests: small, exact, and easy to assert on."""
from host_sim.devices.base import I2cDevice, SpiDevice, UartDevice, Device


class EchoUart(UartDevice):
    """Answers every byte with the same byte + 1 (so an echo is distinguishable)."""
    kind = "echo"

    def __init__(self, name=None):
        super().__init__(name)
        self.received = bytearray()
        self.baudrate = None

    def uart_rx(self, data):
        self.received += data
        self.uart_tx(bytes((b + 1) & 0xFF for b in data))


class ShiftSpi(SpiDevice):
    """MISO = previous MOSI byte (a one-byte shift register); records what it saw and DC levels."""
    kind = "shift"

    def __init__(self, name=None):
        super().__init__(name)
        self.last = 0
        self.log = []          # (dc level, bytes)
        self.written = 0

    def spi_transfer(self, tx):
        rx = bytearray(len(tx))
        for i, b in enumerate(tx):
            rx[i] = self.last
            self.last = b
        self.log.append((self.pins.get("dc"), bytes(tx)))
        return bytes(rx)

    def spi_write(self, data):
        self.written += len(data)
        if len(data) <= 64:
            self.spi_transfer(data)


class RegsI2c(I2cDevice):
    """256 8-bit registers with auto-increment (like most sensors and the TCA8418)."""
    kind = "regs"
    address = 0x50

    def __init__(self, name=None):
        super().__init__(name)
        self.regs = bytearray(range(256))
        self.ptr = 0

    def i2c_write(self, data):
        if data:
            self.ptr = data[0]
            for b in data[1:]:
                self.regs[self.ptr] = b
                self.ptr = (self.ptr + 1) & 0xFF
        return True

    def i2c_read(self, n):
        out = bytearray()
        for _ in range(n):
            out.append(self.regs[self.ptr])
            self.ptr = (self.ptr + 1) & 0xFF
        return bytes(out)


class Button(Device):
    """Drives an input pin (role "int"), watches an output pin (role "led")."""
    kind = "button"

    def press(self):
        self.set_pin("int", 0)

    def release(self):
        self.set_pin("int", 1)


TOY_WIRING = {
    "echo": {"model": EchoUart, "uart": 2},
    "shift": {"model": ShiftSpi, "spi": 1, "pins": {"cs": "PD14", "dc": "PD15"}},
    "regs": {"model": RegsI2c, "i2c": 1, "address": 0x50},
    "button": {"model": Button, "pins": {"int": "PE11", "led": "PE2"}},
}
