# Frozen firmware for a board build (`make firmware MICROPY_DIR=...`): the port's own
# manifest, then the smartpos firmware package as frozen bytecode (runs from flash).
# Paths are relative to this file.
include("$(PORT_DIR)/boards/manifest.py")
package("pos", base_path="../../firmware")
