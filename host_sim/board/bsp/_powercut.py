# Power-cut points of the virtual board's flash (board support, outside flash).  Every write
# the firmware makes to flash (filesystem files, ROMFS partitions, boot-control region) goes
# through here.  Two ways to cut:
#
# - from the REPL (VirtualBoard.run_until_cut): arm(k) cuts at the k-th write from now; that
#   write reaches flash whole ("clean") or half ("torn"), the board prints the marker and
#   stops; the host then pulls the power.
# - test points (SMARTPOS_FLASH_CTL, a host directory; VirtualBoard.arm_power_cut): every
#   flash operation of this boot is numbered and logged to CTL/writes.log as
#   "N kind path bytes" (kind: write, rename, remove; "erase" and "program" for a ROMFS
#   partition, path "rom/slotN"; "write" to "bootctl" for the boot-control region).  CTL/cut
#   says where the power goes: "N how" is operation N of this boot; "N how PATTERN" the N-th
#   operation whose "kind path" contains PATTERN, counted from when the cut was armed and
#   across boots (the count is kept in CTL/cut.seen), so a test can name a step of an update
#   that spans several boots.  how: "torn" (half of the bytes reach flash), "whole" (all of
#   them), "before" (none; a rename or remove never happens).
import os
import vfs

MARKER = "\n*** POWER-CUT at flash write %d\n"

_at = 0
_torn = False
count = 0

_ctl = os.getenv("SMARTPOS_FLASH_CTL")
_host = vfs.VfsPosix() if _ctl else None     # the control directory is a host directory
ops = 0                                       # flash operations of this boot (test points)


def arm(k, torn=False):
    global _at, _torn, count
    _at, _torn, count = k, torn, 0


def write(f, data):
    global count
    count += 1
    if _at and count == _at:
        if _torn:
            f.write(memoryview(data)[:len(data) // 2])
        else:
            f.write(data)
        f.close()
        print(MARKER % count)
        while True:        # the host cuts the power here
            pass
    return f.write(data)


def point(kind, path, n=0):
    """A flash operation at a test point: numbered and logged; returns how the power goes
    here ("torn", "whole", "before") or None.  No-op without a control directory."""
    global ops
    if _ctl is None:
        return None
    ops += 1
    with _host.open(_ctl + "/writes.log", "a") as f:
        f.write("%d %s %s %d\n" % (ops, kind, path, n))
    try:
        with _host.open(_ctl + "/cut", "r") as f:
            spec = f.read().split(None, 2)
    except OSError:
        return None
    if len(spec) < 2:
        return None
    if len(spec) == 2:
        return spec[1] if int(spec[0]) == ops else None
    if spec[2] not in "%s %s" % (kind, path):
        return None
    try:
        with _host.open(_ctl + "/cut.seen", "r") as f:
            seen = int(f.read() or "0") + 1
    except (OSError, ValueError):
        seen = 1
    with _host.open(_ctl + "/cut.seen", "w") as f:
        f.write(str(seen))
    return spec[1] if seen == int(spec[0]) else None


def cut():
    """The host pulls the power now (it hears which operation through the bridge)."""
    import machine
    machine._send(0x76, 0, ops & 0xFFFF)
    while True:
        pass


def guarded_write(f, data, kind, path):
    """A flash write at a test point (ROMFS partitions, boot-control region)."""
    how = point(kind, path, len(data))
    if how is not None:
        if how == "torn" and len(data) > 1:
            f.write(memoryview(data)[:len(data) // 2])
        elif how == "whole":
            f.write(data)
        f.close()
        cut()
    return write(f, data)
