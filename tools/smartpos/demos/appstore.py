"""The app store end to end: a developer builds and signs an app, the store countersigns it on
publishing, the operator pushes it to the virtual terminal's group as a rollout; the terminal
checks both signatures, installs it, and it is in the Apps menu and runs."""
import base64
import os
import shutil
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# the app the operator pushes: its folder and a text its first screen shows once it has reached
# its biller (the top-up app, apps/topup: its parameters provisioned in its storage)
PUSHED_APP = {"folder": os.path.join(REPO, "apps", "topup"), "screen": "Mobile top-up"}


def _b64(b):
    return base64.b64encode(b).decode()


def publish(mt, folder, developer, tmp):
    """Build and sign the app in `folder` as `developer`, upload it to the store of `mt`
    (host_sim.fleet.ManagedTerminal) and publish it with the permissions it asks for.
    Returns (manifest, published package)."""
    from cloud.appstore import package
    raw = open(package.build(folder, tmp), "rb").read()
    m = package.read_manifest(raw)
    key = os.path.join(tmp, developer + ".pem")
    pub = package.new_key(key)
    sig = package.developer_sign(raw, developer, key)
    print("built %s %s: %d bytes (app.json + .mpy); signed by developer %s" % (m["id"], m["version"], len(raw),
                                                                              developer), flush=True)
    dev = mt.api("POST", "/api/v1/appstore/developers", {"name": developer, "email": "dev@example.test",
                                                         "public_key": pub})
    up = mt.api("POST", "/api/v1/appstore/packages", {"package": _b64(raw), "signature": _b64(sig)},
                headers={"X-Developer-Token": dev["token"]})
    done = mt.api("POST", "/api/v1/appstore/packages/%d/publish" % up["id"], {"permissions": m.get("permissions", [])})
    print("uploaded as package %d; reviewed and published with %s (module %d)" % (
        up["id"], ", ".join(done["granted"]) or "no permissions", done["module_id"]), flush=True)
    return m, done


def app_install(args):
    from host_sim.fleet import ManagedTerminal
    from host_sim.hosts.biller import BillerHost
    from host_sim.hosts.biller import params as biller_params
    from host_sim.rig import PRODUCT_HEAP
    tmp = tempfile.mkdtemp(prefix="smartpos-appstore-")
    biller = BillerHost(port=0).start()
    try:
        with ManagedTerminal(poll_s=2, rig=True) as mt:
            rig = mt.rig
            # the operator's parameters for the app on this terminal (biller, terminal id, key)
            biller_params.write(rig.flash_dir, biller.url, "TERM0001")
            m, _ = publish(mt, PUSHED_APP["folder"], "demo-dev", tmp)
            groups = {g["name"]: g for g in mt.api("GET", "/api/v1/tms/groups")}
            g = groups.get("app pilot") or mt.api("POST", "/api/v1/tms/groups", {"name": "app pilot", "kind": "static"})
            mt.api("PUT", "/api/v1/tms/groups/%d/members" % g["id"], {"terminal_ids": [mt.terminal["id"]]})
            t0 = time.monotonic()
            ro = mt.api("POST", "/api/v1/appstore/apps/%s/push" % m["id"], {"group_id": g["id"]})
            aid = ro["targets"][0]["action_id"]
            print("pushed to group 'app pilot': rollout %d, action %d" % (ro["id"], aid), flush=True)
            a = mt.wait_action(aid, timeout=120)
            elapsed = time.monotonic() - t0
            for h in a["history"]:
                print("  feedback %-10s %-7s %s" % (h["execution"], h["finished"], "; ".join(h["details"])))
            install_ms = None
            for h in a["history"]:
                for d in h["details"]:
                    if d.startswith("installed ") and " ms " in d:
                        install_ms = int(d.split(" in ")[1].split()[0])
            on_flash = sorted(os.listdir(os.path.join(rig.flash_dir, "apps", m["id"])))
            print("on the terminal's flash: apps/%s/%s" % (m["id"], ", ".join(on_flash)))
            rig.home()
            rig.keys(["MENU"])
            rig.wait_text("1 Sale")
            rig.keys(["UP", "ENTER"])
            listed = rig.wait_text(m["name"]["en"], 30)
            line = [ln for ln in listed.splitlines() if m["name"]["en"] in ln][0].strip()
            print("Apps menu: %s" % line)
            rig.keys([line.split()[0]])
            shown = rig.wait_text(PUSHED_APP["screen"], 30)
            print("running: %s" % " | ".join(ln.strip() for ln in shown.splitlines() if ln.strip())[:100])
            rig.keys(["MENU"])
            rig.wait_text("READY")
            idle = [ln for ln in rig.board.console().splitlines() if "idle heap_free=" in ln]
            heap_free = idle[-1].split("heap_free=")[1].split()[0] if idle else "?"
            print("back at Ready: heap free %s bytes of %s (the app's screens and the runtime unloaded)"
                  % (heap_free, PRODUCT_HEAP))
            store = mt.api("GET", "/api/v1/appstore/apps/%s" % m["id"])
            ok = (a["state"] == "success" and install_ms is not None and "main.mpy" in on_flash
                  and store["installs"] == 1)
            return ok, ("%s %s pushed to the group, verified and installed in %s ms on the terminal "
                        "(%.1f s from push to closed action), listed in the Apps menu and running; store installs: %d"
                        % (m["id"], m["version"], install_ms, elapsed, store["installs"]))
    finally:
        biller.stop()
        shutil.rmtree(tmp, ignore_errors=True)


SCENARIOS = {"app-install": app_install}
