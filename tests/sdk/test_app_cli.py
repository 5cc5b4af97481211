"""`smartpos app build | key | sign`: the package holds app.json (entry compiled) and the .mpy
mpy-cross made, the signature is TUF targets metadata that python-tuf verifies with the
developer's key over the package's length and SHA-256; bad input is refused with a reason."""
import hashlib
import json
import os
import shutil

from securesystemslib.signer import SSlibKey
from tuf.api.metadata import Metadata

from cloud.appstore import package
from smartpos.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_build_key_sign(tmp_path, capsys):
    dist = tmp_path / "dist"
    assert main(["app", "build", os.path.join(REPO, "apps", "payer"), "--out", str(dist)]) == 0
    printed = capsys.readouterr().out
    assert "payer 1.0.0" in printed and "(app.json, main.mpy)" in printed
    raw = (dist / "payer-1.0.0.app").read_bytes()
    files = dict(package.members(raw))
    assert sorted(files) == ["app.json", "main.mpy", "sw-description"]
    assert files["main.mpy"][0:1] == b"M"                       # a .mpy header, not source
    assert json.loads(files["app.json"])["entry"] == "main.mpy"
    key = tmp_path / "acme.pem"
    assert main(["app", "key", str(key)]) == 0
    assert main(["app", "key", str(key)]) == 2                  # never overwritten
    assert main(["app", "sign", str(dist / "payer-1.0.0.app"), "--key", str(key), "--developer", "acme"]) == 0
    md = Metadata.from_bytes((dist / "payer-1.0.0.app.dev.json").read_bytes())
    pub = package.public_key((tmp_path / "acme.pem.pub").read_text())
    assert isinstance(pub, SSlibKey)
    pub.verify_signature(md.signatures[pub.keyid], md.signed_bytes)
    tf = md.signed.targets["payer-1.0.0.app"]
    assert tf.length == len(raw) and tf.hashes["sha256"] == hashlib.sha256(raw).hexdigest()
    assert tf.unrecognized_fields["custom"] == {"kind": "app", "id": "payer", "version": "1.0.0"}


def test_bad_input_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(os.path.join(REPO, "apps", "payer"), bad)
    m = json.loads((bad / "app.json").read_text())
    (bad / "app.json").write_text(json.dumps(dict(m, permissions=["payments", "root"])))
    assert main(["app", "build", str(bad), "--out", str(tmp_path / "d")]) == 2
    assert "unknown permission 'root'" in capsys.readouterr().err
    (bad / "app.json").write_text(json.dumps(m))
    (bad / "main.py").write_text("def start(:\n")
    assert main(["app", "build", str(bad), "--out", str(tmp_path / "d")]) == 2
    assert "mpy-cross main.py" in capsys.readouterr().err
    assert main(["app", "sign", str(tmp_path / "none.app"), "--key", "k.pem", "--developer", "acme"]) == 2
