"""Waiting for the display model to show something (tests on the virtual board)."""


def wait_text(display, *needles, timeout=30):
    """Return the screen text once it contains every one of `needles` (read each time the
    firmware draws, see ST7789.wait_until); fail with what it shows after `timeout` seconds.
    A screen is drawn in bands: wait for each part a test then asserts on, not only the first."""
    text = display.wait_until(lambda t: all(n in t for n in needles), timeout)
    if text is None:
        raise AssertionError("display never showed %s within %ss; it shows:\n%s"
                             % (" and ".join(map(repr, needles)), timeout, display.text()))
    return text
