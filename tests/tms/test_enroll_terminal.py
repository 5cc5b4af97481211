"""Enrollment done at the counter: a supervisor opens Settings > Cloud enrollment on the virtual
terminal (frozen firmware, product heap), types the activation code on the keypad or scans the
console's QR with the scanner model; the terminal calls the real cloud service itself (HTTPS
with the TEST CA pinned), stores its identity, starts the management agent (the cloud sees it
poll), and says clearly why when it does not (code refused, cloud unreachable, impostor
certificate) with nothing stored."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from host_sim import fleet
from host_sim.rig import Rig

PASSWORD = "enroll-test-1"
ZBAR = shutil.which("zbarimg")


def _cloud(tmp, tls=True, poll_s=2):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    from cloud import tls as cloud_tls
    kw = {}
    if tls:
        kw = {"tls_cert": cloud_tls.TEST_SERVER_CERT, "tls_key": cloud_tls.TEST_SERVER_KEY}
    return CloudServer(Settings(data_dir=os.path.join(tmp, "cloud"), port=0, ddi_poll_s=poll_s,
                                bootstrap_admin_password=PASSWORD, **kw)).start()


@pytest.fixture(scope="module")
def stack():
    """A TLS cloud and a terminal that knows the cloud's address and CA but is not enrolled."""
    tmp = tempfile.mkdtemp(prefix="smartpos-enroll-")
    cloud = _cloud(tmp)
    rig = Rig(before_boot=lambda r: fleet.write_cloud_config(r.flash_dir, cloud.url))
    try:
        rig.start()
        yield cloud, rig
    finally:
        rig.stop()
        cloud.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _serial(rig):
    return rig.board.uid.upper()


def _open_enrollment(rig):
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("Settings")
    rig.keys(["8"])                       # Settings
    rig.wait_text("Cloud enrollment")
    rig.keys(["4"])                       # Cloud enrollment: a supervisor's PIN first
    rig.wait_text("PIN")
    rig.keys(list("2222") + ["ENTER"])
    rig.wait_text("activation code")


