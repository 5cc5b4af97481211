"""The app sandbox on real MicroPython with the board's heap: a hostile app
(tests/sdk/apps/hostile) tries each way out and each is refused; an app that raises,
holds the loop, runs out of memory or keeps more than its heap budget is stopped and the
terminal is back at Ready with the reason; no app code runs, draws or reads keys while PIN
entry holds the display."""
import pytest

from tests.sdk import sandbox_mp

ESCAPES = {
    "_imp_keys": "ImportError: app import refused: pos.store.keystore",
    "_imp_journal": "ImportError: app import refused: pos.store",
    "_imp_machine": "ImportError: app import refused: machine",
    "_imp_os": "ImportError: app import refused: os",
    "_imp_sys": "ImportError: app import refused: sys",
    "_dunder_import": "ImportError: app import refused: pos.app.status",
    "_exec_import": "Error: exec is not available to apps",
    "_eval_builtin": "Error: eval is not available to apps",
    "_builtins": "ImportError: app import refused: builtins",
    "_pos_package": "AttributeError: 'Namespace' object has no attribute 'app'",
    "_pos_from": "ImportError: app import refused: pos.app",
    "_open_up": "Error: storage key refused: '../../config/terminal.json'",
    "_open_abs": "Error: storage key refused: '/config/terminal.json'",
    "_open_write": "Error: apps open files read-only; store_put writes",
    "_store_dotdot": "Error: storage key refused: '../../config/terminal.json'",
    "_store_slash": "Error: storage key refused: 'config/x'",
    "_quota": "Error: storage quota of 1024 bytes exceeded",
    "_globals_walk": "Error: no module, host or runtime reachable",
    "_surface_again": "AttributeError: 'NoneType' object has no attribute 'call'",
    "_evil_arg": "Error: argument of type Evil refused",
    "_import_relative": "ImportError: app import refused: relative import",
    "_deleted_shadow": "ImportError: app import refused: os",
    "_scan_unpermitted": "Error: permission scanner not in app.json",
    "_signed_params_elsewhere": "Error: storage key refused: '../../config/terminal.json'",
}


@pytest.fixture
def flash(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "terminal.json").write_text('{"merchant": "SECRET STORE"}')
    return sandbox_mp.flash(tmp_path, "hostile")


def test_each_escape_is_refused(flash):
    out = sandbox_mp.run(flash, """
start("hostile")
st.key("ENTER")
for n in st.top.screen.notes:
    out(n)
out("screen", screen())
""")
    notes = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in out if not ln.startswith("screen")}
    assert set(notes) == set(ESCAPES)
    for name, why in ESCAPES.items():
        assert notes[name] == "refused " + why, name
    assert "24 notes" in out[-1]                     # the app still runs: refusals, not crashes
    # storage: only the app's own directory was written, and within its quota
    files = sorted(p.relative_to(flash).as_posix() for p in flash.rglob("*") if p.is_file())
    assert files == ["appdata/hostile/notes", "apps/hostile/app.json", "apps/hostile/main.py",
                     "config/terminal.json"]
    assert (flash / "config" / "terminal.json").read_text() == '{"merchant": "SECRET STORE"}'
    kept = (flash / "appdata" / "hostile" / "notes").read_text().splitlines()
    assert len(kept) == len(ESCAPES) and all(" refused " in n for n in kept)


@pytest.mark.parametrize("key,why", [
    ("1", "hostile stopped: raised ValueError"),
    ("2", "hostile stopped: held the counter"),
    ("3", "hostile stopped: out of memory"),
    ("4", "hostile stopped: over its heap budget"),
    ("6", "hostile stopped: raised SystemExit"),
])
def test_a_failing_app_is_stopped_and_the_terminal_is_back_at_ready(flash, key, why):
    # the baseline: free heap at Ready after one failure of the app (the runtime, its error
    # path and the names they intern loaded once), so the figure is what this failure keeps
    out = sandbox_mp.run(flash, """
import gc
start("hostile")
st.key("1")
st.key("CANCEL")
gc.collect()
base = gc.mem_free()
start("hostile")
st.key(%r)
out("stack", len(st.stack), type(st.top).__name__)
out("page", "".join(c.seen[-5:]))
gc.collect()
out("free", gc.mem_free() - base)
st.key("CANCEL")
out("after", len(st.stack), type(st.top).__name__)
st.key("ENTER")
out("still", len(st.stack), type(st.top).__name__)
""" % key)
    assert out[0] == "stack 2 Info"                  # Ready + the error page over it
    assert out[1].startswith("page ERROR" + why), out[1]     # the reason, over Ready
    assert int(out[2].split()[1]) > -2048            # what it hoarded (16 KB and more) went back to the heap
    assert out[3] == "after 1 Home"                  # CANCEL: Ready
    assert out[4] == "still 1 Home"                  # the stopped app gets no more keys


def test_an_app_that_rewrites_the_sdk_does_not_reach_the_next_start(flash):
    out = sandbox_mp.run(flash, """
start("hostile")
st.key("7")
st.key("MENU")
import builtins, sys
out("home", len(st.stack), builtins.__import__ is runtime._real_import,
    [m for m in sys.modules if m.startswith("pos.platform") or m == "pos.sdk"])
start("hostile")
st.key("ENTER")
out("notes", len(st.top.screen.notes))
import os
try:
    os.stat("ESCAPED")
    out("ESCAPED")
except OSError:
    out("contained")
""")
    # stopped cleanly: the interpreter's import back, the runtime and SDK unloaded
    assert out == ["home 1 True []", "notes 24", "contained"]


