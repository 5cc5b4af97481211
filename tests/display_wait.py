"""Waiting for the display model to show something (tests on the virtual board)."""


def wait_text(display, needle, timeout=30):
    """Return the screen text once it contains `needle` (read each time the firmware draws,
    see ST7789.wait_text); fail with what it shows after `timeout` seconds."""
    text = display.wait_text(needle, timeout)
    if text is None:
        raise AssertionError("display never showed %r within %ss; it shows:\n%s"
                             % (needle, timeout, display.text()))
    return text
