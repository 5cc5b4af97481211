"""The virtual board (host_sim/board): the same pin names and buses as the
NUCLEO-F429ZI so that the same firmware runs unchanged.  host_sim/board/wiring.py
attaches the device models to exactly these buses and pins (a test checks that
the two agree).  See nucleo_f429zi.py for the reasoning behind each choice.
"""
from boards.nucleo_f429zi import *  # noqa: F401,F403  (the same buses and pins)

NAME = "sim"
MCU = "STM32F429ZI"  # emulated by the MicroPython unix port


def boot_control():
    """The virtual board's boot-control region (host_sim/board/bootloader.py): a block device
    given by the board support, outside the flash filesystem."""
    import _romslots
    return _romslots.BootControl()

# TLS (pos.net.tls): on the unix port mbedTLS takes its memory from the C library, so a
# connection costs this heap only its Python objects (SSLContext 3,048 B, the socket, streams);
# the board's figure (nucleo_f429zi.TLS_ARENA) is not carried here (docs/tms.md).
TLS_ARENA = 0
