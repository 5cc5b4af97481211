"""The store from the terminal's own Apps menu on the virtual board enrolled in the cloud:
the catalog lists a published app as new, its details show what it may use, install asks the
store and the app arrives at the next poll (checked like any pushed app), starts, and is
removed with its storage after the merchant confirms."""
import os
import time

import pytest

from host_sim.fleet import ManagedTerminal
from smartpos.demos.appstore import publish

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _until(cond, timeout=60):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def mt(tmp_path_factory):
    with ManagedTerminal(poll_s=2, rig=True, serial="SIM-APPSTORE", tls=False) as m:
        publish(m, os.path.join(REPO, "apps", "payer"), "acme", str(tmp_path_factory.mktemp("pkg")))
        yield m


def test_browse_install_run_and_remove_from_the_terminal(mt):
    rig = mt.rig
    menu = rig.apps_menu()
    assert "1 App store" in menu and "Remove app" not in menu       # nothing installed yet
    rig.keys(["1"])
    catalog = rig.wait_text("Payer 1.0.0 new", 30)
    assert "1 Payer 1.0.0 new" in catalog
    rig.keys(["1"])
    details = rig.wait_text("Version 1.0.0 (new)")
    assert "By acme" in details and "Uses: payments, printer," in details and "ENTER install" in details
    rig.keys(["ENTER"])
    rig.wait_text("requested: it installs", 30)
    rig.keys(["ENTER"])                             # back to Ready: away from it the counter is busy
    rig.wait_text("READY")
    app_dir = os.path.join(rig.flash_dir, "apps", "payer")
    _until(lambda: os.path.exists(os.path.join(app_dir, "main.mpy")))
    assert sorted(os.listdir(app_dir)) == ["app.json", "main.mpy"]
    _until(lambda: mt.api("GET", "/api/v1/appstore/apps/payer")["installs"] == 1)
    menu = rig.apps_menu()
    assert "1 Payer" in menu and "2 App store" in menu and "3 Remove app" in menu
    rig.keys(["2"])
    rig.wait_text("Payer 1.0.0 installed", 30)
    menu = rig.apps_menu()
    rig.keys(["1"])
    rig.wait_text("ENTER pay")                      # the installed app runs
    rig.keys(["MENU"])
    rig.wait_text("READY")
    data = os.path.join(rig.flash_dir, "appdata", "payer")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "count"), "w") as f:
        f.write("2")
    rig.apps_menu()
    rig.keys(["3"])
    rig.wait_text("Remove app")
    rig.keys(["1"])
    rig.wait_text("and all its data?")
    rig.keys(["CANCEL"])                            # not confirmed: kept
    rig.wait_text("1 Payer")
    assert os.path.exists(app_dir) and os.path.exists(data)
    rig.keys(["1"])
    rig.wait_text("and all its data?")
    rig.keys(["ENTER"])
    rig.wait_text("Payer removed")
    assert not os.path.exists(app_dir) and not os.path.exists(data)
    rig.keys(["ENTER"])
    rig.wait_text("READY")
