"""The top-up app on a Rig (host_sim.rig): installed onto the virtual board's flash with its
parameters, and the cashier's hands for it (open it from the Apps menu, pay by cash or by
card, the supervisor's PIN for its refund).  Used by tests/topup and `smartpos demo
--scenario topup`.

    with Rig(before_boot=lambda r: install(r, biller)) as rig:
        open_app(rig)
"""
import os
import tempfile

from host_sim.hosts.biller import params

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
APP_DIR = os.path.join(REPO, "apps", "topup")
SUPERVISOR_PIN = "2222"         # the TEST supervisor of the provisioned terminal
CARD_DONE = ("Sending to", "NOT PAID", "Biller ref", "Supervisor PIN", "REFUND")


def install(rig, biller, terminal="TERM0001", timeout_ms=8000):
    """The app into apps/topup/ on flash as the store installs it (its package: app.json and
    the compiled main.mpy) and the operator's parameters into its storage; before boot."""
    copy_package(os.path.join(rig.flash_dir, "apps", "topup"))
    params.write(rig.flash_dir, biller.url, terminal, timeout_ms)


def package():
    """The app's package as `smartpos app build` makes it (bytes)."""
    from cloud.appstore import package as pkg
    with tempfile.TemporaryDirectory(prefix="smartpos-topup-") as tmp:
        with open(pkg.build(APP_DIR, tmp), "rb") as f:
            return f.read()


def copy_package(dest):
    from cloud.appstore import package as pkg
    os.makedirs(dest)
    for name, data in pkg.members(package()):
        with open(os.path.join(dest, name), "wb") as f:
            f.write(data)


def package_bytes():
    return len(package())


def open_app(rig):
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP", "ENTER"])           # the last line of the menu: Apps
    rig.wait_text("1 Top-up & Bills")
    rig.keys(["1"])
    rig.wait_text("3 Card repayment")


def pay_by_card(rig, amount_text, profile="visa-cvn10", pin="1234"):
    """The counter's tender menu for the app's payment: Card, insert, PIN; the card is taken
    out once the app is back (or a refund's PIN prompt is up).  The screen's text."""
    rig.wait_text("Sale USD " + amount_text)
    rig.keys(["2"])
    rig.wait_text("INSERT")
    rig.insert(profile)
    text = rig.finish_card(pin, done=CARD_DONE)
    rig.remove()
    return text


def pay_by_cash(rig, amount_text, tendered):
    rig.wait_text("Sale USD " + amount_text)
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(list(tendered) + ["ENTER"])
    rig.wait_text("Change")
    rig.keys(["ENTER"])


def supervisor_refund(rig, timeout=60):
    """The counter asks for the supervisor's PIN for the app's refund; the app's screen after."""
    rig.wait_text("Supervisor PIN", 30)
    rig.keys(list(SUPERVISOR_PIN) + ["ENTER"])
    return rig.wait_text("REFUNDED", timeout)
