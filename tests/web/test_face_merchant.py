"""The web face as a merchant and a customer use it, in headless Chromium: the APDU pane
shows each command and its response, the card list starts on a card that approves and
says what each card is and its TEST PIN, and the customer pays a merchant QR shown on the
terminal's display with the face's wallet control (decoded from the display as a phone's
camera would, paid on the wallet host)."""
import os
import re
import shutil
import socket

import pytest

from host_sim.rig import Rig
from host_sim.web.server import serve_in_thread
from host_sim.web.terminal import Terminal

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def face():
    from host_sim.cards.face import profiles_for_face
    with Rig() as rig:
        term = Terminal(rig.board, hosts=dict(rig.hosts, wallet=rig.wallet), profiles=profiles_for_face())
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        srv = serve_in_thread(term, port)
        yield rig, "http://127.0.0.1:%d/" % port
        term.closing = True
        srv.shutdown()


@pytest.fixture(scope="module")
def page(face):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        pg = browser.new_page()
        pg.goto(face[1])
        pg.wait_for_function("document.getElementById('conn').textContent === 'live'", timeout=15000)
        yield pg
        browser.close()


def _key(page, k):
    page.click("#keypad button[data-key='%s']" % k)
    page.wait_for_timeout(60)


def test_customer_pays_the_shown_merchant_qr_from_the_face(face, page):
    rig, _ = face
    rig.home()
    for k in ("8", ".", "7", "5", "ENTER"):
        _key(page, k)
    rig.wait_text("3 QR")
    _key(page, "3")
    rig.wait_text("1 Show QR")
    _key(page, "1")
    rig.wait_text("Scan with your wallet app", 30)
    page.click("#wallet-pay")
    page.wait_for_function("document.getElementById('message').textContent.includes('wallet paid order')",
                           timeout=30000)
    text = rig.wait_text("PAID BY WALLET", 15)
    assert "USD 8.75" in text
    paid = [o for o in rig.wallet.orders.values() if o["status"] == "paid"]
    assert len(paid) == 1 and paid[0]["amount"] == 875
    e = rig.batch()[-1]
    assert e["tender"] == "qr" and e["amount"] == 875
    _key(page, "ENTER")
    rig.wait_text("READY")
    # nothing on the display to pay now: the control says so
    page.click("#wallet-pay")
    page.wait_for_function("document.getElementById('message').textContent.includes('no QR code')",
                           timeout=30000)


def test_card_list_defaults_to_an_approving_card_with_its_pin(face, page):
    page.wait_for_function("document.getElementById('profile').options.length > 5", timeout=10000)
    assert page.input_value("#profile") == "visa-credit"
    note = page.inner_text("#profile-note")
    assert "Visa-like credit card" in note and "TEST PIN 1234" in note
    labels = page.eval_on_selector_all("#profile option", "os => os.map(o => o.textContent)")
    assert "mastercard-credit (PIN 4321)" in labels
    page.select_option("#profile", "visa-lowbalance")
    page.wait_for_function("document.getElementById('profile-note').textContent.includes('10.00')")
    assert "no PIN" in page.inner_text("#profile-note")
    page.select_option("#profile", "visa-credit")


def test_apdu_pane_shows_commands_and_responses(face, page):
    rig, _ = face
    rig.home()
    for k in ("1", "2", "5", "0", "ENTER"):
        _key(page, k)
    rig.wait_text("2 Card")
    _key(page, "2")
    rig.wait_text("INSERT")
    page.click("#insert")                     # the default card: it approves
    rig.wait_text("ENTER PIN", 30)
    for k in ("1", "2", "3", "4", "ENTER"):
        _key(page, k)
    rig.wait_text("APPROVED", 30)
    page.wait_for_function("document.getElementById('trace-apdu').textContent.includes('GENERATE AC')",
                           timeout=15000)
    trace = page.inner_text("#trace-apdu")
    assert "null" not in trace
    lines = trace.strip().split("\n")
    assert any(re.match(r"^→ 00 A4 04 00 SELECT 315041592E5359532E4444463031", l) for l in lines), trace[:800]
    assert any(re.match(r"^← 90 00 \[\d+ bytes\]$", l) for l in lines), trace[:800]
    assert any(l.startswith("→ 80 AE") for l in lines) and any("VERIFY" in l for l in lines)
    verify = [l for l in lines if "VERIFY" in l]
    assert all(re.match(r"^→ 00 20 00 8[08] VERIFY \[\d+ bytes\]$", l) for l in verify), verify  # no PIN block
    assert "4761739001010119" not in trace
    page.click("#remove")
    rig.keys(["ENTER"])
