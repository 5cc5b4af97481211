"""Waiting for the display model to show something (tests on the virtual board)."""
import time


def wait_text(display, needle, timeout=8):
    """Return the screen text once it contains `needle`; fail with what it shows."""
    end = time.monotonic() + timeout
    text = ""
    while time.monotonic() < end:
        text = display.text()
        if needle in text:
            return text
        time.sleep(0.1)
    raise AssertionError("display never showed %r; it shows:\n%s" % (needle, text))
