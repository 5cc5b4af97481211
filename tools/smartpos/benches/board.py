"""Virtual board figures: boot and reset times, heap the board support takes, bridge speed, flashing."""
import os
import shutil
import statistics
import tempfile
import time


def _toy_wiring():
    from host_sim.devices.base import I2cDevice, SpiDevice, UartDevice

    class Sink(SpiDevice):
        def __init__(self):
            super().__init__("sink")
            self.n = 0

        def spi_transfer(self, tx):
            return bytes(len(tx))

        def spi_write(self, data):
            self.n += len(data)

    class Regs(I2cDevice):
        address = 0x34

        def i2c_write(self, data):
            return True

        def i2c_read(self, n):
            return bytes(n)

    class Echo(UartDevice):
        def uart_rx(self, data):
            self.uart_tx(data)

    return {"sink": {"model": Sink, "spi": 1, "pins": {"cs": "PD14"}},
            "regs": {"model": Regs, "i2c": 1, "address": 0x34},
            "echo": {"model": Echo, "uart": 2}}


def bench_board():
    from host_sim.board import VirtualBoard
    from host_sim.board.virtual_board import PRODUCT_HEAP
    rows = []
    tmp = tempfile.mkdtemp(prefix="smartpos-bench-")
    try:
        t0 = time.monotonic()
        vb = VirtualBoard(os.path.join(tmp, "flash"), pty=False, wiring=_toy_wiring())
        vb.start()
        rows.append(("start to REPL prompt (host process + CPU boot)", (time.monotonic() - t0) * 1000, "ms"))
        rows.append(("CPU boot to REPL prompt", vb.cpu.last_boot_s * 1000, "ms"))
        try:
            idle = int(vb.exec("import gc; gc.collect(); print(gc.mem_alloc())"))
            total = int(vb.exec("import gc; print(gc.mem_free() + gc.mem_alloc())"))
            rows.append(("heap total (192K board)", total, "bytes"))
            rows.append(("heap used at idle by board support (machine, /flash)", idle, "bytes"))
            ts = []
            for _ in range(5):
                t = time.monotonic()
                vb.exec("pass")
                ts.append(time.monotonic() - t)
            rows.append(("raw REPL exec round trip (median of 5)", statistics.median(ts) * 1000, "ms"))
            ts = []
            for _ in range(5):
                m = vb.mark()
                t = time.monotonic()
                vb.write(b"\x04")
                vb.wait_for(b"raw REPL; CTRL-B to exit\r\n>", 10, m)
                ts.append(time.monotonic() - t)
            rows.append(("soft reset (Ctrl-D in raw REPL) to raw prompt (median of 5)",
                         statistics.median(ts) * 1000, "ms"))
            m = vb.mark()
            t = time.monotonic()
            vb.hard_reset()
            vb.wait_for(b">>> ", 10, m)
            rows.append(("hard reset to friendly prompt", (time.monotonic() - t) * 1000, "ms"))
            out = vb.exec(
                "import time\nfrom machine import SPI, Pin\n"
                "cs = Pin('PD14', Pin.OUT, value=0); s = SPI(1, baudrate=42000000)\n"
                "b = bytearray(15360)\nt = time.ticks_us()\n"
                "for i in range(20):\n    s.write(b)\n"
                "cs.value()\n"                         # a round trip: every write has been handled
                "dt = time.ticks_diff(time.ticks_us(), t)\n"
                "r = bytearray(1); t = time.ticks_us()\n"
                "for i in range(200):\n    s.write_readinto(b'\\x00', r)\n"
                "dx = time.ticks_diff(time.ticks_us(), t)\n"
                "from machine import I2C\ni = I2C(1)\nbuf = bytearray(2); t = time.ticks_us()\n"
                "for k in range(200):\n    i.readfrom_mem_into(0x34, 0x04, buf)\n"
                "di = time.ticks_diff(time.ticks_us(), t)\n"
                "from machine import UART\nu = UART(2, 115200, timeout=100)\nt = time.ticks_us()\n"
                "for k in range(100):\n    u.write(b'ping')\n    u.read(4)\n"
                "du = time.ticks_diff(time.ticks_us(), t)\n"
                "print(dt, dx, di, du)\n")
            dt, dx, di, du = (int(v) for v in out.split())
            rows.append(("SPI write throughput (20 x 15360 B, board clock)", 20 * 15360 / (dt / 1e6) / 1e6, "MB/s"))
            rows.append(("full 240x320 RGB565 frame over SPI", 153600 / (20 * 15360 / dt) / 1000, "ms"))
            rows.append(("SPI 1-byte write_readinto round trip", dx / 200, "us"))
            rows.append(("I2C readfrom_mem_into(2 bytes) round trip", di / 200, "us"))
            rows.append(("UART 4-byte echo round trip", du / 100, "us"))
            rows.append(("bridge control frames handled", vb.bridge.stats["frames"], "frames"))
        finally:
            vb.stop()
        # the real firmware with every model: power-on to the Ready screen
        vb = VirtualBoard(os.path.join(tmp, "flash3"), pty=False, firmware=True)
        t0 = time.monotonic()
        vb.start()
        try:
            vb.wait_for("smartpos ready", 60)
            rows.append(("power-on to 'smartpos ready' (firmware .mpy, all models)",
                         (time.monotonic() - t0) * 1000, "ms"))
            m = vb.mark()
            t0 = time.monotonic()
            vb.hard_reset()
            vb.wait_for("smartpos ready", 60, m)
            rows.append(("hard reset to 'smartpos ready'", (time.monotonic() - t0) * 1000, "ms"))
            used = int(vb.exec("import gc; gc.collect(); print(gc.mem_alloc())"))
            rows.append(("heap in use after Ctrl-C at Ready (main's objects kept)", used, "bytes"))
        finally:
            vb.stop()
        # flashing the real firmware through the REPL socket, as `smartpos flash --port socket://` does
        from smartpos.flashing import Flasher
        # the whole firmware flashed as .mpy boots from RAM: the product heap, as firmware=True has it
        vb = VirtualBoard(os.path.join(tmp, "flash2"), pty=False, wiring={}, heap=PRODUCT_HEAP)
        vb.start()
        try:
            r = Flasher(vb.url).flash()
            rows.append(("firmware size as .mpy + sources/data", r["mpy_bytes"], "bytes"))
            rows.append(("smartpos flash, empty board (%d files)" % r["files"], r["seconds"], "s"))
            r = Flasher(vb.url).flash()
            rows.append(("smartpos flash, nothing changed", r["seconds"], "s"))
        finally:
            vb.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


BENCHES = {"board": bench_board}
