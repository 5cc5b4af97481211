"""smartpos host tools: the `smartpos` command line (tools/smartpos)."""
import os

# The repository root (this file lives in tools/smartpos/).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE_DIR = os.path.join(REPO_ROOT, "firmware")
