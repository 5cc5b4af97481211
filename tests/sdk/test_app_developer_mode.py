"""Developer mode on real MicroPython: MicroPython's own mip installs an unsigned app from the
cloud's development index (the layout `mpremote mip install --index URL` reads too) into lib/;
the Apps menu lists it and it starts only while config/terminal.json says developer_mode, which
only the operator's signed parameter bundle may set; the Ready screen shows the mode."""
import base64
import json
import os
import shutil
import urllib.request

import pytest

from cloud.appstore import package
from tests.sdk import sandbox_mp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _post(url, body, headers=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tmp_path_factory.mktemp("devindex")
    srv = CloudServer(Settings(data_dir=str(tmp / "cloud"), port=0, bootstrap_admin_password="dev-index-1")).start()
    try:
        raw = open(package.build(os.path.join(REPO, "apps", "payer"), str(tmp)), "rb").read()
        key = str(tmp / "dev.pem")
        dev = _post(srv.url + "/api/v1/appstore/developers", {"name": "acme", "email": "dev@acme.test",
                                                               "public_key": package.new_key(key)})
        _post(srv.url + "/api/v1/appstore/packages",
              {"package": base64.b64encode(raw).decode(),
               "signature": base64.b64encode(package.developer_sign(raw, "acme", key)).decode()},
              {"X-Developer-Token": dev["token"]})
        yield srv.url + "/mip"
    finally:
        srv.stop()


def _flash(tmp_path, developer_mode):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "terminal.json").write_text(json.dumps({"developer_mode": developer_mode}))
    return tmp_path


LIST = """
import mip
mip.install("payer", index=%r, target="lib")
out("lib", sorted(__import__("os").listdir("lib/payer")))
from pos.platform import runtime
out("listed", [(d, m.get("dev", False)) for d, m in runtime.installed(1)])
try:
    st.apply(runtime.start("lib/payer"))
    out("screen", screen())
except runtime.AppError as e:
    out("refused", e)
from pos.app.shell import Ready
c.seen = []
Ready("SHOP").draw(c)
out("ready", "DEVELOPER MODE" in c.seen, "SHOP" in c.seen)
"""


@pytest.mark.parametrize("mode", [True, False])
def test_mip_installs_an_unsigned_app_that_runs_only_in_developer_mode(tmp_path, index, mode):
    flash = _flash(tmp_path, mode)
    out = sandbox_mp.run(flash, LIST % index, heap="512K")
    assert out[0] == "lib ['app.json', 'main.mpy']"          # fetched by mip from the index
    if mode:
        assert out[1] == "listed [('lib/payer', True)]"
        assert out[2].startswith("screen") and "PAYER" in out[2]
    else:
        assert out[1] == "listed []"
        assert out[2] == "refused unsigned app: developer mode is off"
    assert out[3] == "ready %s True" % mode                   # the Ready screen says so, only then
    assert not os.path.exists(flash / "apps")                 # nothing signed was touched
    shutil.rmtree(flash / "lib")


def test_developer_mode_is_a_checked_parameter(tmp_path):
    shutil.copytree(os.path.join(REPO, "firmware", "config"), tmp_path / "config")
    out = sandbox_mp.run(tmp_path, """
from pos.tms import params
for v in (True, "yes"):
    try:
        files = params.validate({"version": 1, "files": {"terminal.json": {"developer_mode": v}}})
        out("ok", files["terminal.json"]["developer_mode"])
    except params.ParamsError as e:
        out("refused", e)
""", heap="512K")
    assert out[0] == "ok True"
    assert out[1].startswith("refused") and "developer_mode" in out[1] and "want true or false" in out[1]
