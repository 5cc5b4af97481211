# Frozen firmware for a board build (FROZEN_MANIFEST=, docs/native.md): the port's own
# manifest, then the smartpos firmware package as frozen bytecode (runs from flash).
# Paths are relative to this file.
include("$(PORT_DIR)/boards/manifest.py")
package("pos", base_path="../../firmware")
