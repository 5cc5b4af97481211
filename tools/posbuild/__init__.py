"""Building the firmware: toolchain, .mpy build, ROMFS image, font subset."""
