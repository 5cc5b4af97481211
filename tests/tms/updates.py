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


# main.py on flash for the update tests: it reports the image that booted and stops, so the
# tests reach the REPL without interrupting the application (a Ctrl-C in the middle of a bus
# transfer leaves the board support's control connection out of step)
QUIET_MAIN = "import pos\nprint('smartpos ready', pos.VERSION)\n"


def quiet_main(flash_dir):
    with open(os.path.join(flash_dir, "main.py"), "w") as f:
        f.write(QUIET_MAIN)


def quiet_board(path, heap="192K"):
    from host_sim.board import VirtualBoard
    vb = VirtualBoard(str(path), heap=heap, firmware="frozen", pty=False, provision=quiet_main, slots=True)
    vb.start()
    vb.wait_for("smartpos ready", 60)
    vb.wait_ready(60)
    return vb


def reboot(vb, how="reset"):
    m = vb.mark()
    if how == "reset":
        vb.hard_reset()
    else:
        vb.power_on()
    vb.wait_for("smartpos ready", 60, m)
    vb.wait_ready(60)


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
