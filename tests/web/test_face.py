"""The web terminal face in headless Chromium (Debian's chromium, driven by Playwright).

Clicks on the page must reach the device models of a running virtual board,
and what the firmware draws must come back to the page."""
import os
import shutil
import urllib.request

import pytest

from display_wait import wait_text
from face_clicks import click_key, click_keys
from host_sim.board import VirtualBoard
from host_sim.web.server import serve_in_thread
from host_sim.web.terminal import Terminal
from ports import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def face():
    vb = VirtualBoard(firmware=True, pty=False)
    vb.start()
    vb.wait_for("smartpos ready", 120)
    term = Terminal(vb)
    port = free_port()
    srv = serve_in_thread(term, port)
    yield vb, term, "http://127.0.0.1:%d/" % port
    term.closing = True
    srv.shutdown()
    vb.stop()


@pytest.fixture(scope="module")
def page(face):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        pg = browser.new_page()
        pg.goto(face[2])
        pg.wait_for_function("document.getElementById('conn').textContent === 'live'", timeout=60000)
        yield pg
        browser.close()


def test_keypad_clicks_drive_the_firmware(face, page):
    vb = face[0]
    keypad = vb.devices["keypad"]
    click_key(page, keypad, "MENU")
    text = wait_text(vb.devices["display"], "9 About")
    assert text.startswith("MENU")
    click_keys(page, keypad, ["DOWN"] * 8 + ["ENTER"])
    wait_text(vb.devices["display"], "Firmware")
    assert vb.devices["keypad"].presses[-10:] == ["MENU"] + ["DOWN"] * 8 + ["ENTER"]
    # the page's display image is the model's PNG
    with urllib.request.urlopen(face[2] + "display.png") as r:
        png = r.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    click_keys(page, keypad, ["CANCEL", "CANCEL"])
    wait_text(vb.devices["display"], "READY")


def test_printer_controls_and_status(face, page):
    vb = face[0]
    with page.expect_response(lambda r: "/api/printer" in r.url):     # the model has it then
        page.click("#paper-out")
    assert "paper_out" in vb.devices["printer"].faults
    with page.expect_response(lambda r: "/api/printer" in r.url):
        page.click("#load-paper")
    assert not vb.devices["printer"].faults


def test_unavailable_control_gives_a_clear_message(face, page):
    # Tap without a contactless card profile (the contactless card simulator is not built yet)
    page.evaluate("document.getElementById('message').textContent = ''")
    page.click("#tap")
    page.wait_for_function("document.getElementById('message').textContent.length > 0", timeout=60000)
    msg = page.text_content("#message")
    assert "not fitted" in msg or "profile" in msg or "contactless" in msg, msg


def test_pcap_export_is_a_pcap(face):
    with urllib.request.urlopen(face[2] + "traffic.pcap") as r:
        data = r.read()
    assert data[:4] == bytes.fromhex("d4c3b2a1")      # little-endian classic pcap magic
