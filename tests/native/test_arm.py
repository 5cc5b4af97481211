"""The C core builds freestanding for Cortex-M4 and its unit tests pass on qemu mps2-an386."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="arm-none-eabi-gcc or qemu-system-arm not installed")
def test_native_arm_unit_tests_on_qemu():
    run = subprocess.run(["make", "-s", "native-arm"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK (0 failures)" in run.stdout
    # arm-none-eabi-size line for the core object: text data bss
    line = [l for l in run.stdout.splitlines() if l.strip().endswith("posnative.o")][0]
    text, data, bss = (int(x) for x in line.split()[:3])
    assert 0 < text < 16384 and data == 0 and bss == 0
