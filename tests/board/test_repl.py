"""The virtual board's REPL speaks what the stm32 port's USART3 REPL speaks, byte for byte."""
import os
import signal
import struct
import time

import pytest
import serial

from host_sim.board import VirtualBoard


class Port:
    """A REPL client on a pyserial URL with read-until helpers."""

    def __init__(self, url):
        self.s = serial.serial_for_url(url, timeout=0.05)
        self.buf = b""
        self.marks = 0

    def write(self, data):
        self.s.write(data)

    def until(self, pattern, timeout=30):
        end = time.monotonic() + timeout
        while pattern not in self.buf:
            if time.monotonic() > end:
                raise AssertionError("no %r in %r" % (pattern, self.buf[-300:]))
            self.buf += self.s.read(4096)
        i = self.buf.index(pattern) + len(pattern)
        got, self.buf = self.buf[:i], self.buf[i:]
        return got

    def take(self, n, timeout=30):
        """The next n bytes, once they have all arrived."""
        end = time.monotonic() + timeout
        while len(self.buf) < n:
            if time.monotonic() > end:
                raise AssertionError("%d bytes expected, got %r" % (n, self.buf))
            self.buf += self.s.read(4096)
        got, self.buf = self.buf[:n], self.buf[n:]
        return got

    def sync(self, timeout=30):
        """Wait until the friendly REPL has answered everything typed so far: a marker
        expression is typed and its result read (prompts left over from earlier Ctrl-Cs are
        consumed with it)."""
        self.marks += 1
        m = b"'sync-%d'" % self.marks
        self.write(m + b"\r")
        return self.until(m + b"\r\n>>> ", timeout)

    def close(self):
        self.s.close()


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    flash = tmp_path_factory.mktemp("flash")
    (flash / "boot.py").write_text("print('boot ran')\n")
    b = VirtualBoard(flash, pty=True)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def port(vb):
    p = Port(vb.url)
    p.write(b"\r\x03\x03\x02")           # friendly REPL, nothing running
    p.sync()
    yield p
    p.close()


def test_friendly_repl_echo_and_result(port):
    port.write(b"1+1\r")
    assert port.until(b">>> ") == b"1+1\r\n2\r\n>>> "


def test_friendly_multiline_and_ctrl_c_clears_line(port):
    port.write(b"for i in range(2):\r")
    port.until(b"...     ")
    port.write(b"print(i * 7)\r\r\r\r")   # shared readline: auto-indent, dedent, then a blank line ends it
    assert port.until(b">>> ").endswith(b"0\r\n7\r\n>>> ")
    port.write(b"garbage\x03")
    port.until(b">>> ")
    port.write(b"2*3\r")
    assert port.until(b">>> ").endswith(b"6\r\n>>> ")


def test_raw_repl_exec_stdout_stderr(port):
    port.write(b"\r\x01")
    port.until(b"raw REPL; CTRL-B to exit\r\n>")
    port.write(b"print('hi')\x04")
    assert port.until(b"\x04>") == b"OKhi\r\n\x04\x04>"
    port.write(b"1/0\x04")
    out = port.until(b"\x04>")
    assert out.startswith(b"OK\x04Traceback (most recent call last):\r\n")
    assert out.endswith(b"ZeroDivisionError: divide by zero\r\n\x04>")
    port.write(b"\x02")
    assert b"NUCLEO-F429ZI (virtual) with STM32F429\r\n" in port.until(b">>> ")


def test_raw_paste_mode_flow_control(port):
    port.write(b"\r\x01")
    port.until(b"raw REPL; CTRL-B to exit\r\n>")
    port.write(b"\x05A\x01")
    head = port.until(b"\x01")
    assert head[:2] == b"R\x01"
    window = struct.unpack("<H", port.take(2))[0]
    assert window == 128
    port.until(b"\x01")                  # the device grants the first window
    code = b"x = 0\n" + b"x += 1\n" * 60 + b"print('sum', x)\n"   # > 2 windows
    sent = 0
    while sent < len(code):
        chunk = code[sent:sent + window]
        port.write(chunk)
        sent += len(chunk)
        if sent < len(code):
            port.until(b"\x01")          # wait for the next window
    port.write(b"\x04")
    out = port.until(b"\x04>")
    assert out.endswith(b"\x04sum 60\r\n\x04\x04>")
    port.write(b"\x02")
    port.until(b">>> ")


