"""Enrollment done at the counter: a supervisor opens Settings > Cloud enrollment on the virtual
terminal (frozen firmware, product heap), types the activation code on the keypad or scans the
console's QR with the scanner model; the terminal calls the real cloud service itself, stores
its identity, restarts and its management agent polls (the cloud sees it), and says clearly
why when it does not (code refused, cloud unreachable) with nothing stored."""
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
def cloud():
    tmp = tempfile.mkdtemp(prefix="smartpos-enroll-")
    srv = _cloud(tmp, tls=False)
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def stack(cloud):
    """The cloud and a fresh terminal that knows the cloud's address but is not enrolled.  Plain
    http: at the product heap the whole counter leaves no 3 KB block for a TLS context at Ready
    (docs/tms.md, "TLS and the heap"); TLS and the pinned CA are tested at the firmware's
    module level (test_cloud_tls.py)."""
    rig = Rig(before_boot=lambda r: fleet.write_cloud_config(r.flash_dir, cloud.url))
    try:
        rig.start()
        yield cloud, rig
    finally:
        rig.stop()


def _serial(rig):
    return rig.board.uid.upper()


def _open_enrollment(rig):
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("Settings")
    rig.keys(["8"])                       # Settings
    rig.wait_text("Cloud enrollment")
    rig.keys(["4"])                       # Cloud enrollment: a supervisor's PIN first
    try:
        rig.wait_text("PIN")
    except TimeoutError as exc:
        raise AssertionError("%s\nboard console:\n%s" % (exc, rig.board.console()[-2500:]))
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


def _wait_polled(cloud, serial):
    deadline = time.monotonic() + 60                            # the agent polls on its own
    row = _terminal_row(cloud, serial)
    while row["last_seen_at"] is None and time.monotonic() < deadline:
        time.sleep(0.5)
        row = _terminal_row(cloud, serial)
    return row


def test_refused_unreachable_then_typed_code_enrolls_and_agent_polls(stack):
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

    # the cloud's address answering nothing: said so, nothing stored
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    cfg_path = os.path.join(rig.board.flash_dir, "config", "cloud.json")
    with open(cfg_path, "w") as f:
        json.dump(dict(before[0], url="http://127.0.0.1:%d" % dead), f)
    rig.keys(list("123412341234") + ["ENTER"])
    text = rig.wait_text("cloud unreachable", timeout=60)
    assert "refused" in text or "cannot connect" in text
    assert _flash_state(rig)[1] == before[1]
    with open(cfg_path, "w") as f:
        json.dump(before[0], f)

    # the real code, typed: enrolled, identity stored
    code = fleet.register(cloud.url, PASSWORD, serial=serial)["activation_code"]
    rig.keys(["CLEAR"] * 12 + [k for k in code if k.isdigit()] + ["ENTER"])
    text = rig.wait_text("ENROLLED", timeout=60)
    assert serial in text and "Management starts at restart" in text
    cfg, store = _flash_state(rig)
    assert cfg["controller_id"] == serial and cfg["tenant"] == "default" and cfg["url"] == cloud.url
    assert store != before[1]                                   # the token was sealed into the store
    assert "target_token" not in json.dumps(cfg) and not os.path.exists(os.path.join(rig.board.flash_dir, "keys.kld"))
    assert _terminal_row(cloud, serial)["last_seen_at"] is None

    # ENTER restarts; the management agent polls the cloud with the stored identity
    m = rig.board.mark()
    rig.keys(["ENTER"])
    rig.board.wait_for("smartpos ready", 120, since=m)
    row = _wait_polled(cloud, serial)
    assert row["state"] == "enrolled" and row["last_seen_at"] is not None
    rig.wait_text("READY")

    # the code was single use: the cloud refuses it now
    with pytest.raises(fleet.FleetError, match="403"):
        fleet._call(cloud.url, "POST", "/api/v1/enroll", {"activation_code": code, "serial": serial})


@pytest.mark.skipif(ZBAR is None, reason="zbarimg is not installed (apt install zbar-tools)")
def test_console_qr_scanned_enrolls(stack, tmp_path):
    """The activation answer's QR (what the console shows) read by a camera decoder and fed to
    the terminal's scanner model: the terminal enrolls, restarts and polls."""
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
    assert _wait_polled(cloud, serial)["last_seen_at"] is not None


def test_terminal_enrolled_by_the_sim_polls_over_tls():
    """`smartpos sim`'s default path: the cloud over HTTPS with the TEST certificate, the terminal
    enrolled from the host side with the TEST CA pinned; its agent polls over TLS (the context
    made at boot) and sends its attributes."""
    with fleet.ManagedTerminal(poll_s=2, tls=True) as mt:
        assert mt.cloud.url.startswith("https://")
        deadline = time.monotonic() + 60
        while not mt.attributes() and time.monotonic() < deadline:
            time.sleep(0.5)
        attrs = mt.attributes()
        assert attrs["serial"] == mt.board.uid.upper() and int(attrs["heap_free"]) > 0
        assert os.path.exists(os.path.join(mt.board.flash_dir, "config", "cloud_ca.der"))
        assert "cloud CA unusable" not in mt.board.console()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(ZBAR is None or not os.path.exists(CHROMIUM), reason="needs zbarimg and Debian chromium")
