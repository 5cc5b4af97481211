# ROMFS partitions and the boot-control region of the virtual board (board support, outside
# flash): host files beside the flash directory, as a board keeps them in their own flash
# regions.  Firmware reaches the partitions through vfs.rom_ioctl (MicroPython's ROMFS
# partition API: 1 count, 2 partition, 3 prepare/erase, 4 write, 5 complete, 6 erase-block
# size; negative errno on error) and the boot-control region as a block device (readblocks /
# writeblocks / ioctl, as pyb.Flash(start=, len=) gives a raw flash region on the stm32 port).
# Partition contents read as a _Partition (len() and slicing), never mapped whole into the
# heap: on the board ioctl 2 returns a memoryview of memory-mapped flash.
# Host side: host_sim/board/bootloader.py (layout, sizes and the boot-control rules).
import os
import vfs
import _powercut

_fs = vfs.VfsPosix()   # host files (firmware's own vfs has no way out of /flash)

_DIR = os.getenv("SMARTPOS_ROMSLOTS")
_BOOTED = int(os.getenv("SMARTPOS_BOOT_SLOT") or "-1")
SLOT_COUNT = 2
SLOT_SIZE = 512 * 1024
ERASE_BLOCK = 16 * 1024
BOOTCTL_BLOCK = 512
_EINVAL, _EBUSY, _EIO = 22, 16, 5
_writing = {}          # partition id -> True between prepare and complete


def _path(i):
    return "%s/slot%d.bin" % (_DIR, i)


class _Partition:
    """A ROMFS partition as firmware reads it: len(p), p[a:b] -> bytes."""

    def __init__(self, i):
        self._i = i

    def __len__(self):
        return SLOT_SIZE

    def __getitem__(self, s):
        start = s.start or 0
        stop = SLOT_SIZE if s.stop is None else min(s.stop, SLOT_SIZE)
        with _fs.open(_path(self._i), "rb") as f:
            f.seek(start)
            return f.read(max(0, stop - start))


_BLANK = b"\xff" * 512
_CHECK = bytearray(256)


def _erase(i, offset, length):
    if offset % ERASE_BLOCK or offset < 0 or offset + length > SLOT_SIZE:
        return -_EINVAL
    end = min((offset + length + ERASE_BLOCK - 1) // ERASE_BLOCK * ERASE_BLOCK, SLOT_SIZE)
    with _fs.open(_path(i), "r+b") as f:
        f.seek(offset)
        for at in range(offset, end, len(_BLANK)):
            if (at + len(_BLANK)) % ERASE_BLOCK:
                f.write(_BLANK)
            else:
                _powercut.guarded_write(f, _BLANK, "erase", "rom/slot%d" % i)   # one operation per erase block
    _writing[i] = True
    return 4                 # minimum write size


def _program(i, offset, buf):
    if not _writing.get(i):
        return -_EINVAL      # not prepared
    n = len(buf)
    if offset < 0 or offset + n > SLOT_SIZE:
        return -_EINVAL
    with _fs.open(_path(i), "r+b") as f:
        f.seek(offset)
        left = n
        while left:          # NOR flash: only erased bytes can be programmed
            k = f.readinto(_CHECK)
            if not k:
                break
            for j in range(min(k, left)):
                if _CHECK[j] != 0xFF:
                    return -_EIO
            left -= min(k, left)
        f.seek(offset)
        _powercut.guarded_write(f, buf, "program", "rom/slot%d" % i)
    return 0


def rom_ioctl(op, *args):
    if _DIR is None:
        return -_EINVAL
    if op == 1:
        return SLOT_COUNT
    i = args[0] if args else -1
    if not 0 <= i < SLOT_COUNT:
        return -_EINVAL
    if op == 2:
        return _Partition(i)
    if op == 6:
        return ERASE_BLOCK
    if i == _BOOTED and op in (3, 4):
        return -_EBUSY       # the partition the CPU runs from is never written
    if op == 3:
        if len(args) == 2:
            return _erase(i, 0, args[1])
        return _erase(i, args[1], args[2])
    if op == 4:
        return _program(i, args[1], args[2])
    if op == 5:
        _writing.pop(i, None)
        return 0
    return -_EINVAL


class BootControl:
    """The boot-control region: 2 blocks of BOOTCTL_BLOCK bytes (block device protocol)."""

    def __init__(self):
        if _DIR is None:
            raise OSError(19)        # ENODEV: this board was started without slots

    def readblocks(self, block, buf, offset=0):
        with _fs.open(_DIR + "/bootctl.bin", "rb") as f:
            f.seek(block * BOOTCTL_BLOCK + offset)
            f.readinto(buf)

    def writeblocks(self, block, buf, offset=0):
        with _fs.open(_DIR + "/bootctl.bin", "r+b") as f:
            f.seek(block * BOOTCTL_BLOCK + offset)
            _powercut.guarded_write(f, buf, "write", "bootctl")

    def ioctl(self, op, arg):
        if op == 4:
            return 2                 # block count
        if op == 5:
            return BOOTCTL_BLOCK     # block size
        if op == 6:                  # erase block `arg`
            self.writeblocks(arg, _BLANK)
            return 0
        return 0


def booted_slot():
    return _BOOTED
