"""Installed apps on the virtual board: the sandbox against a hostile app."""
import os
import shutil
import time

from host_sim.rig import Rig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HOSTILE = os.path.join(REPO, "tests", "sdk", "apps", "hostile")
ESCAPES = 24            # the attempts of tests/sdk/apps/hostile/main.py


def app_sandbox(args):
    """A deliberately hostile app, installed in developer mode (copied onto flash, unsigned),
    tries each way out of the sandbox; then it raises, holds the loop and exhausts the heap,
    and each time it is stopped and the counter is back at Ready."""
    def install(rig):
        shutil.copytree(HOSTILE, os.path.join(rig.flash_dir, "apps", "hostile"))
        print("installed (developer mode, unsigned): apps/hostile")

    # 512K: the Apps menu interns the runtime's names, a block the 256K heap lacks at idle
    # (docs/sdk.md, "Memory")
    with Rig(heap="512K", before_boot=install) as rig:
        def open_app():
            rig.home()
            rig.keys(["MENU"])
            rig.wait_text("1 Sale")
            rig.keys(["UP", "ENTER"])
            rig.wait_text("1 Hostile")
            rig.keys(["1"])
            rig.wait_text("HOSTILE")

        open_app()
        rig.keys(["ENTER"])
        rig.wait_text("%d notes" % ESCAPES)
        with open(os.path.join(rig.flash_dir, "appdata", "hostile", "notes")) as f:
            notes = f.read().splitlines()
        for n in notes:
            print("  " + n)
        refused = [n for n in notes if " refused " in n]
        rig.keys(["MENU"])                  # the terminal's key: the app ends, whatever it does with keys
        rig.wait_text("READY")
        stops = []
        for key, what in (("1", "raised ValueError"), ("2", "held the counter"), ("3", "out of memory"),
                          ("4", "over its heap budget")):
            open_app()
            rig.keys([key])
            text = rig.wait_text("stopped", 30).replace("\n", "")
            print("  key %s: %s" % (key, text[:80]))
            if what.replace(" ", "") in text.replace(" ", ""):
                stops.append(what)
            rig.keys(["CANCEL"])
            rig.wait_text("READY")
        # a loop that never returns: the firmware cannot pre-empt it (docs/sdk.md); an interrupt
        # on the REPL (SIGINT, as the STM32 UART IRQ raises it) can, and the runtime stops it
        open_app()
        rig.keys(["9"])
        flag = os.path.join(rig.flash_dir, "appdata", "hostile", "looping")
        end = time.monotonic() + 30
        while not os.path.exists(flag) and time.monotonic() < end:
            time.sleep(0.05)
        rig.board.write(b"\x03")
        text = rig.wait_text("stopped", 30).replace("\n", "")
        print("  key 9 + Ctrl-C: %s" % text[:80])
        if "raised KeyboardInterrupt" in text:
            stops.append("a runaway loop interrupted")
        rig.keys(["CANCEL"])
        rig.wait_text("READY")
        terminal = open(os.path.join(rig.flash_dir, "config", "terminal.json")).read()
        outside = [p for p in os.listdir(os.path.join(rig.flash_dir, "appdata")) if p != "hostile"]
    ok = len(refused) == ESCAPES == len(notes) and len(stops) == 5 and not outside and terminal
    return ok, ("hostile app: %d of %d escapes refused (imports of pos.store/machine/os/sys, __import__, "
                "exec/eval, builtins, the pos package, ../ and absolute paths, quota, __globals__, "
                "hostile arguments, the scanner unpermitted, signing parameters outside its storage); stopped back to Ready for %s; nothing written outside its storage"
                % (len(refused), len(notes), ", ".join(stops)))


SCENARIOS = {"app-sandbox": app_sandbox}