def _flash_state(rig):
    d = rig.board.flash_dir
    with open(os.path.join(d, "config", "cloud.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(d, "keystore.bin"), "rb") as f:
        store = f.read()
    return cfg, store


def _terminal_row(cloud, serial):
    tok = fleet._call(cloud.url, "POST", "/api/v1/auth/login", {"username": "admin", "password": PASSWORD})["token"]
    return fleet._call(cloud.url, "GET", "/api/v1/terminals?q=" + serial, token=tok)[0]


def test_refused_code_then_typed_code_enrolls_and_agent_polls(stack):
    cloud, rig = stack
    serial = _serial(rig)
    before = _flash_state(rig)
    assert "controller_id" not in before[0]

    # a code of the right shape that the cloud never issued: refused, nothing stored
    fleet.register(cloud.url, PASSWORD, serial=serial)
    _open_enrollment(rig)
    rig.keys(list("000011112222") + ["ENTER"])
    text = rig.wait_text("code refused", timeout=60)
    assert "expired" in text and "Ask for a new code" in text
    assert _flash_state(rig) == before

    # too short: said at once, no request
    rig.keys(list("1234") + ["ENTER"])
    rig.wait_text("The code has 12 digits")
    rig.keys(["CLEAR"] * 4)

    # the real code, typed: enrolled, identity stored, management agent on
    code = fleet.register(cloud.url, PASSWORD, serial=serial)["activation_code"]
    rig.keys([k for k in code if k.isdigit()] + ["ENTER"])
    text = rig.wait_text("ENROLLED", timeout=60)
    assert serial in text and "Management starts at restart" in text
    cfg, store = _flash_state(rig)
    assert cfg["controller_id"] == serial and cfg["tenant"] == "default" and cfg["url"] == cloud.url
    assert store != before[1]                                   # the token was sealed into the store
    assert "target_token" not in json.dumps(cfg) and not os.path.exists(os.path.join(rig.board.flash_dir, "keys.kld"))
    m = rig.board.mark()
    rig.keys(["ENTER"])                                         # restart: the agent starts at boot
    rig.board.wait_for("smartpos ready", 120, since=m)
    deadline = time.monotonic() + 60                            # the agent polls over TLS on its own
    row = _terminal_row(cloud, serial)
    while row["last_seen_at"] is None and time.monotonic() < deadline:
        time.sleep(0.5)
        row = _terminal_row(cloud, serial)
    assert row["state"] == "enrolled" and row["last_seen_at"] is not None
    rig.wait_text("READY")

    # the same code again (used): refused
    _open_enrollment(rig)
    rig.keys([k for k in code if k.isdigit()] + ["ENTER"])
    rig.wait_text("code refused", timeout=60)
    assert _flash_state(rig)[0] == cfg
    rig.home()


@pytest.mark.skipif(ZBAR is None, reason="zbarimg is not installed (apt install zbar-tools)")
def test_console_qr_scanned_reenrolls(stack, tmp_path):
    """The activation answer's QR (what the console shows) read by a camera decoder and fed to
    the terminal's scanner model: the terminal re-enrolls with a new TargetToken."""
    cloud, rig = stack
    serial = _serial(rig)
    _, store_before = _flash_state(rig)
    act = fleet.register(cloud.url, PASSWORD, serial=serial)
    assert act["activation_qr"].startswith("data:image/png;base64,")
    png = tmp_path / "qr.png"
    png.write_bytes(base64.b64decode(act["activation_qr"].split(",", 1)[1]))
    scanned = subprocess.run([ZBAR, "--raw", "-q", str(png)], capture_output=True, text=True).stdout.strip()
    assert scanned == act["activation_code"].replace("-", "")
    _open_enrollment(rig)
    rig.board.devices["scanner"].scan("WALLET-OK-000001")      # another code first: refused on screen
    rig.wait_text("Not an activation code")
    rig.board.devices["scanner"].scan(scanned)
    rig.wait_text("ENROLLED", timeout=60)
    cfg, store = _flash_state(rig)
    assert cfg["controller_id"] == serial and store != store_before
    m = rig.board.mark()
    rig.keys(["ENTER"])
    rig.board.wait_for("smartpos ready", 120, since=m)
    rig.wait_text("READY")


def test_unreachable_and_impostor_clouds_store_nothing(stack):
    """The cloud's address answering nothing, then an impostor with a certificate from another
    CA at that address: clear messages, nothing stored."""
    from cloud import tls as cloud_tls
    cloud, rig = stack
    d = rig.board.flash_dir
    before = _flash_state(rig)
    cfg_path = os.path.join(d, "config", "cloud.json")
    tmp = tempfile.mkdtemp(prefix="smartpos-impostor-")
    impostor = None
    try:
        # nothing listens on this port
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
        s.close()
        with open(cfg_path, "w") as f:
            json.dump(dict(before[0], url="https://127.0.0.1:%d" % dead), f)
        _open_enrollment(rig)
        rig.keys(list("123412341234") + ["ENTER"])
        text = rig.wait_text("cloud unreachable", timeout=60)
        assert _flash_state(rig)[1] == before[1]

        # an impostor: same host and a valid-looking certificate, but from another CA
        p = cloud_tls.make_test_pki(os.path.join(tmp, "pki"))
        from cloud.server import CloudServer
        from cloud.settings import Settings
        impostor = CloudServer(Settings(data_dir=os.path.join(tmp, "cloud"), port=0,
                                        bootstrap_admin_password=PASSWORD,
                                        tls_cert=p["server.pem"], tls_key=p["server.key"])).start()
        code = fleet._call(impostor.url, "POST", "/api/v1/auth/login",
                           {"username": "admin", "password": PASSWORD}, ca=p["ca.pem"])
        assert code["token"]                                   # it is a working service, just not ours
        with open(cfg_path, "w") as f:
            json.dump(dict(before[0], url=impostor.url), f)
        rig.keys(["CLEAR"] * 12 + list("123412341234") + ["ENTER"])
        text = rig.wait_text("cloud not trusted", timeout=60)
        assert "pinned" in text and "unreachable" not in text
        assert _flash_state(rig)[1] == before[1]
    finally:
        with open(cfg_path, "w") as f:
            json.dump(before[0], f)
        if impostor is not None:
            impostor.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        rig.home()