def test_ctrl_c_interrupts_running_code(port):
    port.write(b"exec(\"print('spinning')\\nwhile True: pass\")\r")
    port.until(b"spinning\r\n")         # the loop runs (a Ctrl-C before it would only clear a line)
    port.write(b"\x03")
    out = port.until(b">>> ")
    assert b"KeyboardInterrupt" in out
    port.write(b"7*6\r")
    assert port.until(b">>> ").endswith(b"42\r\n>>> ")


def test_soft_reset_friendly_fresh_heap_boot_and_main(vb, port, tmp_path):
    (tmp_path / "unused").write_text("")
    with open(os.path.join(vb.flash_dir, "main.py"), "w") as f:
        f.write("print('main ran')\n")
    try:
        port.write(b"leftover = 1\r")
        port.until(b">>> ")
        port.write(b"\x04")
        out = port.until(b">>> ")
        assert out.startswith(b"\r\nMPY: sync filesystems\r\nMPY: soft reboot\r\n")
        assert out.index(b"boot ran\r\n") < out.index(b"main ran\r\n") < out.index(b"MicroPython v")
        port.write(b"leftover\r")
        assert b"NameError" in port.until(b">>> ")
        port.write(b"import machine; machine.reset_cause()\r")
        assert port.until(b">>> ").endswith(b"5\r\n>>> ")       # SOFT_RESET
    finally:
        os.remove(os.path.join(vb.flash_dir, "main.py"))


def test_soft_reset_in_raw_repl_skips_main(vb, port):
    with open(os.path.join(vb.flash_dir, "main.py"), "w") as f:
        f.write("print('main ran')\n")
    try:
        port.write(b"\r\x01")
        port.until(b"raw REPL; CTRL-B to exit\r\n>")
        port.write(b"\x04")
        out = port.until(b"raw REPL; CTRL-B to exit\r\n>")
        assert out.startswith(b"OK\r\nMPY: sync filesystems\r\nMPY: soft reboot\r\n")
        assert b"boot ran\r\n" in out and b"main ran" not in out
        assert b">>> " not in out                  # straight back to the raw prompt, as stm32
        port.write(b"print('still raw')\x04")
        assert port.until(b"\x04>") == b"OKstill raw\r\n\x04\x04>"
        port.write(b"\x02")
        port.until(b">>> ")
    finally:
        os.remove(os.path.join(vb.flash_dir, "main.py"))


def test_ctrl_c_interrupts_main_py_then_repl(vb, port):
    with open(os.path.join(vb.flash_dir, "main.py"), "w") as f:
        f.write("import time\nprint('main looping')\nwhile True:\n    time.sleep_ms(10)\n")
    try:
        port.write(b"\x04")
        port.until(b"main looping\r\n")
        port.write(b"\x03")
        out = port.until(b">>> ")
        assert b"KeyboardInterrupt" in out and b"NUCLEO-F429ZI" in out
    finally:
        os.remove(os.path.join(vb.flash_dir, "main.py"))


def test_machine_reset_is_a_hard_reset(vb, port):
    port.write(b"import machine; machine.reset()\r")
    out = port.until(b">>> ")
    assert b"soft reboot" not in out and b"boot ran" in out
    port.write(b"import machine; machine.reset_cause()\r")
    assert port.until(b">>> ").endswith(b"2\r\n>>> ")       # HARD_RESET


