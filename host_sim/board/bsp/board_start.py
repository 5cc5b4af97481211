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
_bootmarks = None
if os.getenv("SMARTPOS_BOOT_MARKS") == "1":     # measurement probe (host_sim/board/bsp/_bootmarks.py)
    import _bootmarks
try:
    import machine
    import _flashfs
    import _board_os
    import _board_vfs
    import _romslots              # ROMFS partitions + boot-control region (outside flash)
    _board_vfs.rom_ioctl = _romslots.rom_ioctl
    if os.getenv("SMARTPOS_FAULT_POINTS"):       # exception injection points (tests only)
        import _faults
        _faults.start(os.getenv("SMARTPOS_FAULT_POINTS"), os.getenv("SMARTPOS_FAULT_CTL"))
        _faults.grow_name_pool()
        del _faults
    _fs = _flashfs.FlashFS(os.getenv("SMARTPOS_FLASH"), int(os.getenv("SMARTPOS_FLASH_SIZE")),
                          os.getenv("SMARTPOS_FLASH_CTL"))
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
sys.path[:] = ["", ".frozen", "/rom", "/rom/lib", "/flash", "/flash/lib"] if _rom else \
    ["", ".frozen", "/flash", "/flash/lib"]
if _fs is not None:
    import gc
    gc.collect()
    machine._bsp_heap = gc.mem_alloc() - (int(os.getenv("SMARTPOS_ROM_SIZE")) if _rom else 0)
    del gc
del _fs, vfs, _rom


def _run_file(_name, _intr=0):
    """Run a file from flash as the stm32 port's pyexec_file does: None if there is no such
    file, True if it ran to its end, False if it raised (KeyboardInterrupt included).
    _intr: a Ctrl-C the host held until now lands on the file's first line."""
    try:
        os.stat(_name)
    except OSError:
        return None
    try:
        try:
            if _intr:
                raise KeyboardInterrupt
            with open(_name) as _f:
                _code = compile(_f.read(), _name, "exec")
            exec(_code, globals())
            return True
        except SystemExit:
            machine._send(0x70, 0, 1)  # stm32: SystemExit from boot.py/main.py is a soft reset
            while True:
                pass
        except BaseException as _e:    # KeyboardInterrupt included: traceback, then the REPL
            sys.print_exception(_e)
    except KeyboardInterrupt:          # a second Ctrl-C while the first one was being reported
        pass
    return False


if "_flashfs" in sys.modules:
    # Ctrl-C and the start-up (docs/bridge.md, BOOT_STAGE): the host holds every Ctrl-C typed
    # since power-on until boot.py starts.  Stage 1 asks for it (a request: the answer says
    # whether one was held, so where it lands does not depend on timing); stage 2 lets later
    # ones through as KeyboardInterrupt, which from here on can only land inside this try.
    _held = _ok = 0
    if _bootmarks:                     # a measurement probe: its first mark before boot.py
        _bootmarks.start()
    try:
        _held = machine._call(0x72, 0, 1)[0]
        machine._send(0x72, 0, 2)
        _ok = _run_file("boot.py", _held)
        if _ok is None:                # no boot.py: the held Ctrl-C is main.py's
            _ok = True
        else:
            _held = 0
        # stm32 boardctrl_run_boot_py: boot.py that raised (or was interrupted) -> no main.py
        if _ok and os.getenv("SMARTPOS_RAW") != "1":
            _run_file("main.py", _held)
    except KeyboardInterrupt:          # between the files: nothing left to run but the REPL
        pass
    del _flashfs, _held, _ok
del _bootmarks
del _run_file, sys, os, machine
import gc
gc.collect()
del gc
import micropython
micropython.kbd_intr(-1)   # leave Ctrl-C to the REPL as after any executed code
del micropython
