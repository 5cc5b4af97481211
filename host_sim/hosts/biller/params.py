"""The top-up app's parameters for one terminal, as the operator provisions them: where the
biller is, the terminal's id there and its own signing key (terminal_key), and how long the
app waits for an answer: the key into the terminal's key store, the rest into the app's
storage (appdata/topup/biller.json), by host_sim.hosts.appkeys; the key is never in the app's
code, package or storage.

    write(flash_dir, biller.url, "TERM0001")
"""
from host_sim.hosts import appkeys
from host_sim.hosts.biller import terminal_key

APP_ID = "topup"
KEY_NAME = "biller.json"


def params(url, terminal, timeout_ms=8000):
    return {"url": url, "terminal": terminal, "timeout_ms": timeout_ms}


def write(flash_dir, url, terminal="TERM0001", timeout_ms=8000):
    appkeys.write(flash_dir, APP_ID, KEY_NAME, params(url, terminal, timeout_ms), terminal_key(terminal))