def test_clients_can_disconnect_and_reconnect(vb):
    p = Port(vb.url)
    p.write(b"\r\x03\x02")
    p.until(b">>> ")
    m = vb.mark()
    p.write(b"import time; time.sleep(0.3); print('done')\r")
    p.close()                                 # gone mid-command
    vb.wait_for("done\r\n>>> ", 30, m)      # the board finished it with nobody listening
    q = Port(vb.url)
    q.write(b"\r\x03\x02\r")
    q.sync()
    q.write(b"'back'\r")
    assert q.until(b">>> ").endswith(b"'back'\r\n>>> ")
    q.close()
    assert vb.cpu.boots >= 1 and vb.cpu.proc.poll() is None


def test_pty_port_speaks_the_same(vb):
    p = Port(vb.pty.path)
    p.write(b"\r\x03\x02\r")
    p.sync()
    p.write(b"3*3\r")
    assert p.until(b">>> ").endswith(b"9\r\n>>> ")
    p.close()


def test_power_cut_and_power_on(vb):
    vb.exec("f = open('kept.txt', 'w'); f.write('written'); f.close()")
    vb.power_cut()
    assert not vb.powered
    m = vb.mark()
    vb.write(b"print('nobody home')\r")
    vb.power_on(timeout=60)
    assert vb.powered
    assert vb.eval("__import__('machine').reset_cause()") == "1"          # PWRON_RESET
    assert vb.eval("open('kept.txt').read()") == "'written'"
    assert "nobody home" not in vb.console()[m:]
    vb.exec("import os; os.remove('kept.txt')")


def test_watchdog_resets_a_board_that_stops_feeding_it(vb):
    # 3 s against feeds every 100 ms: a margin no loaded PC eats, so only not feeding resets
    vb.exec("from machine import WDT\nimport time\nw = WDT(timeout=3000)\n"
            "for i in range(6):\n    time.sleep_ms(100)\n    w.feed()\n")     # fed: still alive
    assert vb.eval("__import__('machine').reset_cause()") != "3"
    hard, m = vb.cpu.hard_resets, vb.mark()
    vb.wait_for("MicroPython v", 60, m)                     # not fed any more: the board restarts
    assert vb.cpu.hard_resets == hard + 1
    vb.wait_ready(60)
    assert vb.eval("__import__('machine').reset_cause()") == "3"          # WDT_RESET
    assert vb.bridge.stats["wdt_resets"] >= 1


def test_ctrl_c_typed_while_booting_leaves_a_whole_start_up(tmp_path):
    """A client that interrupts while the board boots (VirtualBoard.exec, mpremote) always gets
    the REPL with the start-up complete: the Ctrl-C is held until boot.py starts, then lands
    there (or in main.py if typed later), never in the board start-up before sys.path is set,
    and never so that main.py runs on and the raw REPL never comes."""
    (tmp_path / "boot.py").write_text("print('boot ran')\n")
    (tmp_path / "main.py").write_text("print('main ran')\nwhile True:\n    pass\n")
    (tmp_path / "flashmod.py").write_text("X = 42\n")
    for _ in range(8):              # where a held Ctrl-C used to land was down to timing
        b = VirtualBoard(tmp_path, pty=False)
        try:
            b.start(wait=False)     # then type at once, as a client does while the board boots
            m = b.mark()
            assert b.eval("__import__('flashmod').X") == "42"      # raw REPL, /flash on sys.path
            assert "KeyboardInterrupt" in b.console()[m:]
        finally:
            b.stop()


