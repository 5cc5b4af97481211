"""The demonstration, as a user types it: smartpos board in the background, mpremote, smartpos flash."""
import os
import signal
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)


def run(*argv, timeout=60):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def test_board_command_mpremote_and_flash(tmp_path):
    link = str(tmp_path / "smartpos-b0")
    board = subprocess.Popen([os.path.join(BIN, "smartpos"), "board", "--pty-link", link,
                              "--flash", str(tmp_path / "flash")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = board.stdout.readline()
        assert "REPL on /dev/pts/" in banner and link in banner and "socket://127.0.0.1:" in banner
        assert os.path.islink(link)
        r = run(os.path.join(BIN, "mpremote"), "connect", link, "exec",
                "import sys, gc; print(sys.implementation.name, gc.mem_free() + gc.mem_alloc())")
        name, heap = r.stdout.split()
        assert name == "micropython" and int(heap) <= 196608
        (tmp_path / "x.py").write_text("X = 42\n")
        r = run(os.path.join(BIN, "mpremote"), "connect", link, "fs", "cp", str(tmp_path / "x.py"), ":x.py",
                "+", "soft-reset", "+", "exec", "import x; print(x.X)")
        assert r.stdout.strip().splitlines()[-1] == "42", r.stdout + r.stderr
        src = tmp_path / "fw"
        (src / "pos").mkdir(parents=True)
        (src / "pos" / "__init__.py").write_text("")
        (src / "main.py").write_text("print('smartpos ready')\n")
        r = run(os.path.join(BIN, "smartpos"), "flash", "--port", link, "--source", str(src))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "board ready" in r.stdout.splitlines()[-1]
        assert os.path.exists(tmp_path / "flash" / "pos" / "__init__.mpy")
    finally:
        board.send_signal(signal.SIGTERM)
        assert board.wait(10) == 0
    assert not os.path.lexists(link)              # the board took its symlink with it


def test_board_command_bad_input(tmp_path):
    r = run(os.path.join(BIN, "smartpos"), "board", "--heap", "lots")
    assert r.returncode == 2 and "heap size 'lots'" in r.stderr
    (tmp_path / "file").write_text("")
    r = run(os.path.join(BIN, "smartpos"), "board", "--pty-link", str(tmp_path / "file"))
    assert r.returncode == 2 and "not a symlink" in r.stderr