def test_no_app_code_runs_draws_or_reads_keys_while_pin_entry_holds_the_display(flash):
    out = sandbox_mp.run(flash, """
import time
start("hostile")
app = st.top.screen
st.key("5")                        # a repeating timer whose callback draws
c.owner = "PIN entry"              # as pos.app.modal does for the PIN prompt
d0 = app.draws
n0 = len(app.notes)
time.sleep_ms(300)
st.tick(); st.redraw(); st.key("ENTER"); st.key("1")
out("during", app.draws - d0, len(app.notes) - n0, len(st.stack))
h = st.top.host
h.canvas = c
try:
    h.display.text("over pin", 2)
    out("ESCAPED")
except Exception as e:
    out("direct", e)
h.canvas = None
c.owner = None
st.tick()
for n in app.notes:
    out(n)
""")
    # keys, ticks and draws while PIN entry runs: none reached the app (ENTER and "1" neither)
    assert out[0] == "during 0 0 2"
    assert out[1] == "direct the display is held by PIN entry"
    assert out[2:] == ["timer", "timer draw refused: draw only inside Screen.draw"]


def test_manifest_checks(tmp_path):
    import json
    import shutil
    flash = sandbox_mp.flash(tmp_path, "hostile")
    m = json.loads((flash / "apps" / "hostile" / "app.json").read_text())
    for name, change in (("newer", {"sdk": 3}), ("perm", {"permissions": ["keys"]}),
                         ("entry", {"entry": "../main.py"}), ("noname", {"name": "x"}),
                         ("store", {"storage": "lots"})):
        shutil.copytree(flash / "apps" / "hostile", flash / "apps" / name)
        (flash / "apps" / name / "app.json").write_text(json.dumps(dict(m, id=name, **change)))
    shutil.copytree(flash / "apps" / "hostile", flash / "apps" / "list")
    (flash / "apps" / "list" / "app.json").write_text("[]")
    out = sandbox_mp.run(flash, """
for n in ("newer", "perm", "entry", "noname", "store", "list"):
    try:
        start(n)
        out(n, "STARTED")
    except runtime.AppError as e:
        out(n, e)
""")
    assert out == ["newer needs SDK 3, this firmware has 2", "perm app.json: unknown permission keys",
                   "entry app.json: bad entry", "noname app.json: name needs en (and zh)",
                   "store app.json: storage must be bytes (a whole number)", "list app.json: not an object"]


def test_http_only_to_the_hosts_the_manifest_declares(flash):
    import http.server
    import threading

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"balance 42"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        (flash / "appdata" / "hostile").mkdir(parents=True)
        (flash / "appdata" / "hostile" / "url").write_text("http://127.0.0.1:%d/balance" % srv.server_port)
        out = sandbox_mp.run(flash, """
import asyncio
start("hostile")
app = st.top.screen
st.key("F2")

async def wait():
    for _ in range(500):
        if any(n.startswith("http") for n in app.notes):
            return
        await asyncio.sleep_ms(20)
asyncio.run(wait())
for n in app.notes:
    out(n)
""")
    finally:
        srv.shutdown()
    assert out == ["undeclared refused: host localhost not declared in app.json", "http 200 b'balance 42'"]


def test_text_entry_for_an_app_is_the_counters(flash):
    out = sandbox_mp.run(flash, """
start("hostile")
app = st.top.screen
st.key("F3")
out(type(st.top).__name__, len(st.stack))
for k in ("CLEAR", "2", "2", "0", "ENTER"):
    st.key(k)
out(type(st.top).__name__, len(st.stack))
for n in app.notes:
    out(n)
""")
    # the counter's TextEntry over the app: "AB" given, CLEAR (A), 2 2 (A cycled to B), 0, ENTER
    assert out == ["TextEntry 3", "AppFrame 2", "text AB0"]


def test_a_request_still_out_when_the_app_stops_is_cancelled_and_lets_the_app_go(flash):
    """A host that takes the request and never answers: the app exits half a second later; its
    request does not run on to its 10 s deadline holding the app (its callback, code and
    globals): the connection closes at once and on_done is never called."""
    import socket
    import threading
    import time

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    seen = {}

    def stall():
        conn, _ = srv.accept()
        seen["request"] = conn.recv(4096)
        t0 = time.monotonic()
        conn.settimeout(30)
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        seen["closed_after_s"] = time.monotonic() - t0
        conn.close()

    threading.Thread(target=stall, daemon=True).start()
    try:
        (flash / "appdata" / "hostile").mkdir(parents=True)
        (flash / "appdata" / "hostile" / "url").write_text("http://127.0.0.1:%d/balance" % srv.getsockname()[1])
        out = sandbox_mp.run(flash, """
import asyncio
start("hostile")
app = st.top.screen
st.key("F2")

async def go():
    await asyncio.sleep_ms(500)         # the request is out and the host holds it
    st.key("8")                         # the app exits
    await asyncio.sleep_ms(4000)        # the process (and any socket left open) lives on
asyncio.run(go())
out("top", type(st.top).__name__)
out("notes", [n for n in app.notes if n.startswith("http")])
""")
    finally:
        srv.close()
    assert seen["request"].startswith(b"GET /balance HTTP/1.1")
    assert seen["closed_after_s"] < 2.5, seen       # at the exit, not the deadline or the process's end
    assert out == ["top Home", "notes []"]
