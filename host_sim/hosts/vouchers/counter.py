"""The group-buy app on a Rig (host_sim.rig): its package built (cloud.appstore.package.build:
the modules compiled to .mpy, as the store delivers them) and unpacked onto the virtual
board's flash with its parameters, and the cashier's hands for it (open it from the Apps menu, scan a
voucher's code on the scanner model, or key it).  Used by tests/groupbuy and `smartpos demo --scenario groupbuy-redeem`.

    with Rig(before_boot=lambda r: install(r, platform)) as rig:
        open_app(rig)
"""
import os
import tempfile

from cloud.appstore import package
from host_sim.hosts.vouchers import params

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
APP_DIR = os.path.join(REPO, "apps", "groupbuy")


def build():
    """The app's package (bytes): app.json with entry main.mpy, and main.mpy.  Compiled on the
    host: on the product heap the terminal's compiler cannot take the source (it stops with
    MemoryError allocating a 4,864-byte block when the Apps menu starts the .py)."""
    with tempfile.TemporaryDirectory(prefix="groupbuy-") as tmp:
        with open(package.build(APP_DIR, tmp), "rb") as f:
            return f.read()


def install(rig, platform, terminal="TERM0001", timeout_ms=8000, raw=None):
    """The package's files into apps/groupbuy/ on flash (what an install from the store leaves
    there; unpacked here without the store's signature check) and the operator's parameters
    into its storage; before boot.  The package's size in bytes."""
    raw = raw or build()
    dest = os.path.join(rig.flash_dir, "apps", "groupbuy")
    os.makedirs(dest)
    for name, data in package.members(raw):
        if name != "sw-description":
            with open(os.path.join(dest, name), "wb") as f:
                f.write(data)
    params.write(rig.flash_dir, platform.url, terminal, timeout_ms)
    return len(raw)


def open_app(rig):
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP", "ENTER"])           # the last line of the menu: Apps
    rig.wait_text("1 Group-buy vouchers")
    rig.keys(["1"])
    rig.wait_text("2 Reconcile today")


def key_code(rig, code):
    """From the app's first screen: Redeem, the code, ENTER; the screen once the deal is shown."""
    rig.keys(["1"])
    rig.wait_text("Voucher code:")
    rig.keys(list(code) + ["ENTER"])
    return rig.wait_any(("ENTER redeem", "ENTER next"), 30)


def scan_code(rig, code):
    """From the app's first screen: Redeem, then the voucher's code under the scanner's window
    (the scanner model on the board's UART); the screen once the deal is shown."""
    rig.keys(["1"])
    rig.wait_text("Voucher code:")
    rig.board.devices["scanner"].scan(code)
    return rig.wait_any(("ENTER redeem", "ENTER next"), 30)
