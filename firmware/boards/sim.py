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



def _tls_arena():
    # TLS (pos.net.tls): the unix port's mbedTLS takes its memory from the C library, so a
    # connection costs this heap only its Python objects and no arena is taken; a virtual board
    # started with tls_heap=True serves mbedTLS from this GC heap as a board does
    # (host_sim/tls_probe; a 16-byte node on this 64-bit port), and then takes the board's
    # arena: the two record buffers' blocks, 16,736 + 4,448 (32-byte blocks).
    try:
        import _mbedtls
    except ImportError:     # the bare unix port (module tests): no board support, the C library
        return 0
    return 21184 if _mbedtls.ON_GC_HEAP else 0


TLS_ARENA = _tls_arena()
