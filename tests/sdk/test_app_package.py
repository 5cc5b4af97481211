"""App packages and their trust on real MicroPython with the board's heap: a package built by
`smartpos app build`, signed by its developer and countersigned by the store, installs and
starts from .mpy; a tampered byte, a developer signature by another key and a manifest asking
for a permission the store did not grant are each refused with nothing changed on flash; an
update keeps the previous version until the new one starts and gives way to it when it does
not; uninstall takes the app's storage too."""
import json
import os
import shutil
import time

import pytest

from cloud.appstore import package
from cloud.tms.release import load_keys
from tests.sdk import sandbox_mp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAYER = os.path.join(REPO, "apps", "payer")
GRANTED = ["payments", "printer", "storage"]


class Maker:
    """Packages of apps/payer in any version, signed as a store and a developer would."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.key = os.path.join(tmp, "dev.pem")
        self.pub = package.new_key(self.key)
        self.signers = load_keys()
        self.n = 0

    def package(self, version, main=None):
        self.n += 1
        src = os.path.join(self.tmp, "src-%s-%d" % (version, self.n))
        shutil.copytree(PAYER, src)
        m = json.load(open(os.path.join(src, "app.json")))
        m["version"] = version
        json.dump(m, open(os.path.join(src, "app.json"), "w"))
        if main is not None:
            open(os.path.join(src, "main.py"), "w").write(main)
        with open(package.build(src, src + "-out"), "rb") as f:
            return f.read()

    def delivery(self, raw, granted=GRANTED, dev_key=None, check=True):
        self.n += 1
        md = package.developer_sign(raw, "acme", dev_key or self.key)
        sign = package.countersign if check else package.store_metadata
        return package.delivery(raw, sign(raw, "acme", self.pub, md, granted, self.n, self.signers))


@pytest.fixture(scope="module")
def maker(tmp_path_factory):
    return Maker(str(tmp_path_factory.mktemp("apppkg")))


def _flash(tmp_path, deliveries):
    (tmp_path / "apps").mkdir()
    (tmp_path / "config").mkdir()
    shutil.copy(os.path.join(REPO, "firmware", "config", "tuf_root.json"), tmp_path / "config")
    for name, data in deliveries.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


INSTALL = """
import os, time
from pos.platform import install


def attempt(name):
    try:
        m = install.install(name, %d)
        out(name, "installed", m["id"], m["version"], m["entry"])
    except install.InstallError as e:
        out(name, "refused", e)
    out(name, "flash", sorted(os.listdir("apps")), sorted(os.listdir(".")))
"""


def test_signed_package_installs_and_runs_from_mpy(tmp_path, maker):
    raw = maker.package("1.0.0")
    good = maker.delivery(raw)
    flash = _flash(tmp_path, {"good.swu": good})
    out = sandbox_mp.run(flash, INSTALL % int(time.time()) + """
attempt("good.swu")
start("payer")
out("screen", screen())
""")
    assert out[0] == "good.swu installed payer 1.0.0 main.mpy"
    assert out[1].startswith("good.swu flash ['payer']")
    assert "PAYER" in out[2] and "ENTER pay" in out[2]
    assert sorted(os.listdir(flash / "apps" / "payer")) == ["app.json", "main.mpy"]
    assert not (flash / "app.pkg").exists()             # the unpacked package is not kept
    assert json.loads((flash / "config" / "app_trust.json").read_text())["payer"]["targets"] == maker.n


def test_tampered_wrongly_signed_and_ungranted_packages_are_refused(tmp_path, maker):
    raw = maker.package("1.0.0")
    good = maker.delivery(raw)
    # one byte of the package (inside its compiled module, near its end) flipped
    at = good.rindex(b"TRAILER!!!") - 200
    tampered = good[:at] + bytes([good[at] ^ 0x01]) + good[at + 1:]
    other = os.path.join(maker.tmp, "other.pem")
    package.new_key(other)
    wrong = maker.delivery(raw, dev_key=other, check=False)      # the developer's role signed by another key
    ungranted = maker.delivery(raw, granted=["payments", "printer"], check=False)
    flash = _flash(tmp_path, {"tampered.swu": tampered, "wrong.swu": wrong, "ungranted.swu": ungranted})
    out = sandbox_mp.run(flash, INSTALL % int(time.time()) + """
