"""The transit app on a Rig (host_sim.rig): installed onto the virtual board's flash with the
operator's parameters (appdata/transit/transit.json: the host's URL, the terminal's id and
number; its request-signing key into the key store, host_sim.hosts.appkeys; no card key: the
terminal holds none), and the
cashier's hands for it.  Used by tests/transit and
`smartpos demo --scenario transit-recharge[-torn]`."""
import json
import os
import subprocess

from host_sim.hosts import appkeys
from host_sim.hosts.transit import terminal_key

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
APP_DIR = os.path.join(REPO, "apps", "transit")
TERMINAL_NO = "112233445566"


def install(rig, host, timeout_ms=8000, terminal="TERM0001"):
    """Before boot: the app as a store package holds it (main.py compiled to main.mpy by the
    project's mpy-cross, app.json's entry main.mpy) in apps/transit/, and its parameters."""
    from posbuild.toolchain import mpy_cross_binary
    dest = os.path.join(rig.flash_dir, "apps", "transit")
    os.makedirs(dest)
    subprocess.run([mpy_cross_binary(), "-o", os.path.join(dest, "main.mpy"), "-s", "main.py",
                    os.path.join(APP_DIR, "main.py")], check=True, capture_output=True)
    with open(os.path.join(APP_DIR, "app.json"), encoding="utf-8") as f:
        m = json.load(f)
    with open(os.path.join(dest, "app.json"), "w", encoding="utf-8") as f:
        json.dump(dict(m, entry="main.mpy"), f, ensure_ascii=False)
    appkeys.write(rig.flash_dir, "transit", "transit.json",
                  {"url": host.url, "terminal": terminal, "terminal_no": TERMINAL_NO, "currency": "USD",
                   "timeout_ms": timeout_ms}, terminal_key(terminal))


def package_bytes(rig):
    """Bytes the installed app takes on flash (app.json and main.mpy)."""
    d = os.path.join(rig.flash_dir, "apps", "transit")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def open_app(rig):
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP", "ENTER"])           # the last line of the menu: Apps
    rig.wait_text("1 Transit card")
    rig.keys(["1"])


def pay_by_cash(rig, amount_text, tendered):
    rig.wait_text("Sale USD " + amount_text)
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(list(tendered) + ["ENTER"])
    rig.wait_text("Change")
    rig.keys(["ENTER"])
