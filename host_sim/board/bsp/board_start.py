# Start-up of the virtual board's CPU (run as `micropython -i board_start.py`):
# what the stm32 port's main() does before the REPL.  Board support first
# (machine connects the bridge), then /flash mounted as the only filesystem,
# then boot.py and (in friendly-REPL mode) main.py from flash, then the REPL.
import sys
import os
import vfs

# Frozen firmware: the ROMFS image is mapped first, as the board's flash is, so it is one
# block at the bottom of the heap and never moves (the heap was grown by its size).
_rom = os.getenv("SMARTPOS_ROM")
if _rom:
    _romb = bytearray(int(os.getenv("SMARTPOS_ROM_SIZE")))
    with open(_rom, "rb") as _f:
        _f.readinto(_romb)
    del _f
try:
    import machine
    import _flashfs
    import _board_os
    import _board_vfs
    import _romslots              # ROMFS partitions + boot-control region (outside flash)
    _board_vfs.rom_ioctl = _romslots.rom_ioctl
    _fs = _flashfs.FlashFS(os.getenv("SMARTPOS_FLASH"), int(os.getenv("SMARTPOS_FLASH_SIZE")))
except BaseException as _e:       # no board support: still never expose the host's files
    sys.print_exception(_e)
    _fs = None
vfs.umount("/")
if _fs is not None:
    vfs.mount(_fs, "/flash")
    if _rom:
        vfs.mount(vfs.VfsRom(_romb), "/rom")
        del _romb
    os.chdir("/flash")
    sys.modules["os"] = sys.modules["uos"] = _board_os
    sys.modules["vfs"] = _board_vfs
    del _board_os, _board_vfs
    machine._send(0x72, 0, 1)      # tell the host: board support up, Ctrl-C may interrupt now
sys.path[:] = ["", ".frozen", "/rom", "/rom/lib", "/flash", "/flash/lib"] if _rom else \
    ["", ".frozen", "/flash", "/flash/lib"]
if _fs is not None:                # after sys.path: keep the window before it as short as it was
    import gc
    gc.collect()
    machine._bsp_heap = gc.mem_alloc() - (int(os.getenv("SMARTPOS_ROM_SIZE")) if _rom else 0)
    del gc
del _fs, vfs, _rom


def _run_file(_name):
    try:
        os.stat(_name)
    except OSError:
        return
    try:
        try:
            with open(_name) as _f:
                _code = compile(_f.read(), _name, "exec")
            exec(_code, globals())
        except SystemExit:
            machine._send(0x70, 0, 1)  # stm32: SystemExit from boot.py/main.py is a soft reset
            while True:
                pass
        except BaseException as _e:    # KeyboardInterrupt included: traceback, then the REPL
            sys.print_exception(_e)
    except KeyboardInterrupt:          # a second Ctrl-C while the first one was being reported
        pass


if "_flashfs" in sys.modules:
    _run_file("boot.py")
    if os.getenv("SMARTPOS_RAW") != "1":
        _run_file("main.py")
    del _flashfs
del _run_file, sys, os, machine
import gc
gc.collect()
del gc
import micropython
micropython.kbd_intr(-1)   # leave Ctrl-C to the REPL as after any executed code
del micropython
