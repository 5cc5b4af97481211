"""Time-boxed libFuzzer run over the C TLV parser; any crash or sanitizer report fails."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
def test_tlv_fuzz_10s_no_crash(tmp_path):
    exe = tmp_path / "fuzz_tlv"
    build = subprocess.run(
        ["clang", "-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
         "-I", str(NATIVE / "include"), str(NATIVE / "src" / "posnative.c"),
         str(NATIVE / "fuzz" / "fuzz_tlv.c"), "-o", str(exe)],
        capture_output=True, text=True)
    if build.returncode != 0 and "libclang_rt.fuzzer" in build.stderr:
        pytest.skip("libFuzzer runtime missing")
    assert build.returncode == 0, build.stderr
    work = tmp_path / "corpus"
    work.mkdir()
    run = subprocess.run(
        [str(exe), "-max_total_time=10", "-print_final_stats=1",
         "-artifact_prefix=%s/" % tmp_path, str(work), str(NATIVE / "fuzz" / "corpus" / "tlv")],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "number_of_executed_units" in run.stderr