def test_operator_console_qr_in_chromium_enrolls_the_terminal(stack, tmp_path):
    """The operator registers the terminal in the console (headless Chromium), the console shows
    the code and its QR; the QR as the browser draws it is read by a camera decoder and scanned
    at the terminal, which enrolls."""
    from playwright.sync_api import sync_playwright
    cloud, rig = stack
    serial = _serial(rig)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto(cloud.url + "/")
            page.fill("#username", "admin")
            page.fill("#password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#register-form", state="visible", timeout=30000)
            page.fill("#register-form [name=serial]", serial)
            page.click("#register-form button[type=submit]")
            qr = page.wait_for_selector("#activation-qr", state="visible", timeout=30000)
            # decoded and ready to paint (`complete` alone can come before the first paint: one
            # full run's screenshot held no code), and the fleet table's reload after the
            # registration done, so the layout no longer moves under the screenshot
            page.evaluate("document.getElementById('activation-qr').decode()")
            page.wait_for_load_state("networkidle")
            shown = page.text_content("#activation")
            png = tmp_path / "console-qr.png"
            scanned = ""
            for _ in range(3):          # as a camera would: another frame when one is not read
                qr.screenshot(path=str(png))
                scanned = subprocess.run([ZBAR, "--raw", "-q", str(png)], capture_output=True,
                                         text=True).stdout.strip()
                if scanned:
                    break
        finally:
            browser.close()
    assert len(scanned) == 12 and scanned.isdigit()
    assert "Activation code for %s: %s-%s-%s" % (serial, scanned[:4], scanned[4:8], scanned[8:]) in shown
    _open_enrollment(rig)
    rig.board.devices["scanner"].scan(scanned)
    text = rig.wait_text("ENROLLED", timeout=60)
    assert serial in text
    assert _terminal_row(cloud, serial)["state"] == "enrolled"


def test_power_cut_at_every_write_of_an_enrollment_leaves_a_working_terminal(cloud):
    """Power cut at each flash operation the enrollment makes (key store re-sealed, cloud.json
    written; each torn halfway): cloud.json is the old file or the new one, never half, and the
    terminal boots to Ready with its key store open; a new code then enrolls it.  (Between
    rounds cloud.json is set back to the address alone: an enrolled terminal's heap has no
    2.5 KB block for the PIN prompt's module, docs/tms.md.)"""
    rig = Rig(power_cuts=True, before_boot=lambda r: fleet.write_cloud_config(r.flash_dir, cloud.url))
    cfg_path = None
    with rig:
        serial = _serial(rig)
        board = rig.board
        cfg_path = os.path.join(board.flash_dir, "config", "cloud.json")

        def enroll_with_new_code(arm=None):
            code = fleet.register(cloud.url, PASSWORD, serial=serial)["activation_code"]
            _open_enrollment(rig)
            base = len(board.flash_ops())
            if arm is not None:
                board.arm_power_cut(base + arm, "torn")
            rig.keys([k for k in code if k.isdigit()] + ["ENTER"])
            return base

        def mine(ops):
            return [op for op in ops if "keystore" in op[2] or "cloud.json" in op[2]]

        def unenrolled_boot():
            if board.powered:
                board.power_cut()
            fleet.write_cloud_config(board.flash_dir, cloud.url)
            rig.power_cycle()
            assert "KEY STORE REFUSED" not in rig.display.text()

        # the reference: an enrollment without a cut, and its flash operations
        base = enroll_with_new_code()
        rig.wait_text("ENROLLED", timeout=60)
        ref = mine(board.flash_ops()[base:])
        assert [(op[1], op[2].rsplit("/", 1)[-1]) for op in ref] == [
            ("write", "keystore.bin.tmp"), ("rename", "keystore.bin"),
            ("write", "cloud.json.tmp"), ("rename", "cloud.json")], ref
        unenrolled_boot()
        for op in ref:
            enroll_with_new_code(arm=op[0] - base)
            assert board.wait_power_cut(60), "no cut at %s" % (op,)
            cut = board.flash_ops()[-1]
            assert (cut[1], cut[2]) == (op[1], op[2]), (cut, op)
            with open(cfg_path) as f:
                cfg = json.load(f)                              # whole: the old file or the new one
            # every cut lands before the new file is in place (a cut rename did not happen)
            assert cfg == {"url": cloud.url}
            unenrolled_boot()                                   # key store opens after each cut
        # and a fresh code still enrolls it, the agent polling after the restart
        enroll_with_new_code()
        rig.wait_text("ENROLLED", timeout=60)
        m = board.mark()
        rig.keys(["ENTER"])
        board.wait_for("smartpos ready", 120, since=m)
        assert _wait_polled(cloud, serial)["last_seen_at"] is not None
