"""Developer mode with the tools a developer has: plain `mpremote mip install --index URL payer`
against the whole terminal (frozen firmware on the virtual board, product heap, running its
counter) puts the unsigned app into lib/ from the cloud's development index; after a restart the
Apps menu lists it marked "(dev)" and it runs; with developer mode off it is neither listed nor
started.  The operator's signed parameter bundle is what sets the mode (test_app_developer_mode);
here the test writes config/terminal.json as that bundle leaves it."""
import json
import os
import subprocess
import sys

from host_sim.rig import Rig
from tests.sdk.test_app_developer_mode import index  # noqa: F401  (the cloud's /mip with apps/payer uploaded)

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


def _developer_mode(flash_dir, on):
    path = os.path.join(flash_dir, "config", "terminal.json")
    cfg = {}
    if os.path.exists(path):
        with open(path) as f:
            cfg = json.load(f)
    cfg["developer_mode"] = on
    with open(path, "w") as f:
        json.dump(cfg, f)


def test_mpremote_mip_install_then_the_apps_menu_runs_it_only_in_developer_mode(index):  # noqa: F811
    with Rig(before_boot=lambda r: _developer_mode(r.flash_dir, True)) as rig:
        assert "DEVELOPER MODE" in rig.wait_text("DEVELOPER MODE")
        r = subprocess.run([MPREMOTE, "connect", rig.board.url, "mip", "install", "--index", index, "payer"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Installing payer" in r.stdout and "Done" in r.stdout
        lib = os.path.join(rig.flash_dir, "lib", "payer")
        assert sorted(os.listdir(lib)) == ["app.json", "main.mpy"]
        with open(os.path.join(lib, "app.json")) as f:
            assert json.load(f)["id"] == "payer"
        assert not os.path.exists(os.path.join(rig.flash_dir, "apps", "payer"))   # nothing signed touched

        rig.power_cycle(timeout=120)            # mpremote left the REPL interrupted: start the terminal again
        menu = rig.apps_menu()
        assert "1 Payer (dev)" in menu and "2 App store" in menu
        rig.keys(["1"])
        assert "PAYER" in rig.wait_text("ENTER pay")        # started in the sandbox
        rig.keys(["MENU"])
        rig.wait_text("READY")

        _developer_mode(rig.flash_dir, False)   # the operator turns the mode off
        rig.power_cycle(timeout=120)
        assert "DEVELOPER MODE" not in rig.display.text()
        menu = rig.apps_menu()
        assert "Payer" not in menu and "1 App store" in menu
        assert os.path.exists(lib)              # still on flash, not listed, not started
