"""The operator console in headless Chromium (Debian's chromium, driven by Playwright).

Every step is done on the page as an operator would (sign in, register, edit a template, push,
group, upload a release, start a rollout); the terminals are a real virtual terminal enrolled
in the cloud (parameter push, diagnostics) and lightweight DDI clients (enrollment, rollout
fleet).  Waits are on what the page shows, with generous ceilings; nothing sleeps."""
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
PASSWORD = "console-test-1"
WAIT_MS = 90000


class DdiTerminal:
    """A lightweight DDI client (as in cloud/loadtest.py): enrolls with an activation code, then
    polls and answers deployments when told to, succeeding or failing on purpose."""

    def __init__(self, base, serial):
        self.base, self.serial = base, serial
        self.root = self.token = None

    def _call(self, method, url, body=None, auth=True):
        req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", "TargetToken " + self.token)
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
        return json.loads(data) if data else None

    def enroll(self, code):
        ident = self._call("POST", self.base + "/api/v1/enroll", {"activation_code": code, "serial": self.serial,
                                                                   "model": "ddi-sim"}, auth=False)
        self.token = ident["target_token"]
        self.root = "%s/%s/controller/v1/%s" % (self.base, ident["tenant"], ident["controller_id"])
        return ident

    def poll(self, succeed=True):
        """One poll: sends config data when asked, runs an offered deployment to its end.
        Returns the action id it closed, or None."""
        p = self._call("GET", self.root)
        links = p.get("_links", {})
        if "configData" in links:
            self._call("PUT", links["configData"]["href"], {"mode": "merge", "data": {
                "model": "ddi-sim", "firmware": "1.0.0"}})
        if "deploymentBase" not in links:
            return None
        d = self._call("GET", links["deploymentBase"]["href"])
        aid = d["id"]
        fb = self.root + "/deploymentBase/%s/feedback" % aid
        self._call("POST", fb, {"status": {"execution": "proceeding", "result": {"finished": "none"}}})
        self._call("POST", fb, {"status": {"execution": "closed", "result": {
            "finished": "success" if succeed else "failure"},
            "details": ["installed"] if succeed else ["self-test failed: display"]}})
        return aid


def _browser():
    from playwright.sync_api import sync_playwright
    p = sync_playwright().start()
    browser = p.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])
    return p, browser


def _sign_in(page, url):
    page.goto(url)
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app-view:not([hidden])", timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser():
    p, b = _browser()
    yield b
    b.close()
    p.stop()


@pytest.fixture
def cloud():
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tempfile.mkdtemp(prefix="smartpos-console-")
    srv = CloudServer(Settings(data_dir=tmp, port=0, ddi_poll_s=5, bootstrap_admin_password=PASSWORD)).start()
    yield srv
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def page(browser, cloud):
    pg = browser.new_page()
    _sign_in(pg, cloud.url + "/")
    yield pg
    pg.close()


def _no_error(page):
    assert page.text_content("#error") == ""


def test_a_new_operator_is_told_what_is_missing(cloud, page):
    """A fresh service: empty tables say what to do first, and a rollout cannot be started
    before a release and a group exist (the form names what is missing instead of posting)."""
    page.wait_for_selector("#fleet tfoot td.empty", timeout=WAIT_MS)
    assert "No terminals yet" in page.text_content("#fleet tfoot")
    assert page.locator("#fleet tbody tr").count() == 0
    page.click("nav [data-tab=rollouts]")
    page.wait_for_selector("#rollouts tfoot td.empty", timeout=WAIT_MS)
    release = page.locator("#rollout-form [name=module_id] option")
    assert release.count() == 1 and release.first.text_content() == "no release uploaded yet"
    assert page.locator("#rollout-form [name=group_id] option").first.text_content() == "no group yet"
    page.fill("#rollout-form [name=name]", "too early")
    assert page.evaluate("document.getElementById('rollout-form').checkValidity()") is False
    page.click("nav [data-tab=merchants]")
    page.wait_for_selector("#merchants tfoot td.empty", timeout=WAIT_MS)
    # once there is a row, the footer goes
    page.fill("#merchant-form [name=name]", "Corner Shop")
    page.click("#merchant-form button[type=submit]")
    page.wait_for_selector("#merchants tbody tr", timeout=WAIT_MS)
    assert page.locator("#merchants tfoot").count() == 0
    assert page.locator("#store-form [name=merchant_id] option").first.text_content() == "Corner Shop"
    _no_error(page)


