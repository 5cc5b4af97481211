"""Firmware update figures on the virtual board: flash the two ROMFS slots take, time to
verify the metadata and install a release (4 KB and 1 KB chunks as a download delivers them)
with the application running on the product heap (the board's 192 KB on this 64-bit port,
docs/bridge.md), trial boot and confirmation."""
import os
import re
import shutil
import tempfile
import time


def _install(chunk):
    from cloud.tms import release
    from host_sim.board import VirtualBoard
    from host_sim.board import bootloader
    from host_sim.board.virtual_board import PRODUCT_HEAP
    tmp = tempfile.mkdtemp(prefix="smartpos-bench-upd-")
    try:
        rel = os.path.join(tmp, "rel")
        info = release.build_release("1.0.1", rel)
        vb = VirtualBoard(os.path.join(tmp, "flash"), heap=PRODUCT_HEAP, firmware="frozen", pty=False, slots=True)
        vb.start()
        try:
            m = vb.wait_for("smartpos ready", 60)
            vb.wait_for("INFO app network up=", 60, m)
            os.makedirs(os.path.join(vb.flash_dir, "upd"))
            shutil.copy(os.path.join(rel, info["image"]), os.path.join(vb.flash_dir, "upd", "image.bin"))
            for n in ("timestamp.json", "snapshot.json", "targets.json"):
                shutil.copy(os.path.join(rel, "metadata", n), os.path.join(vb.flash_dir, "upd", n))
            code = ("import time, gc\nfrom pos.tms.update import Installer\n"
                    "t0 = time.ticks_ms()\ninst = Installer.from_board()\nfiles = {}\n"
                    "for n in ('timestamp.json', 'snapshot.json', 'targets.json'):\n"
                    "    with open('upd/' + n, 'rb') as f:\n        files[n] = f.read()\n"
                    "target = inst.verify_metadata(files)\ndel files\nt1 = time.ticks_ms()\n"
                    "off = inst.resume_offset(target)\nbuf = bytearray(%d)\n"
                    "with open('upd/image.bin', 'rb') as f:\n"
                    "    while True:\n        n = f.readinto(buf)\n        if not n:\n            break\n"
                    "        inst.write(off, memoryview(buf)[:n])\n        off += n\n"
                    "t2 = time.ticks_ms()\ninst.finish(target)\nt3 = time.ticks_ms()\n"
                    "print('T', time.ticks_diff(t1, t0), time.ticks_diff(t2, t1), time.ticks_diff(t3, t2))\n"
                    % chunk)
            for _ in range(6):
                try:
                    out = vb.exec(code, timeout=300)
                    break
                except Exception as exc:          # a lost Ctrl-C: main.py still running
                    if "did not print" not in str(exc) and "interrupted" not in str(exc):
                        raise
            meta, write, verify = (int(x) for x in re.search(r"T (\d+) (\d+) (\d+)", out).groups())
            t = time.monotonic()
            m = vb.mark()
            vb.hard_reset()
            vb.wait_for("smartpos ready", 60, m)
            boot = time.monotonic() - t
        finally:
            vb.stop()
        return info["length"], meta, write, verify, boot
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_updates():
    from host_sim.board import bootloader
    rows = [("ROMFS slots (2 x %d KiB)" % (bootloader.SLOT_SIZE // 1024), 2 * bootloader.SLOT_SIZE, "bytes"),
            ("boot-control region (2 copies)", 2 * bootloader.BOOTCTL_BLOCK, "bytes")]
    for chunk in (4096, 1024):
        try:
            length, meta, write, verify, boot = _install(chunk)
        except Exception as exc:
            rows.append(("install with %d-byte chunks failed: %s" % (chunk, str(exc)[:60]), 0, ""))
            continue
        rows += [("firmware image", length, "bytes"),
                 ("image share of one slot", 100.0 * length / bootloader.SLOT_SIZE, "%"),
                 ("verify TUF metadata (%d-byte chunks run)" % chunk, meta, "ms"),
                 ("erase + write slot, %d-byte chunks" % chunk, write, "ms"),
                 ("SHA-256 over the slot + arm trial", verify, "ms"),
                 ("reset to app ready on the trial slot", boot, "s")]
    return rows


def bench_updates_ddi():
    """A release rolled out over DDI to the enrolled virtual terminal, to its confirmed trial."""
    from smartpos.demos.tms import firmware_update
    r = firmware_update("1.0.1")
    return [("DDI update: TUF metadata fetched and checked", r["meta_ms"], "ms"),
            ("DDI update: image downloaded into the slot (64 KB Range windows)", r["download_ms"], "ms"),
            ("DDI update: SHA-256 over the slot + trial armed", r["install_ms"], "ms"),
            ("DDI update: rollout to confirmed action (2 restarts, self-test)", r["elapsed"], "s"),
            ("DDI update: outcome", 1 if r["action"]["state"] == "success" else 0, "1 = confirmed")]


BENCHES = {"updates": bench_updates, "updates-ddi": bench_updates_ddi}
