"""Clicking the web face's keypad as a person does: one key at a time, the next once the
firmware has taken the last (a click is a POST /api/key; the keypad model then says when the
firmware serviced its interrupt)."""


def click_key(page, keypad, key, timeout=30):
    with page.expect_response(lambda r: "/api/key" in r.url, timeout=timeout * 1000):
        page.click("#keypad button[data-key='%s']" % key)
    if not keypad.wait_taken(timeout):
        raise AssertionError("the firmware did not read key %r within %ss" % (key, timeout))


def click_keys(page, keypad, keys, timeout=30):
    for k in keys:
        click_key(page, keypad, k, timeout)