def test_enrollment_from_the_console(cloud, page):
    page.fill("#register-form [name=serial]", "CON-0001")
    page.fill("#register-form [name=model]", "smartpos S1")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#activation:not([hidden])", timeout=WAIT_MS)
    shown = page.text_content("#activation")
    assert "CON-0001" in shown
    code = shown.split(": ", 1)[1].split()[0]
    assert len(code) == 14 and code[4] == "-" and code[9] == "-"
    row = page.locator("#fleet tbody tr", has_text="CON-0001")
    assert "registered (code pending)" in row.text_content()
    # the terminal types the code: it gets its identity and starts polling
    term = DdiTerminal(cloud.url, "CON-0001")
    ident = term.enroll(code)
    assert ident["controller_id"] == "CON-0001"
    term.poll()
    page.fill("#fleet-filter", "CON-")              # the list reloads on every keystroke
    page.wait_for_function("document.querySelector('#fleet tbody').textContent.includes('online')", timeout=WAIT_MS)
    text = row.text_content()
    assert "enrolled" in text and "online" in text and "1.0.0" in text     # firmware from its config data
    # the same code never works twice
    with pytest.raises(urllib.error.HTTPError) as e:
        DdiTerminal(cloud.url, "CON-0001").enroll(code)
    assert e.value.code == 403
    # filter by firmware version: a version no terminal runs hides it
    page.fill("#fleet-firmware", "9.9.9")
    page.wait_for_function("document.getElementById('fleet-count').textContent === '0 terminal(s)'", timeout=WAIT_MS)
    _no_error(page)


