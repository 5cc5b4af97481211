"""Time-boxed libFuzzer runs (ASan + UBSan) over the C core's entry points that take outside
data -- TLV and DOL parsers, MACs (ISO 9797-1, AES-CMAC), PIN blocks (ISO 9564-1 formats 0, 1,
3, 4), the RSA public operation -- seeded from the committed corpora; any crash, sanitizer
report or failed property (native/fuzz/fuzz_*.c) fails.  Executions are reported."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
SOURCES = [str(NATIVE / "src" / s) for s in ("posnative.c", "pn_crypto.c", "pn_rsa.c")]


SANITIZE = ["-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


@pytest.fixture(scope="module")
def core_objects(tmp_path_factory):
    """The C core compiled once with the sanitizers and libFuzzer's coverage, for every harness."""
    if shutil.which("clang") is None:
        pytest.skip("clang not installed")
    out = tmp_path_factory.mktemp("fuzzcore")
    objs = []
    for src in SOURCES:
        obj = out / (Path(src).stem + ".o")
        build = subprocess.run(["clang", "-c", "-fsanitize=fuzzer-no-link"] + SANITIZE
                               + ["-I", str(NATIVE / "include"), src, "-o", str(obj)], capture_output=True, text=True)
        assert build.returncode == 0, build.stderr
        objs.append(str(obj))
    return objs


@pytest.mark.parametrize("target,seconds", [("tlv", 8), ("dol", 5), ("mac", 4), ("pinblock", 4), ("rsa", 5)])
def test_fuzz_no_crash(target, seconds, tmp_path, core_objects):
    exe = tmp_path / ("fuzz_" + target)
    build = subprocess.run(
        ["clang", "-fsanitize=fuzzer"] + SANITIZE + ["-I", str(NATIVE / "include")] + core_objects
        + [str(NATIVE / "fuzz" / ("fuzz_%s.c" % target)), "-o", str(exe)],
        capture_output=True, text=True)
    if build.returncode != 0 and "libclang_rt.fuzzer" in build.stderr:
        pytest.skip("libFuzzer runtime missing")
    assert build.returncode == 0, build.stderr
    work = tmp_path / "corpus"
    work.mkdir()
    run = subprocess.run(
        [str(exe), "-max_total_time=%d" % seconds, "-print_final_stats=1",
         "-artifact_prefix=%s/" % tmp_path, str(work), str(NATIVE / "fuzz" / "corpus" / target)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    execs = int(re.search(r"stat::number_of_executed_units: (\d+)", run.stderr).group(1))
    print("fuzz %s: %d executions in %d s" % (target, execs, seconds))
    assert execs > 1000
