"""Build the posnative C core with warnings as errors and ASan/UBSan, run its C unit tests."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_c_unit_tests_pass_under_sanitizers(tmp_path):
    exe = tmp_path / "test_core"
    subprocess.run(
        ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
         "-I", str(NATIVE / "include"),
         str(NATIVE / "src" / "posnative.c"), str(NATIVE / "src" / "pn_crypto.c"),
         str(NATIVE / "src" / "pn_rsa.c"), str(NATIVE / "tests" / "test_core.c"),
         "-o", str(exe)],
        check=True, capture_output=True, text=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK (0 failures)" in run.stdout
