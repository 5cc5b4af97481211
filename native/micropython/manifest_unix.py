# Frozen firmware for the unix port built from source (FROZEN_MANIFEST=, docs/native.md):
# asyncio from the tree and the smartpos firmware package, no micropython-lib needed.
include("$(MPY_DIR)/extmod/asyncio")
package("pos", base_path="../../firmware")
