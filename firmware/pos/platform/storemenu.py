# The Apps menu's own lines beside the installed apps (docs/app-store.md): "App store" lists
# the store's apps with what is installed here (new, installed, update), shows one app's
# details and asks the store to install or update it (it arrives as a deployment at the next
# poll and is checked like any other: pos.platform.install); "Remove app" removes an installed
# app and its storage after the merchant confirms.  Loaded only when one of these lines is chosen.
import asyncio

from pos.platform import install
from pos.ui.screen import Screen
from pos.ui.widgets import Info, Menu, wrap

TITLE = "App store"


class Asking(Screen):
    """The store is asked (`job()`: a coroutine of the DDI client); `answer(result)` gives the
    screen that replaces this one.  A failure is shown here; CANCEL goes back."""
    timeout_ms = 60000

    def __init__(self, job, answer):
        self.answer = answer
        self.result = None
        self.error = None
        self.task = asyncio.create_task(self._run(job))

    async def _run(self, job):
        try:
            self.result = await job()
        except Exception as e:          # the cloud unreachable or refusing: said on screen
            self.error = "%s: %s" % (type(e).__name__, e)

    def draw(self, c):
        c.title(TITLE)
        if self.error is None:
            c.center("Asking the store...", 3)
        else:
            for i, line in enumerate(wrap(self.error, 28)[:6]):
                c.text(line, 2 + i)
        c.footer("CANCEL back")

    def tick(self, c):
        if self.task is None or not self.task.done():
            return False
        self.task = None
        if self.error is not None:
            return "redraw"
        return ("replace", self.answer(self.result))

    def on_key(self, key):
        if key == "CANCEL":
            return ("pop",)
        return None


def _client():
    from pos.tms import service
    return service.make_client()


def store():
    """The "App store" line: the store's apps, each marked new, installed or update."""
    client = _client()
    if client is None:
        return ("push", Info(TITLE, ["This terminal is not", "enrolled: no store."]))
    return ("push", Asking(client.app_catalog, lambda apps: _catalog(client, apps or [])))


def status(app):
    have = install.installed_version(app["id"])
    if have is None:
        return "new"
    try:
        newer = tuple(int(p) for p in app["version"].split(".")) > tuple(int(p) for p in have.split("."))
    except ValueError:
        newer = False
    return "update" if newer else "installed"


def _catalog(client, apps):
    if not apps:
        return Info(TITLE, ["The store has no apps yet."])
    return Menu(TITLE, [("%s %s %s" % (a["name"].get("en", a["id"])[:12], a["version"], status(a)),
                         lambda a=a: ("push", Details(client, a))) for a in apps[:9]])


class Details(Screen):
    """One app of the store: version, developer, permissions, size; ENTER installs or updates."""
    timeout_ms = 60000

    def __init__(self, client, app):
        self.client = client
        self.app = app
        self.status = status(app)

    def draw(self, c):
        a = self.app
        c.title(a["name"].get("en", a["id"])[:20])
        c.text("Version %s (%s)" % (a["version"], self.status), 0)
        c.text("By %s" % a.get("developer", "")[:25], 1)
        c.text("Size %d bytes" % a.get("size", 0), 2)
        lines = wrap("Uses: " + (", ".join(a.get("permissions") or ()) or "nothing"), 28)
        for i, line in enumerate(lines[:3]):
            c.text(line, 3 + i)
        if self.status == "installed":
            c.footer("CANCEL back")
        else:
            c.footer("ENTER %s  CANCEL back" % ("install" if self.status == "new" else "update"))

    def on_key(self, key):
        if key == "CANCEL":
            return ("pop",)
        if key == "ENTER" and self.status != "installed":
            a = self.app
            return ("push", Asking(lambda: self.client.request_app(a["id"]), lambda r: Requested(TITLE, [
                "%s %s" % (a["name"].get("en", a["id"])[:20], r.get("version", a["version"])),
                "requested: it installs", "at Ready, at the next poll."])))
        return None


class Requested(Info):
    """The store has the request; back to Ready, where the terminal is free to install it (a
    deployment waits while the counter is busy)."""

    def on_key(self, key):
        if key in ("CANCEL", "ENTER", "CLEAR"):
            return ("home",)
        return None


def remove(installed):
    """The "Remove app" line: the installed apps; one chosen is confirmed, then removed."""
    return ("push", Menu("Remove app", [(m["name"].get("en", m["id"])[:24], lambda m=m: ("push", Confirm(m)))
                                        for _, m in installed]))


class Confirm(Screen):
    """Remove one app and its storage? ENTER yes, CANCEL no."""
    timeout_ms = 30000

    def __init__(self, m):
        self.m = m
        self.done = False

    def draw(self, c):
        name = self.m["name"].get("en", self.m["id"])[:24]
        c.title("Remove app")
        if self.done:
            c.center("%s removed" % name[:20], 3)
            c.footer("ENTER ok")
            return
        c.text("Remove %s %s" % (name[:16], self.m.get("version", "")), 1)
        c.text("and all its data?", 2)
        c.footer("ENTER remove  CANCEL keep")

    def on_key(self, key):
        if self.done:
            return ("home",) if key in ("ENTER", "CANCEL") else None
        if key == "CANCEL":
            return ("pop",)
        if key == "ENTER":
            install.uninstall(self.m["id"])
            from pos import log
            log.info("apps", "removed", app=self.m["id"], version=self.m.get("version", ""))
            self.done = True
            return "redraw"
        return None