@pytest.mark.parametrize("first", ["lost", "late", "ended"])
def test_a_ctrl_c_that_goes_unanswered_is_pressed_again(tmp_path, first):
    """exec() presses Ctrl-C again when the first one goes unanswered for 20 s (here: taken away
    before it reaches the CPU, or held back until the second one goes, or the second one ends
    the interpreter as a SIGINT at the unix port's REPL does, so that the input typed with both
    is lost and the restart in raw mode prints a single prompt for two Ctrl-A), and answers to
    the last raw-REPL prompt, not to a stale one."""
    (tmp_path / "main.py").write_text("print('main ran')\nwhile True:\n    pass\n")
    b = VirtualBoard(tmp_path, pty=False)
    try:
        b.start(wait=False)
        b.wait_for("main ran", 60)
        real, calls = b.cpu._interrupt, []

        def first_one_astray():
            calls.append(1)
            if len(calls) == 1:
                return True         # as if the signal had gone (it comes later, or never)
            if len(calls) == 2 and first == "late":
                real()              # the first one arrives just as the second is pressed
            if len(calls) == 2 and first == "ended":
                ready = b.cpu._became_ready

                def ends_at_its_prompt(enter_raw):
                    # the REPL is up after the KeyboardInterrupt; a second SIGINT ends it there
                    # before it reads the input held for it (the Ctrl-A of both presses)
                    b.cpu._became_ready = ready
                    os.kill(b.cpu.proc.pid, signal.SIGTERM)
                    b.cpu.proc.wait()
                    ready(enter_raw)
                b.cpu._became_ready = ends_at_its_prompt
            return real()
        b.cpu._interrupt = first_one_astray
        assert b.exec("print(6 * 7)") == "42\n"
        assert len(calls) >= 2 and len(b.cpu.ctrl_c) >= 2       # pressed again
        # the last press reached the CPU: through the bridge, as a signal (this main.py never
        # looks: "signal (late)"), or queued for an interpreter starting again
        # ("late": two SIGINTs back to back; the unix port exits on a second one that comes
        # before the first is handled, which a loaded machine makes likely; the virtual board
        # takes that exit as a soft reset and starts the interpreter again)
        # (two presses in a row to this main.py, which never looks: the first one's SIGINT ends
        # it and the second one is dropped, "dropped (program ended)")
        assert b.cpu.ctrl_c[-1][1] in ("bridge", "signal", "signal (late)", "dropped (program ended)", "queued")
        if first == "ended":
            assert b.cpu.boots == 2         # the exec answered to the restarted interpreter's prompt
        assert b.exec("print('again')") == "again\n"      # in step with the REPL afterwards
    finally:
        b.stop()


def test_a_board_that_never_reaches_its_repl_is_not_left_running(tmp_path):
    (tmp_path / "main.py").write_text("while True:\n    pass\n")
    b = VirtualBoard(tmp_path, pty=False)
    with pytest.raises(Exception, match="did not reach its REPL"):
        b.start(timeout=3, wait=True)
    assert b.cpu.proc.poll() is not None          # the process is gone, not spinning on
    assert not b.started


def test_ctrl_c_into_a_program_that_collects_all_the_time_leaves_a_sound_interpreter(tmp_path):
    """Ctrl-C is raised in Python where the program next uses the bridge (docs/bridge.md): the
    unix port's SIGINT raised it from the signal handler inside a collection or an interned
    name's lock, after which the heap stayed locked, a module lost its attributes or the next
    import waited forever (a collection after every 2 KB allocated made it likely: 25 of 30
    interrupts on the bare unix port).  Ten interrupts of such a main.py, each followed by code
    that allocates, imports and interns names at the REPL."""
    (tmp_path / "main.py").write_text(
        "import gc, machine\n"
        "gc.threshold(2048)\n"
        "p = machine.Pin('PE11', machine.Pin.IN)\n"
        "print('main ran')\n"
        "d = {}\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1\n"
        "    d[i % 200] = [bytearray(40), str(i), (i, i)]\n"
        "    if not i % 50:\n"
        "        p.value()\n")
    b = VirtualBoard(tmp_path, pty=False)
    try:
        b.start(wait=False)
        for n in range(10):
            b.wait_for("main ran", 60, b.mark() if n else 0)
            out = b.exec("import os, json\nprint('alive', len(json.dumps({'n%d' % k: k for k in range(50)})), "
                         "'listdir' in dir(os))")
            assert out == "alive 530 True\n", out
            # through the bridge (a Ctrl-C pressed as the start-up reports boot.py begun is held
            # until it has, then goes the same way), never as SIGINT
            assert b.cpu.ctrl_c[-1][1] in ("bridge", "held, then bridge"), b.cpu.ctrl_c
            m = b.mark()
            b.write(b"\x02\x04")            # friendly REPL, soft reset: main.py runs again
            b.wait_for("soft reboot", 30, m)
    finally:
        b.stop()
