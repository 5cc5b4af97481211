# A deliberately hostile app: each key tries one way out of the sandbox and notes what
# happened.  "ESCAPED" in its notes is a sandbox defect.
from pos import sdk


def _imp_keys():
    import pos.store.keystore                   # noqa: F401


def _imp_journal():
    from pos.store import journal               # noqa: F401


def _imp_machine():
    import machine                              # noqa: F401


def _imp_os():
    import os
    return os.listdir("/")


def _imp_sys():
    import sys
    return sys.modules


def _dunder_import():
    return __import__("pos.app.status")


def _exec_import():
    exec("import os")


def _eval_builtin():
    return eval("__import__('os')", {})


def _deleted_shadow():
    del globals()["__import__"]
    import os                                   # noqa: F401


def _builtins():
    import builtins
    return builtins.open


def _pos_package():
    import pos.sdk
    return pos.app                              # the real package would have .app


def _pos_from():
    from pos import app                         # noqa: F401


def _open_up():
    return open("../../config/terminal.json").read()


def _open_abs():
    return open("/config/terminal.json").read()


def _open_write():
    return open("mine", "w")


def _store_dotdot():
    sdk.store_put("../../config/terminal.json", "{}")


def _store_slash():
    sdk.store_put("config/x", "{}")


def _quota():
    sdk.store_put("a", "x" * 600)
    sdk.store_put("b", "x" * 600)               # 1,200 bytes > the 1,024 of app.json


def _globals_walk():
    """Every function the app holds has __globals__: look for a module or the host there."""
    for f in (sdk.print_text, sdk.store_put, sdk.Screen.draw, sdk.display.text, __import__, open, exec):
        g = f.__globals__
        for k in g:
            r = repr(g[k])
            if r.startswith("<module") or "Host" in r or "runtime" in r:
                return "ESCAPED via %s" % k
    raise sdk.Error("no module, host or runtime reachable")


def _surface_again():
    ns = sdk.Screen.draw.__globals__["surface"](None)
    ns.print_text("x")


class Evil:
    def __str__(self):
        import os                               # would run with the app's context off
        return "x"


def _evil_arg():
    sdk.print_text([Evil()])


def _import_relative():
    exec_ = __import__
    return exec_("store", None, None, ("keystore",), 2)


def _scan_unpermitted():
    return sdk.scan(lambda code: None)          # no scanner permission in its app.json


def _signed_params_elsewhere():
    # the signing parameters taken from outside its storage (the counter's config)
    return sdk.http_post_signed("http://127.0.0.1:9/x", "{}", lambda st, body: None,
                                "../../config/terminal.json")


ATTEMPTS = (_imp_keys, _imp_journal, _imp_machine, _imp_os, _imp_sys, _dunder_import, _exec_import,
            _eval_builtin, _builtins, _pos_package, _pos_from, _open_up, _open_abs, _open_write,
            _store_dotdot, _store_slash, _quota, _globals_walk, _surface_again, _evil_arg,
            _import_relative, _deleted_shadow, _scan_unpermitted, _signed_params_elsewhere)


class Probe(sdk.Screen):
    def __init__(self):
        self.notes = []
        self.draws = 0
        self.d = None

    def draw(self, d):
        self.d = d
        self.draws += 1
        try:
            d.title("HOSTILE")
            d.text("%d notes" % len(self.notes), 0)
        except sdk.Error as e:
            self.notes.append("draw refused: %s" % e)

    def on_key(self, key):
        if key == "ENTER":
            for f in ATTEMPTS:
                try:
                    r = f()
                    self.notes.append("%s ESCAPED %s" % (f.__name__, str(r)[:40]))
                except Exception as e:
                    self.notes.append("%s refused %s: %s" % (f.__name__, type(e).__name__, e))
            sdk.store_delete("a")
            # one line an attempt, kept for whoever inspects the flash (the demo reads it)
            sdk.store_put("notes", "\n".join(n.split(":")[0] for n in self.notes))
            return sdk.REDRAW
        if key == "1":
            raise ValueError("hostile raise")
        if key == "2":
            t = __import__("time")
            t0 = t.ticks_ms()
            while t.ticks_diff(t.ticks_ms(), t0) < 3000:      # holds the loop 3 s
                pass
        if key == "3":
            hoard = []
            while True:
                hoard.append(bytearray(1024))
        if key == "4":
            self.keep = [bytearray(1024) for _ in range(40)]   # 40 KB kept: over budget
        if key == "5":
            sdk.timer(100, self.on_timer, True)
        if key == "6":
            raise SystemExit
        if key == "7":                       # rewrite what the SDK's functions see as globals
            evil = lambda *a, **k: __import__("os").mkdir("ESCAPED")       # noqa: E731
            g = sdk.Screen.draw.__globals__
            for name in ("surface", "Namespace", "importer", "opener", "refused", "Error"):
                g[name] = evil
            sdk.Error.__init__ = evil
            sdk.Screen.__init__ = evil
            return sdk.REDRAW
        if key == "8":
            return "exit"
        if key == "F2":                         # the declared host, then one it did not declare
            url = sdk.store_get("url").decode()
            sdk.http_get(url, self.on_http)
            try:
                sdk.http_get(url.replace("127.0.0.1", "localhost"), self.on_http)
                self.notes.append("undeclared ESCAPED")
            except sdk.Error as e:
                self.notes.append("undeclared refused: %s" % e)
            return None
        if key == "F3":
            sdk.enter_text("NAME", self.on_text, "AB", 8)
            return None
        if key == "9":
            sdk.store_put("looping", "1")        # the test's sign that the loop is next
            while True:                          # never returns: only an interrupt ends it
                pass
        return None

    def on_text(self, text):
        self.notes.append("text " + text)

    def on_http(self, status, body):
        self.notes.append("http %d %s" % (status, body[:40]))

    def on_timer(self):
        self.notes.append("timer")
        try:
            self.d.center("PIN: type it here", 3)         # drawing outside draw(): over anything
            self.notes.append("timer draw ESCAPED")
        except sdk.Error as e:
            self.notes.append("timer draw refused: %s" % e)


def start():
    return Probe()
