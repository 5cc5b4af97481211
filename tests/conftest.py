"""Shared pytest setup: the `board` fixture (hardware in the loop).

By default `board` is a virtual board (host_sim.board.VirtualBoard) with the
firmware flashed onto it by `smartpos flash`'s code, models attached.  With
``--board=PORT`` the very same tests talk to a real board (/dev/ttyACM0) or a
Renode socket terminal (socket://127.0.0.1:3456) instead; tests that need the
device models ask for `virtual_board` and are skipped there.

    def test_something(board):
        assert board.eval("1 + 1") == "2"
        board.exec("import machine")          # raw REPL; ExecError on an exception
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def pytest_addoption(parser):
    parser.addoption("--board", metavar="PORT", default=None,
                     help="run board tests against a real board or Renode socket (socket://HOST:PORT) "
                          "instead of the virtual board")
    parser.addoption("--no-flash", action="store_true",
                     help="with --board: do not flash the firmware first")


class RemoteBoard:
    """A board behind a serial port (or socket://), driven through mpremote's transport."""
    virtual = False
    devices = {}
    vb = None

    def __init__(self, port):
        from mpremote.transport_serial import SerialTransport
        self.port = port
        self.t = SerialTransport(port, baudrate=115200)
        self.t.enter_raw_repl(soft_reset=False)

    def exec(self, code, timeout=30):
        from mpremote.transport import TransportExecError
        from host_sim.board import ExecError
        try:
            out = self.t.exec_raw(code, timeout=timeout)
        except TransportExecError as exc:
            raise ExecError(exc.error_output, "")
        out, err = out
        if err:
            raise ExecError(err.decode("utf-8", "replace"), out.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace").replace("\r\n", "\n")

    def eval(self, expr, timeout=30):
        return self.exec("print(repr(%s))" % expr, timeout).strip()

    def close(self):
        try:
            self.t.exit_raw_repl()
            self.t.close()
        except Exception:
            pass


class VirtualHandle:
    """The virtual board with the same face as RemoteBoard (plus the models)."""
    virtual = True

    def __init__(self, vb):
        self.vb = vb
        self.devices = vb.devices
        self.port = vb.url

    def exec(self, code, timeout=30):
        return self.vb.exec(code, timeout)

    def eval(self, expr, timeout=30):
        return self.vb.eval(expr, timeout)

    def close(self):
        self.vb.stop()


@pytest.fixture(scope="session")
def board(request, tmp_path_factory):
    port = request.config.getoption("--board")
    if port:
        if not request.config.getoption("--no-flash"):
            from smartpos.flashing import Flasher
            Flasher(port).flash()
        handle = RemoteBoard(port)
    else:
        from host_sim.board import VirtualBoard
        from smartpos.flashing import Flasher
        from host_sim.rig import PRODUCT_HEAP
        # the firmware as .mpy files in flash (what `smartpos flash` copies): on this 64-bit port
        # every object word and the loaded bytecode take twice the board's bytes, so the whole
        # terminal gets the sim's heap (docs/bridge.md); the 192 KB budget itself is checked with
        # the firmware frozen, as a board build has it (tests/ui/test_boot_ready.py)
        vb = VirtualBoard(tmp_path_factory.mktemp("board-flash"), heap=PRODUCT_HEAP, pty=False)
        vb.start()
        Flasher(vb.url, ready_timeout=120).flash()     # the same path as `smartpos flash --port socket://...`
        handle = VirtualHandle(vb)
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def virtual_board(request, board):
    """The board when it is virtual (device models reachable); skipped with --board."""
    if not board.virtual:
        pytest.skip("needs the virtual board's device models (not available with --board)")
    return board


def _full_pans(text):
    """Luhn-valid runs of 13-19 digits: a full card number on a receipt.  The application
    cryptogram's row (8 random bytes as 16 hex digits) is not read: one in a few thousand of them
    holds a Luhn-valid run of 13 digits or more by chance (77122363174236 made a run fail)."""
    import re
    out = []
    text = re.sub(r"(?m)^\s*(AAC|TC|ARQC|AC)\s+[0-9A-F]{16}\s*$", "", text)
    for m in re.finditer(r"(?<!\d)\d{13,19}(?!\d)", text):
        d = m.group(0)
        total = 0
        for i, c in enumerate(reversed(d)):
            v = ord(c) - 48
            if i & 1:
                v *= 2
                if v > 9:
                    v -= 9
            total += v
        if total % 10 == 0:
            out.append(d)
    return out


# Files that use one resource of the machine run on one worker under pytest-xdist (make test):
# the PC/SC reader (vpcd's virtual slot) holds one card at a time.
_SHARED_RESOURCE = {"tests/cards/": "pcsc-reader"}


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist with --dist loadfile (make test), a test file runs whole on one worker
    (its module-scoped board or rig starts once), and the files of _SHARED_RESOURCE together
    on one: the scheduling unit is the file, or the resource the files share."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileOrResource(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return next((g for prefix, g in _SHARED_RESOURCE.items() if path.startswith(prefix)), path)

    return FileOrResource(config, log)


@pytest.fixture(autouse=True, scope="module")
def _no_full_pan_on_a_receipt():
    """Receipts never carry a full PAN: every receipt the printer models cut while a test file
    ran (in-process boards; demos run in-process too) is checked when the file ends."""
    try:
        from host_sim.devices.escpos import PRINTED
    except ImportError:
        yield
        return
    start = len(PRINTED)
    yield
    leaks = [(i, p) for i, r in enumerate(PRINTED[start:], start) for p in _full_pans(r)]
    assert not leaks, "FULL PAN ON A RECEIPT: %d receipt(s), e.g. receipt #%d" % (len(leaks), leaks[0][0])


def pytest_sessionfinish(session, exitstatus):
    """Receipts never carry a full PAN: checked over every receipt the printer models cut in
    this session (in-process boards; demos run in-process too)."""
    try:
        from host_sim.devices.escpos import PRINTED
    except ImportError:
        return
    leaks = [(i, p) for i, r in enumerate(PRINTED) for p in _full_pans(r)]
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaks:
        if tr:
            tr.write_line("FULL PAN ON A RECEIPT: %d receipt(s), e.g. receipt #%d" % (len(leaks), leaks[0][0]),
                          red=True)
        session.exitstatus = 1
    elif tr and PRINTED:
        tr.write_line("receipts checked for full PANs: %d printed, none found" % len(PRINTED))


CONSOLE_LINES = 40


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that fails on a virtual terminal shows what the board printed last (a traceback,
    a MemoryError, the log line of the step that went wrong): the console of every rig still
    running, or of the last one stopped during the test."""
    outcome = yield
    rep = outcome.get_result()
    mod = sys.modules.get("host_sim.rig")
    if mod is None:
        return
    rig = mod.Rig
    if rep.when == "setup":
        rig.last_console = ""           # consoles from here on are this test's
        return
    if rep.when != "call" or not rep.failed:
        return
    texts = []
    for r in list(rig.live):
        try:
            texts.append(r.board.console())
        except Exception:
            pass
    if not texts and rig.last_console:
        texts.append(rig.last_console)
    for i, text in enumerate(texts, 1):
        tail = [ln for ln in text.splitlines() if ln.strip()][-CONSOLE_LINES:]
        if tail:
            rep.sections.append(("board console %d of %d, last %d lines" % (i, len(texts), len(tail)),
                                 "\n".join(tail)))
