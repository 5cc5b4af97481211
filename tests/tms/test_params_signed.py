"""Signed parameter bundles on real MicroPython with the board's heap: the cloud signs a bundle
through the TUF roles of the firmware releases (cloud.tms.parameters.signed_bundle, python-tuf);
the terminal (pos.tms.params.install) applies a good one and refuses a tampered, expired,
older, unsigned, foreign or wrongly signed one with its reason, the old parameters staying."""
import datetime
import json
import os
import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from securesystemslib.signer import CryptoSigner, SSlibKey

from cloud.tms import release
from cloud.tms.parameters import signed_bundle
from host_sim.mpy import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
SIGNERS = release.load_keys()
CID = "SIM-0001"

INSTALL = """
import json, os
from pos.tms import params
import hashlib
meta = {}
for n in os.listdir("in"):
    if n != "params.json":
        with open("in/" + n, "rb") as f:
            meta[n] = f.read()
h, length = hashlib.sha256(), 0
with open("in/params.json", "rb") as src, open(params.PART, "wb") as dst:
    raw = src.read()
    h.update(raw)
    dst.write(raw)
    length = len(raw)
raw = None
ok, details, applied = params.install(meta, length, h.digest(), %r, %d, "261127")
assert params.PART not in os.listdir(".")
print(json.dumps({"ok": ok, "details": details, "version": params.installed_version()}))
"""


@pytest.fixture
def flash(tmp_path):
    shutil.copytree(os.path.join(REPO, "firmware", "config"), tmp_path / "config")
    return tmp_path


def _bundle(version, rctl=30000, **kw):
    with open(os.path.join(REPO, "firmware", "config", "contactless.json")) as f:
        cl = json.load(f)
    cl.pop("_comment", None)
    cl["aids"]["A0000000031010"]["rctl"] = rctl
    data = json.dumps({"version": version, "sets": ["operator:0 v1"], "files": {"contactless.json": cl}},
                      sort_keys=True).encode()
    kw.setdefault("expires", NOW + datetime.timedelta(days=7))
    return signed_bundle(data, kw.pop("cid", CID), version, kw.pop("signers", SIGNERS), **kw)


def _install(flash, files, now=NOW):
    shutil.rmtree(flash / "in", ignore_errors=True)
    (flash / "in").mkdir()
    for name, raw in files.items():
        (flash / "in" / name).write_bytes(raw)
    out = run(INSTALL % (CID, int(now.timestamp())), cwd=str(flash))
    return json.loads(out.strip().splitlines()[-1])


def _rctl(flash):
    return json.loads((flash / "config" / "contactless.json").read_text())["aids"]["A0000000031010"]["rctl"]


def test_a_signed_bundle_is_applied(flash):
    before = _rctl(flash)
    r = _install(flash, _bundle(3))
    assert r == {"ok": True, "version": 3, "details": ["parameters version 3 applied (contactless.json)"]}
    assert _rctl(flash) == 30000 != before


def _flip(raw, at):
    b = bytearray(raw)
    b[at] ^= 0x01
    return bytes(b)


def _other_signers():
    """Role keys that the terminal's root does not know."""
    out = {}
    for role in release.ROLES:
        priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        out[role] = CryptoSigner(priv, SSlibKey.from_crypto(priv.public_key(), scheme=release.SCHEME))
    return out


def _tampered_bundle():
    f = _bundle(4)
    f["params.json"] = f["params.json"].replace(b'"rctl": 30000', b'"rctl": 90000')
    return f


def _tampered_targets():
    f = _bundle(4)
    f["targets.json"] = f["targets.json"].replace(b'"terminal":"SIM-0001"', b'"terminal":"SIM-0002"')
    return f


def _tampered_signature():
    f = _bundle(4)
    i = f["timestamp.json"].index(b'"sig":"') + 20
    f["timestamp.json"] = _flip(f["timestamp.json"], i)
    return f


def _unsigned():
    f = _bundle(4)
    return {"params.json": f["params.json"]}


def _version_mismatch():
    f = _bundle(4)
    data = f["params.json"].replace(b'"version": 4', b'"version": 9')
    return signed_bundle(data, CID, 4, SIGNERS, expires=NOW + datetime.timedelta(days=7))


@pytest.mark.parametrize("files,why", [
    (_tampered_bundle(), "signature: params.json does not match the signed length and SHA-256 (tampered)"),
    (_tampered_targets(), "signature: targets.json: bad signature (0 of 1 required targets keys)"),
    (_tampered_signature(), "signature: timestamp.json: bad signature (0 of 1 required timestamp keys)"),
    (_bundle(4, expires=NOW - datetime.timedelta(seconds=1)), "signature: timestamp.json: expired at"),
    (_unsigned(), "signature: unsigned bundle: timestamp.json missing"),
    (_bundle(4, cid="SIM-0002"), "signature: targets.json: wrong target: no params for terminal SIM-0001"),
    (_bundle(4, signers=_other_signers()), "signature: timestamp.json: bad signature"),
    (_version_mismatch(), "bundle.version: 9, the signed metadata says 4"),
], ids=["tampered-bundle", "tampered-metadata", "tampered-signature", "expired", "unsigned",
        "other-terminal", "unknown-keys", "version-mismatch"])
def test_bad_bundles_are_refused_and_the_old_parameters_stay(flash, files, why):
    assert _install(flash, _bundle(3))["version"] == 3
    before = (flash / "config" / "contactless.json").read_bytes()
    r = _install(flash, files)
    assert r["ok"] is False and r["version"] == 3, r
    assert r["details"][0].startswith("refused: " + why), r
    assert (flash / "config" / "contactless.json").read_bytes() == before


def test_an_older_bundle_replayed_is_refused(flash):
    old = _bundle(2, rctl=11111)
    assert _install(flash, _bundle(3))["version"] == 3
    r = _install(flash, old)
    assert r["ok"] is False and r["version"] == 3 and _rctl(flash) == 30000
    assert r["details"] == ["refused: signature: timestamp.json: version 2 is older than the trusted 3 "
                            "(rollback attack)"]
    again = _install(flash, _bundle(3, rctl=22222))          # the same version signed again
    assert again["ok"] is False and "bundle.version: 3 is not newer than the installed 3" in again["details"][0]
    assert _rctl(flash) == 30000
