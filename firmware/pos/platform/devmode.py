# Developer mode (docs/app-store.md): config/terminal.json "developer_mode": true, which only the
# operator's signed parameter bundle sets (pos.tms.params checks it); the Ready screen says so.
# In it, the unsigned apps that `mpremote mip install --index URL` (or mip on the terminal)
# put in lib/<id>/ from the cloud's development index are listed after the signed ones, marked
# "dev", and may start; outside it they are neither listed nor started.
import json

DEV_DIR = "lib"


def on():
    try:
        with open("config/terminal.json") as f:
            return json.load(f).get("developer_mode", False) is True
    except (OSError, ValueError, AttributeError):
        return False


def apps(listed, sdk_version):
    """The unsigned apps of DEV_DIR (`listed(base, sdk_version)`: the runtime's listing, which
    skips directories without an app.json: mip puts libraries there too), marked "dev"."""
    out = []
    for d, m in listed(DEV_DIR, sdk_version):
        m["dev"] = True
        out.append((d, m))
    return out


def may_start(app_dir):
    """Raise the runtime's AppError unless `app_dir` is a developer-mode app that may start."""
    from pos.platform import AppError
    if not app_dir.startswith(DEV_DIR + "/"):
        raise AppError("%s is not an app directory" % app_dir)
    if not on():
        raise AppError("unsigned app: developer mode is off")
