"""`ensure_pcscd` starts one pcscd however many card simulators ask at once.

Two pcscd started together leave one running whose client socket the other removed: every PC/SC
client then gets "Service not available" until pcscd is restarted. A stand-in `pcscd` on PATH
records each start and serves a client socket and a vpcd port, the way the real one does."""
import os
import socket
import stat
import subprocess
import sys
import textwrap

from ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAKE_PCSCD = textwrap.dedent("""\
    #!%s
    import os, socket, sys, time
    if os.fork():                      # pcscd forks into the background; its first process exits
        sys.exit(0)
    time.sleep(0.3)                    # a slow start, as on a loaded machine
    with open(os.environ["FAKE_STARTS"], "a") as f:
        f.write("%%d\\n" %% os.getpid())
    path = os.environ["PCSCLITE_CSOCK_NAME"]
    if os.path.exists(path):           # as pcscd does: a stale socket is removed at start
        os.unlink(path)
    u = socket.socket(socket.AF_UNIX); u.bind(path); u.listen(8)
    t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", int(os.environ["FAKE_VPCD_PORT"]))); t.listen(8)
    time.sleep(float(os.environ.get("FAKE_LIFE", "20")))
    """) % sys.executable


def test_callers_at_once_start_one_pcscd(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pcscd"
    fake.write_text(FAKE_PCSCD)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    port = free_port()
    starts = tmp_path / "starts"
    env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ.get("PATH", "")),
               PCSCLITE_CSOCK_NAME=str(tmp_path / "pcscd.comm"), FAKE_STARTS=str(starts),
               FAKE_VPCD_PORT=str(port), TMPDIR=str(tmp_path), PYTHONPATH=ROOT)
    code = ("from host_sim.cards.vpcd import ensure_pcscd\n"
            "print(ensure_pcscd(port=%d, log=lambda m: None))" % port)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    try:
        results = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert results == ["True"] * 4
        pids = starts.read_text().split()
        assert len(pids) == 1, "pcscd started %d times" % len(pids)
        # and a caller after them finds it serving and starts nothing
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == "True"
        assert starts.read_text().split() == pids
    finally:
        for pid in starts.read_text().split() if starts.exists() else ():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