def test_the_virtual_terminal_enrolls_with_the_code_the_page_shows(cloud, page):
    from host_sim.board import VirtualBoard
    from host_sim.fleet import add_token_to_kld
    from host_sim.rig import PRODUCT_HEAP, provision
    page.fill("#register-form [name=serial]", "SIM-PAGE")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#activation:not([hidden])", timeout=WAIT_MS)
    code = page.text_content("#activation").split(": ", 1)[1].split()[0]

    def manufacture(flash_dir):
        # what the terminal does with the typed code: enroll, keep its identity and token
        provision(flash_dir, {})
        req = urllib.request.Request(cloud.url + "/api/v1/enroll", method="POST", data=json.dumps(
            {"activation_code": code, "serial": "SIM-PAGE"}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            ident = json.loads(r.read())
        os.makedirs(os.path.join(flash_dir, "config"), exist_ok=True)
        with open(os.path.join(flash_dir, "config", "cloud.json"), "w") as f:
            json.dump({"url": cloud.url, "tenant": ident["tenant"], "controller_id": ident["controller_id"]}, f)
        add_token_to_kld(os.path.join(flash_dir, "keys.kld"), ident["target_token"])
    board = VirtualBoard(heap=PRODUCT_HEAP, firmware="frozen", provision=manufacture, pty=False)
    board.start()
    try:
        board.wait_for("smartpos ready", 60)
        page.fill("#fleet-filter", "SIM-PAGE")
        # the terminal polls on its own and sends its config data: the page shows it online with its versions
        page.wait_for_function("(() => { const t = document.querySelector('#fleet tbody').textContent;"
                               " return t.includes('online') && t.includes('0.1.0'); })()", timeout=WAIT_MS)
        assert "enrolled" in page.locator("#fleet tbody tr", has_text="SIM-PAGE").text_content()
        page.click("#fleet tbody a.link:text('SIM-PAGE')")
        page.wait_for_function("document.querySelector('#term-attrs tbody').textContent.includes('heap_free')",
                               timeout=WAIT_MS)
        assert "micropython" in page.text_content("#term-attrs tbody")
    finally:
        board.stop()
    _no_error(page)


def test_errors_are_shown(cloud, page):
    page.fill("#register-form [name=serial]", "CON-0002")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#activation:not([hidden])", timeout=WAIT_MS)
    page.fill("#register-form [name=serial]", "CON-0002")
    page.click("#register-form button[type=submit]")
    page.wait_for_function("document.getElementById('error').textContent.includes('already registered')",
                           timeout=WAIT_MS)
    page.click("nav [data-tab=parameters]")
    page.fill("#param-form [name=files]", "{not json")
    page.click("#param-form button[type=submit]")
    page.wait_for_function("document.getElementById('error').textContent.includes('not valid JSON')",
                           timeout=WAIT_MS)


def _enrolled_fleet(cloud, n):
    from host_sim.fleet import _call
    tok = _call(cloud.url, "POST", "/api/v1/auth/login", {"username": "admin", "password": PASSWORD})["token"]
    fleet = []
    for i in range(n):
        code = _call(cloud.url, "POST", "/api/v1/terminals", {"serial": "ROLL-%02d" % i}, token=tok)
        t = DdiTerminal(cloud.url, "ROLL-%02d" % i)
        t.enroll(code["activation_code"])
        t.poll()
        fleet.append(t)
    return fleet


def test_staged_rollout_stops_on_a_failing_terminal(cloud, page):
    fleet = _enrolled_fleet(cloud, 4)
    page.reload()
    page.wait_for_selector("#app-view:not([hidden])", timeout=WAIT_MS)
    page.wait_for_function("document.getElementById('fleet-count').textContent === '4 terminal(s)'", timeout=WAIT_MS)
    # a static group of the four
    page.click("nav [data-tab=groups]")
    page.fill("#group-form [name=name]", "pilot")
    page.click("#group-form button[type=submit]")
    page.wait_for_selector("#group-members:not([hidden])", timeout=WAIT_MS)
    for box in page.locator("#group-member-list input").all():
        box.check()
    page.click("#group-members-save")
    page.wait_for_function("document.querySelector('#groups tbody').textContent.includes('static4')", timeout=WAIT_MS)
    # a dynamic group: every terminal that reports firmware 1.0.0
    page.select_option("#group-form [name=kind]", "dynamic")
    page.fill("#group-form [name=name]", "on 1.0.0")
    page.fill("#group-form [name=firmware]", "1.0.0")
    page.click("#group-form button[type=submit]")
    page.wait_for_function("document.querySelector('#groups tbody').textContent.includes('dynamicfirmware=1.0.04')",
                           timeout=WAIT_MS)
    assert page.is_hidden("#group-form [name=firmware]")          # the form is back to a static group
    # a firmware release uploaded from the page
    page.click("nav [data-tab=releases]")
    page.fill("#release-form [name=version]", "1.0.1")
    page.set_input_files("#release-form [name=files]", files=[
        {"name": "firmware-1.0.1.romfs", "mimeType": "application/octet-stream", "buffer": b"ROMFS" * 1000}])
    page.click("#release-form button[type=submit]")
    page.wait_for_function("document.querySelector('#releases tbody').textContent.includes('firmware-1.0.1.romfs (5000 B')",
                           timeout=WAIT_MS)
    # the rollout: half the group first, stop when more than 30% of the closed actions failed
    page.click("nav [data-tab=rollouts]")
    page.fill("#rollout-form [name=name]", "1.0.1 pilot")
    page.fill("#rollout-form [name=stages]", "50, 100")
    page.fill("#rollout-form [name=error_threshold]", "30")
    page.click("#rollout-form button[type=submit]")
    page.wait_for_selector("#rollout-detail:not([hidden])", timeout=WAIT_MS)
    page.wait_for_function("document.getElementById('rollout-state').textContent === 'running'", timeout=WAIT_MS)
    targets = page.locator("#rollout-targets tbody tr")
    assert targets.count() == 2                      # stage 1: 50% of 4
    assert all("scheduled" in targets.nth(i).text_content() for i in range(2))
    # the stage's terminals poll: the first installs, the second fails its self-test
    assert fleet[0].poll(succeed=True) is not None
    page.wait_for_function("document.querySelector('#rollout-targets tbody').textContent.includes('success')",
                           timeout=WAIT_MS)
    assert fleet[1].poll(succeed=False) is not None
    page.wait_for_function("document.getElementById('rollout-state').textContent === 'stopped'", timeout=WAIT_MS)
    assert "error threshold passed: 1 of 2 closed actions failed (threshold 30%)" in page.text_content("#rollout-reason")
    states = [targets.nth(i).text_content() for i in range(targets.count())]
    assert len(states) == 2 and "success" in states[0] and "failed" in states[1]
    # stage 2 never started: its terminals are offered nothing
    assert fleet[2].poll() is None and fleet[3].poll() is None
    listed = page.locator("#rollouts tbody tr", has_text="1.0.1 pilot").text_content()
    assert "stopped" in listed and "50% / 100%" in listed and "1 of 2" in listed
    # retry: the failed terminal gets a new action; it installs this time and the rollout goes on
    page.click("[data-rollout=retry]")
    page.wait_for_function("document.getElementById('rollout-state').textContent === 'running'", timeout=WAIT_MS)
    assert fleet[1].poll(succeed=True) is not None
    page.wait_for_function("document.querySelector('#rollout-targets tbody').querySelectorAll('tr').length === 4",
                           timeout=WAIT_MS)
    _no_error(page)


@pytest.fixture(scope="module")
def managed():
    from host_sim.fleet import ManagedTerminal
    with ManagedTerminal(poll_s=2, admin_password=PASSWORD, serial="SIM-CONSOLE") as mt:
        yield mt


@pytest.fixture
def managed_page(browser, managed):
    # the managed terminal's cloud serves HTTPS with the TEST certificate, whose TEST CA the
    # terminal pins; this browser does not know that CA
    pg = browser.new_page(ignore_https_errors=True)
    _sign_in(pg, managed.cloud.url + "/")
    yield pg
    pg.close()


def test_parameter_push_reaches_the_terminal(managed, managed_page):
    page = managed_page
    page.click("nav [data-tab=parameters]")
    page.select_option("#param-form [name=scope]", "operator")
    page.fill("#param-form [name=files]", json.dumps({
        "contactless.json": {"aids": {"A0000000031010": {"rctl": 25000}}},
        "terminal.json": {"receipt_header": ["CONSOLE FLEET"]}}))
    page.click("#param-form button[type=submit]")
    page.wait_for_function("document.querySelector('#param-sets tbody').textContent.includes('whole fleet')",
                           timeout=WAIT_MS)
    # a terminal override, then the rendered result for that terminal
    page.select_option("#param-form [name=scope]", "terminal")
    page.select_option("#param-form [name=scope_id]", label="SIM-CONSOLE")
    page.fill("#param-form [name=files]", json.dumps({"terminal.json": {"receipt_footer": ["SEE YOU - LANE 7"]}}))
    page.click("#param-form button[type=submit]")
    page.wait_for_function("document.querySelector('#param-sets tbody').textContent.includes('terminal SIM-CONSOLE')",
                           timeout=WAIT_MS)
    page.select_option("#param-terminal", label="SIM-CONSOLE")
    page.click("#param-render")
    page.wait_for_function("document.getElementById('param-rendered').textContent.includes('SEE YOU - LANE 7')",
                           timeout=WAIT_MS)
    rendered = json.loads(page.text_content("#param-rendered"))
    assert rendered["terminal.json"] == {"receipt_header": ["CONSOLE FLEET"], "receipt_footer": ["SEE YOU - LANE 7"]}
    assert "operator:0 v1" in page.text_content("#param-rendered-sets")
    # push to the terminal and watch the action close on the page
    page.select_option("#param-push-form [name=target]", label="terminal SIM-CONSOLE")
    page.click("#param-push-form button[type=submit]")
    page.wait_for_function("/success|failed/.test(document.querySelector('#param-pushed tbody').textContent)",
                           timeout=WAIT_MS)
    assert "success" in page.text_content("#param-pushed tbody"), page.text_content("#param-pushed tbody")
    assert managed.flash_json("config/contactless.json")["aids"]["A0000000031010"]["rctl"] == 25000
    term = managed.flash_json("config/terminal.json")
    assert term["receipt_header"] == ["CONSOLE FLEET"] and term["receipt_footer"] == ["SEE YOU - LANE 7"]
    _no_error(page)


def test_terminal_detail_with_log_lines_and_a_screenshot(managed, managed_page):
    page = managed_page
    page.click("#fleet tbody a.link:text('SIM-CONSOLE')")
    page.wait_for_selector("#tab-terminal:not([hidden])", timeout=WAIT_MS)
    page.wait_for_function("document.querySelector('#term-attrs tbody').textContent.includes('heap_free')",
                           timeout=WAIT_MS)
    attrs = page.text_content("#term-attrs tbody")
    assert "firmware" in attrs and "micropython" in attrs
    assert "online" in page.text_content("#term-info tbody")
    # log lines on request: the terminal answers at its next poll; what it sends is redacted
    page.click("#diag-logs")
    page.wait_for_selector("#diag-log-lines:not([hidden])", timeout=WAIT_MS)
    lines = page.text_content("#diag-log-lines").splitlines()
    with open(os.path.join(managed.board.flash_dir, "log", "recent.txt")) as f:
        book = f.read().splitlines()
    assert lines and lines == book[-len(lines):], (lines[-3:], book[-3:])    # the terminal's own log book
    assert all(re.match(r"^(DEBUG|INFO|WARN|ERROR) [a-z0-9_]+ ", ln) for ln in lines), lines
    # the lines arrive before the terminal's closing feedback: the state turns to success a poll later
    page.wait_for_function("document.querySelector('#term-diag tbody').textContent.includes('success')",
                           timeout=WAIT_MS)
    # a screenshot of the display: the picture the firmware drew, as the web face renders it
    page.click("#diag-screen")
    page.wait_for_selector("#diag-screenshot:not([hidden])", timeout=WAIT_MS)
    page.wait_for_function("document.getElementById('diag-screenshot').naturalWidth === 240", timeout=WAIT_MS)
    assert page.evaluate("document.getElementById('diag-screenshot').naturalHeight") == 320
    from cloud.tms.diagnostics import DiagnosticRequest
    from sqlalchemy.orm import Session
    with Session(managed.cloud.app.state.engine) as db:
        shot = db.query(DiagnosticRequest).filter_by(what="screen").order_by(DiagnosticRequest.id.desc()).first()
        data = bytes(shot.data)
    assert len(data) == 240 * 320 // 8
    # the body rows as the panel shows them (black ink on white below the title bar): every ink
    # bit of the screenshot is a dark pixel of the display model's frame memory and the reverse
    panel = managed.board.devices["display"]
    ink = [[data[y * 30 + x // 8] >> (7 - x % 8) & 1 for x in range(240)] for y in range(320)]
    dark = [[panel.pixel(x, y) != 0xFFFF for x in range(240)] for y in range(320)]
    # the Ready screen's rows that change on their own between the screenshot and this read (the
    # clock, the sync note, the pending count, the rotating promotion) are left out: 16-pixel
    # text rows from y = 28 (pos.ui.canvas)
    changing = {4, 5, 8, 9}
    body = [y for y in range(32, 300) if (y - 28) // 16 not in changing]
    differ = sum(ink[y][x] != dark[y][x] for y in body for x in range(240))
    assert sum(ink[y][x] for y in body for x in range(240)) > 200       # there is text on it
    assert differ == 0, differ
    _no_error(page)
