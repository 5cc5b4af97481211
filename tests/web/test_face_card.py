"""A card sale made entirely by clicking the web face in headless Chromium: keypad, the
card list and Insert, the PIN on the keypad; the receipt appears on the page."""
import os
import shutil
import socket

import pytest

from face_clicks import click_key, click_keys
from host_sim.rig import Rig
from host_sim.web.server import serve_in_thread
from host_sim.web.terminal import Terminal

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def face():
    from host_sim.cards.face import profiles_for_face
    with Rig() as rig:
        term = Terminal(rig.board, hosts=rig.hosts, profiles=profiles_for_face())
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        srv = serve_in_thread(term, port)
        yield rig, "http://127.0.0.1:%d/" % port
        term.closing = True
        srv.shutdown()


def test_card_sale_by_clicking(face):
    from playwright.sync_api import sync_playwright
    rig, url = face
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("document.getElementById('conn').textContent === 'live'", timeout=60000)
        keypad = rig.board.devices["keypad"]
        click_keys(page, keypad, ("4", "2", "0", "0", "ENTER"))
        rig.wait_text("2 Card")
        click_key(page, keypad, "2")
        rig.wait_text("INSERT")
        page.select_option("#profile", "visa-cvn10")
        page.click("#insert")
        rig.wait_text("ENTER PIN")
        click_keys(page, keypad, ("1", "2", "3", "4", "ENTER"))
        rig.wait_text("APPROVED", 60)
        page.wait_for_function("document.getElementById('receipt').textContent.includes('CUSTOMER COPY')",
                               timeout=60000)
        receipt = page.inner_text("#receipt")
        assert "476173******0135" in receipt and "4761739001010135" not in receipt
        assert "APPROVED" in receipt and "PIN VERIFIED" in receipt and "USD 42.00" in receipt
        # the APDU pane saw the exchange (headers and status words only)
        page.wait_for_function("document.getElementById('trace-apdu').textContent.length > 0", timeout=60000)
        trace = page.inner_text("#trace-apdu")
        assert "4761739001010135" not in trace
        page.screenshot(path=os.path.join(os.environ.get("TMPDIR", "/tmp"), "face-card-sale.png"))
        browser.close()


def test_swipe_button_reads_the_stripe(face):
    """The page's Swipe control sends the profile's stripe to the MSR model: a chip card
    swiped at the card prompt is told to insert its chip."""
    import json
    import urllib.request
    rig, url = face
    rig.remove()                          # the first test's card is still in the slot
    rig.home()
    rig.keys(list("500") + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("INSERT")
    # a script drives the face as the page does: the session cookie and its token on every POST
    with urllib.request.urlopen(url + "api/session") as r:
        cookie = r.headers["Set-Cookie"].split(";")[0]
        token = json.loads(r.read())["token"]
    req = urllib.request.Request(url + "api/swipe", data=json.dumps({"profile": "visa-credit"}).encode(),
                                 headers={"Content-Type": "application/json", "Cookie": cookie,
                                          "X-Smartpos-Token": token}, method="POST")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    rig.wait_text("INSERT CHIP")
    rig.keys(["CANCEL"])


def test_tap_sale_by_clicking(face):
    """The issue's browser test: a sale by clicking the keypad and a card tap; the receipt
    appears on the page."""
    from playwright.sync_api import sync_playwright
    rig, url = face
    rig.remove()
    rig.home()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("document.getElementById('conn').textContent === 'live'", timeout=60000)
        keypad = rig.board.devices["keypad"]
        click_keys(page, keypad, ("1", "8", "0", "0", "ENTER"))
        rig.wait_text("2 Card")
        click_key(page, keypad, "2")
        rig.wait_text("INSERT")
        page.select_option("#profile", "visa-cvn10")
        page.click("#tap")
        rig.wait_text("APPROVED", 60)
        page.wait_for_function("document.getElementById('receipt').textContent.includes('CONTACTLESS')",
                               timeout=60000)
        receipt = page.inner_text("#receipt")
        assert "USD 18.00" in receipt and "476173******0135" in receipt and "4761739001010135" not in receipt
        page.click("#lift")
        browser.close()
