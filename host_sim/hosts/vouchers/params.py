"""The group-buy app's parameters for one terminal, as the operator provisions them: where the
voucher platform is, the terminal's id there and its own signing key (terminal_key), and how
long the app waits for an answer.  Written into the app's storage (appdata/groupbuy/
platform.json), the only place the app reads its key from.

    write(flash_dir, platform.url, "TERM0001")
"""
import json
import os

from host_sim.hosts.vouchers import terminal_key

APP_ID = "groupbuy"
KEY_NAME = "platform.json"


def params(url, terminal, timeout_ms=8000):
    return {"url": url, "terminal": terminal, "key": terminal_key(terminal).hex(), "timeout_ms": timeout_ms}


def write(flash_dir, url, terminal="TERM0001", timeout_ms=8000):
    d = os.path.join(flash_dir, "appdata", APP_ID)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, KEY_NAME), "w") as f:
        json.dump(params(url, terminal, timeout_ms), f)