attempt("tampered.swu")
attempt("wrong.swu")
attempt("ungranted.swu")
""")
    assert out[0] == ("tampered.swu refused refused: payer-1.0.0.app does not match its signed length "
                      "and SHA-256 (tampered)")
    assert out[2] == "wrong.swu refused refused: dev-acme.json: bad signature (0 of 1 required dev-acme keys)"
    assert out[4] == "ungranted.swu refused app.json asks for permission storage, which the store did not grant"
    for line in (out[1], out[3], out[5]):          # nothing installed, nothing left behind
        assert line.split(" ", 1)[1].startswith("flash [] ") and "app.pkg" not in line
    assert os.listdir(flash / "apps") == [] and os.listdir(flash / "appsnew") == []
    assert not (flash / "config" / "app_trust.json").exists()   # no metadata version taken from them


def test_update_keeps_previous_until_started_and_uninstall_takes_storage(tmp_path, maker):
    v1 = maker.delivery(maker.package("1.0.0"))
    v2 = maker.delivery(maker.package("1.0.1"))
    broken = maker.delivery(maker.package("1.0.2", main="raise ValueError('broken release')\n"))
    old = maker.delivery(maker.package("1.0.0"))        # newer metadata, older app
    flash = _flash(tmp_path, {"v1.swu": v1, "v2.swu": v2, "broken.swu": broken, "old.swu": old})
    # four installs and three starts with the firmware compiled from source into the heap: the
    # product heap of this port (the board has pos/ frozen, out of its heap)
    out = sandbox_mp.run(flash, INSTALL % int(time.time()) + """
from pos.platform import runtime
attempt("v1.swu")
start("payer")
st.key("CANCEL")
attempt("v2.swu")
out("kept", os.listdir("appsprev"), install.installed_version("payer"))
start("payer")
out("after start", os.listdir("appsprev"), install.installed_version("payer"))
st.key("CANCEL")
attempt("v1.swu")
attempt("old.swu")
attempt("broken.swu")
try:
    start("payer")
except runtime.AppStopped as e:
    out("broken start", e)
out("now", os.listdir("appsprev"), install.installed_version("payer"))
os.mkdir("appdata") if "appdata" not in os.listdir(".") else None
os.mkdir("appdata/payer")
open("appdata/payer/count", "w").write("3")
install.uninstall("payer")
out("uninstalled", os.listdir("apps"), os.listdir("appdata"), os.listdir("appsprev"))
""", heap="320K")
    assert "v2.swu installed payer 1.0.1 main.mpy" in out
    assert "kept ['payer'] 1.0.1" in out                 # 1.0.0 kept until 1.0.1 has started
    assert "after start [] 1.0.1" in out
    assert "v1.swu refused refused: timestamp.json: version %d is older than the trusted %d (rollback attack)" % (
        maker.n - 6, maker.n - 4) in out                # a replayed delivery: its metadata is older
    assert "old.swu refused payer 1.0.0 is not newer than the installed 1.0.1" in out
    assert "broken.swu installed payer 1.0.2 main.mpy" in out
    assert ("broken start payer stopped: raised ValueError; the previous version is back") in out
    assert "now [] 1.0.1" in out
    assert "uninstalled [] [] []" in out                   # its storage gone with it
    crash = json.loads((flash / "appcrash.log").read_text())   # the runtime's log, outside any app's storage
    assert (crash["app"], crash["version"], crash["why"]) == ("payer", "1.0.2", "raised ValueError")
