"""The virtual board: MicroPython unix port as CPU, a flash directory, REPL ports, bridge to device models.

    from host_sim.board import VirtualBoard
"""
from host_sim.board.virtual_board import (  # noqa: F401
    VirtualBoard, BoardError, BoardTimeout, ExecError, copy_firmware, install_firmware, DEFAULT_FLASH_SIZE,
)
