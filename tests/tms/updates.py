"""Helpers for the update tests on the virtual board: releases and the install as the DDI
client runs it (metadata, resume offset, chunks, finish)."""
import os
import shutil

UPDATE_DIR = "upd"          # where a test puts the downloaded files on the board's flash

INSTALL = """
import gc
from pos.tms.update import Installer, UpdateError
inst = Installer.from_board()
files = {}
for n in ("timestamp.json", "snapshot.json", "targets.json"):
    with open("upd/" + n, "rb") as f:
        files[n] = f.read()
try:
    target = inst.verify_metadata(files)
    del files
    gc.collect()
    off = inst.resume_offset(target)
    print("RESUME", off)
    buf = bytearray(%(chunk)d)
    with open("upd/image.bin", "rb") as f:
        f.seek(off)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            inst.write(off, memoryview(buf)[:n])
            off += n
    inst.finish(target%(force)s)
    print("ARMED", target.version)
except UpdateError as e:
    print("REFUSED", e)
"""


def install_code(chunk=1024, force=False):
    return INSTALL % {"chunk": chunk, "force": ", force=True" if force else ""}


def put_download(flash_dir, release_dir, image=None, metadata=None):
    """The files a download would leave: the image (maybe altered) and the metadata."""
    d = os.path.join(flash_dir, UPDATE_DIR)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    info_image = [n for n in os.listdir(release_dir) if n.endswith(".romfs")][0]
    data = image if image is not None else open(os.path.join(release_dir, info_image), "rb").read()
    with open(os.path.join(d, "image.bin"), "wb") as f:
        f.write(data)
    for n in ("timestamp.json", "snapshot.json", "targets.json"):
        raw = (metadata or {}).get(n) or open(os.path.join(release_dir, "metadata", n), "rb").read()
        with open(os.path.join(d, n), "wb") as f:
            f.write(raw)
    return data


def boot_and_wait(vb, how="reset", timeout=60, fresh=False):
    m = vb.mark()
    if how == "reset":
        vb.hard_reset()
    else:
        vb.power_on()
    m = vb.wait_for("smartpos ready", timeout, m)
    vb.wait_for("INFO app network up=", timeout, m)   # the app settled: Ctrl-C now stops main.py
    at_repl(vb, fresh)


def at_repl(vb, fresh=False, tries=6):
    """Stop main.py and reach the raw REPL.  A Ctrl-C that lands in a board-support thread
    instead of main.py is lost (the app keeps running): send it again.  fresh: then soft-reset
    in raw mode (a fresh interpreter without the application: nothing it held, such as a bus
    lock taken when the Ctrl-C came, is left behind)."""
    from host_sim.board.virtual_board import BoardError, BoardTimeout
    for _ in range(tries):
        try:
            vb.exec("pass", timeout=8)
            break
        except BoardError:          # timed out, or a stale prompt came first: again
            continue
    else:
        raise BoardTimeout("main.py could not be stopped for the raw REPL")
    if fresh:
        m = vb.mark()
        vb.write(b"\x04")
        vb.wait_for(b"raw REPL; CTRL-B to exit\r\n>", 30, m)


SETTLE = """
from pos.tms.update import Installer
from pos.tms import selftest
inst = Installer.from_board()
print("TRIAL", inst.pending_trial())
r = selftest.settle_trial(inst, cloud=lambda: True, reset=lambda: print("RESETTING"))
print("SELFTEST", r)
print("RESULT", inst.last_result())
"""


def run_install(vb, chunk=1024, force=False, timeout=120):
    """The install on the board; its output.  A board-side exception fails with its traceback."""
    from host_sim.board.virtual_board import ExecError
    try:
        return vb.exec(install_code(chunk, force), timeout=timeout)
    except ExecError as e:
        raise AssertionError("install raised on the board:\n" + e.traceback)
