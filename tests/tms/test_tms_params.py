"""Parameter bundles on real MicroPython: validation refuses with a reason and keeps the old
parameters; the swap survives a power cut at every file operation."""
import json
import os
import shutil

import pytest

from host_sim.mpy import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def flash(tmp_path):
    shutil.copytree(os.path.join(REPO, "firmware", "config"), tmp_path / "config")
    return tmp_path


def _contactless(**changes):
    with open(os.path.join(REPO, "firmware", "config", "contactless.json")) as f:
        d = json.load(f)
    d.pop("_comment", None)
    d["aids"]["A0000000031010"].update(changes)
    return d


def _validate(flash, bundle, current=0, today="261127"):
    out = run("""
import json
from pos.tms import params
b = json.loads(%r)
try:
    files = params.validate(b, %d, %r)
    print("OK", sorted(files))
except params.ParamsError as e:
    print("REFUSED", e)
""" % (json.dumps(bundle), current, today), cwd=str(flash))
    return out.strip().splitlines()[-1]


def test_a_good_bundle_validates_and_applies(flash):
    bundle = {"version": 3, "files": {"contactless.json": _contactless(rctl=30000),
                                      "terminal.json": {"language": "zh", "receipt_header": ["CORNER SHOP"]}}}
    out = run("""
import json
from pos.tms import params
b = json.loads(%r)
params.apply(params.validate(b, params.installed_version()), b["version"])
print("version", params.installed_version())
import os
print(sorted(os.listdir("config")), sorted(os.listdir(".")))
""" % json.dumps(bundle), cwd=str(flash))
    assert "version 3" in out
    assert json.loads((flash / "config" / "contactless.json").read_text())["aids"]["A0000000031010"]["rctl"] == 30000
    assert json.loads((flash / "config" / "terminal.json").read_text())["language"] == "zh"
    assert (flash / "config" / "emv.json").exists() and (flash / "config" / "acquirers.json").exists()
    assert sorted(os.listdir(flash)) == ["config"]


@pytest.mark.parametrize("files,why", [
    ({"contactless.json": {"ttq": "36004000", "aids": {"A0000009999999": {"kernel": 3, "rctl": 1, "cvm_limit": 0,
                                                                          "floor": 0}}}},
     "contactless.json: aids.A0000009999999: unknown AID"),
    ({"capk.json": {"keys": [{"rid": "A000000003", "index": "92", "modulus": "AB" * 100, "exponent": "03"}]}},
     "capk.json: keys[0].modulus: 100 bytes"),
    ({"capk.json": {"keys": [{"rid": "A000000003", "index": "92", "modulus": "AB" * 128, "exponent": "03",
                              "expiry": "201231"}]}},
     "capk.json: keys[0].expiry: key A000000003/92 expired on 201231"),
    ({"capk.json": {"keys": [{"rid": "A000000003", "index": "92", "modulus": "AB" * 128, "exponent": "05"}]}},
     "exponent"),
    ({"contactless.json": _contactless(floor=50000)}, "must not exceed the transaction limit"),
    ({"secrets.json": {}}, "secrets.json: not a parameter file"),
    ({"acquirers.json": {"acquirers": {"alpha": {"host": "h", "port": 1}}, "routes": [{"acquirer": "gamma"}]}},
     "routes[0]: names no configured acquirer"),
    ({"acquirers.json": {"acquirers": {"alpha": {"host": "h", "port": 1}}, "currency": "978"}},
     "one currency per terminal"),
    ({"terminal.json": {"receipt_header": ["x" * 60]}}, "terminal.json: receipt_header"),
    ({"terminal.json": {"catalog_refresh_s": "15m"}}, "terminal.json: catalog_refresh_s: want seconds"),
])
def test_bad_bundles_are_refused_with_the_reason(flash, files, why):
    line = _validate(flash, {"version": 2, "files": files})
    assert line.startswith("REFUSED") and why in line, line


def test_older_or_equal_versions_are_refused(flash):
    assert "not newer than the installed 5" in _validate(flash, {"version": 5, "files": {}}, current=5)
    assert _validate(flash, {"version": 6, "files": {}}, current=5).startswith("OK")
    assert _validate(flash, {"files": {}}).startswith("REFUSED bundle.version")


SWEEP = """
import json, os
from pos.tms import params

class Cut(Exception):
    pass

ops = [0]
limit = %d

def tick():
    ops[0] += 1
    if ops[0] == limit:
        raise Cut()

class CutOs:
    def __getattr__(self, name):
        real = getattr(os, name)
        if name in ("rename", "remove", "mkdir", "rmdir"):
            def f(*a):
                tick()
                return real(*a)
            return f
        return real

def cut_open(path, mode="r"):
    if "w" in mode:
        tick()
    return open(path, mode)

params.os = CutOs()
params.open = cut_open
b = json.loads(%r)
try:
    params.apply(params.validate(b, 0), b["version"])
    print("completed", "yes")
except Cut:
    print("cut at", limit)
params.os = os
params.open = open
print("recover", params.recover())
print("version", params.installed_version())
print("rctl", json.load(open("config/contactless.json"))["aids"]["A0000000031010"]["rctl"])
print("files", sorted(os.listdir("config")), sorted(os.listdir(".")))
"""


def test_a_power_cut_at_every_file_operation_leaves_old_or_new_whole(tmp_path):
    bundle = {"version": 7, "files": {"contactless.json": _contactless(rctl=44400)}}
    original = sorted(os.listdir(os.path.join(REPO, "firmware", "config")))
    outcomes = {}
    n = 1
    while True:
        d = tmp_path / ("cut%d" % n)
        d.mkdir()
        shutil.copytree(os.path.join(REPO, "firmware", "config"), d / "config")
        out = run(SWEEP % (n, json.dumps(bundle)), cwd=str(d))
        lines = dict(l.split(" ", 1) for l in out.strip().splitlines())
        new = lines["version"] == "7"
        assert lines["rctl"] == ("44400" if new else "20000"), (n, out)
        files = eval(lines["files"].split("] [")[0] + "]")
        assert sorted(f for f in files if f != "params.version") == original, (n, out)
        assert lines["files"].endswith("['config']"), (n, out)
        outcomes[n] = "new" if new else "old"
        if "completed" in lines:
            break
        n += 1
    assert n > 10 and outcomes[1] == "old" and outcomes[n] == "new"


def test_bundle_files_are_merge_patches_over_the_current_files(flash):
    bundle = {"version": 2, "files": {
        "contactless.json": {"aids": {"A0000000031010": {"rctl": 25000}, "A0000000032010": None}},
        "terminal.json": {"promotions": None, "receipt_footer": ["BYE"]}}}
    run("""
import json
from pos.tms import params
b = json.loads(%r)
params.apply(params.validate(b, 0), 2)
""" % json.dumps(bundle), cwd=str(flash))
    cl = json.loads((flash / "config" / "contactless.json").read_text())
    assert cl["aids"]["A0000000031010"] == {"kernel": 3, "rctl": 25000, "cvm_limit": 5000, "floor": 2000}
    assert "A0000000032010" not in cl["aids"] and cl["ttq"] == "36004000"
    term = json.loads((flash / "config" / "terminal.json").read_text())
    assert term == {"language": "en", "receipt_footer": ["BYE"]}
