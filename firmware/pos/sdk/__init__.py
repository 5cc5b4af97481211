# pos.sdk: what an installed app sees of the terminal (docs/sdk.md).
#
# An app imports this package and the allowed standard modules, nothing else:
#
#     from pos import sdk
#     class Hello(sdk.Screen):
#         def draw(self, d): d.title("Hello"); d.center("Hi", 3)
#     def start():
#         return Hello()
#
# This module is the app's only doorway, and MicroPython gives every function a
# `__globals__` (no `__closure__`): so nothing here refers to the firmware.  Each app's
# surface is a set of closures over its host (pos.platform.runtime.Host), built by
# `surface()`; the host lives only in the closures' cells, which app code cannot read.
# Errors from the firmware reach the app as sdk.Error with a message, never the
# firmware's own exception (its class would lead back to its module), and the Error is
# made by the closure, in the app's context.  An app can rewrite this module's globals and
# classes (both are reachable): the runtime imports a fresh copy for each app it starts and
# never calls into one an app has run with outside that app's context.
VERSION = 2            # the SDK version this firmware provides; app.json "sdk" may not exceed it


class Error(Exception):
    """An SDK call was refused or failed: the message says why."""


class Screen:
    """An app's screen: draw(d) paints it on d (the display surface), on_key(key) answers
    a key name ("0".."9", "ENTER", "CANCEL", "CLEAR", "UP", "DOWN", "F1".."F4").  on_key
    returns nothing (stay), sdk.REDRAW, another Screen (shown over this one), sdk.BACK
    (this screen closes) or sdk.EXIT (the app stops)."""

    def draw(self, d):
        pass

    def on_key(self, key):
        return None


REDRAW = "redraw"
BACK = "back"
EXIT = "exit"


class Namespace:
    """One app's sdk: the closures surface() sets on it, plus the classes above."""


def surface(host):
    """The sdk of one app: closures over `host` (called by the runtime, once per app)."""
    ns = Namespace()
    ns.VERSION = VERSION
    ns.Error = Error
    ns.Screen = Screen
    ns.REDRAW = REDRAW
    ns.BACK = BACK
    ns.EXIT = EXIT
    host_call = host.call   # fn(name, args) -> (True, result) or (False, why): the firmware side

    def call(name, args):
        ok, r = host_call(name, args)
        if not ok:
            raise Error(r)  # raised here, in the app's context: the class is the app's to see
        return r

    def display(name):
        def op(*args):
            return call(name, args)
        return op

    # the display surface passed to Screen.draw (refused while PIN entry owns the screen)
    d = Namespace()
    d.title = display("title")
    d.text = display("text")
    d.center = display("center")
    d.clear = display("clear")
    ns.display = d

    def request_payment(amount, reference, on_done):
        """The counter's own tender flow for `amount` (minor units); on_done(outcome) when it
        ends: a dict approved, amount, tender, pan (masked), scheme, reference, invoice."""
        return call("pay", (amount, reference, on_done))

    def refund(reference, on_done):
        """A card refund of the payment this app took with `reference` (operator PIN asked)."""
        return call("refund", (reference, on_done))

    def enter_text(title, on_done, initial="", maxlen=24):
        """The counter's text entry (2: A B C 2 ...) over the app; on_done(text) at ENTER."""
        return call("enter_text", (title, on_done, initial, maxlen))

    def print_text(lines):
        return call("print_text", (lines,))

    def print_barcode(data):
        return call("print_barcode", (data,))

    def print_qr(data):
        return call("print_qr", (data,))

    def store_get(key, default=None):
        return call("get", (key, default))

    def store_put(key, value):
        """Keep `value` (str or bytes) under `key` in this app's storage (quota in bytes)."""
        return call("put", (key, value))

    def store_delete(key):
        return call("delete", (key,))

    def store_keys():
        return call("keys", ())

    def timer(ms, fn, repeat=False):
        """Call fn() after `ms` (again every `ms` with repeat); returns a timer number."""
        return call("timer", (ms, fn, repeat))

    def cancel_timer(n):
        return call("cancel_timer", (n,))

    def on_event(name, fn):
        """fn(data) on "sale_completed" (data: the safe outcome) or "day_closed"."""
        return call("on_event", (name, fn))

    def http_get(url, on_done):
        """GET `url` (its host must be in app.json "hosts"); on_done(status, body)."""
        return call("http", ("GET", url, None, on_done))

    def http_post(url, body, on_done):
        return call("http", ("POST", url, body, on_done))

    def http_post_signed(url, body, on_done, params):
        """POST `body` to `url` signed for the host with this terminal's key (SDK 2): the
        storage key `params` names the operator's parameters ({"terminal", "key"}); the
        firmware reads and uses the key, the app's code never handles it.  on_done(status, body)."""
        return call("http_signed", (url, body, on_done, params))

    def member(code, kind=None):
        """The member `code` names (permission "members"): kind "qr" (a member QR; the default
        for a code that is one), "phone" (the default otherwise) or "card" (a card UID in hex);
        a dict number (last four), name and phone (masked), tier, points, stored_value (minor
        units), or None for no such member."""
        return call("member", (code, kind))

    def nfc_card():
        """The contactless card in the field (permission "nfc"): its UID in hex, listed for
        nfc_apdu; None when the field is empty.  Refused while PIN entry runs."""
        return call("nfc_card", ())

    def nfc_apdu(apdu):
        """One ISO 7816-4 command APDU (bytes) to the listed card; its answer with SW1 SW2.
        sdk.Error "card removed: ..." when the card left the field."""
        return call("nfc_apdu", (apdu,))

    def nfc_release():
        return call("nfc_release", ())

    def scan(on_done):
        """One code from the terminal's scanner (permission "scanner"): on_done(code) with the
        code as text when the next one is read while the app's screen is up (never while PIN
        entry runs); one code per call.  What was read before the call is dropped."""
        return call("scan", (on_done,))

    def cancel_scan():
        return call("cancel_scan", ())

    def heap_free():
        return call("heap_free", ())

    ns.enter_text = enter_text
    ns.request_payment = request_payment
    ns.refund = refund
    ns.print_text = print_text
    ns.print_barcode = print_barcode
    ns.print_qr = print_qr
    ns.store_get = store_get
    ns.store_put = store_put
    ns.store_delete = store_delete
    ns.store_keys = store_keys
    ns.timer = timer
    ns.cancel_timer = cancel_timer
    ns.on_event = on_event
    ns.http_get = http_get
    ns.http_post = http_post
    ns.http_post_signed = http_post_signed
    ns.member = member
    ns.nfc_card = nfc_card
    ns.nfc_apdu = nfc_apdu
    ns.nfc_release = nfc_release
    ns.scan = scan
    ns.cancel_scan = cancel_scan
    ns.heap_free = heap_free
    return ns


def refused(name):
    """What an app finds under a builtin it may not use (exec, eval, compile, ...)."""
    def no(*args, **kw):
        raise Error(name + " is not available to apps")
    return no


def opener(host):
    """The app's `open`: read-only, inside its own storage (paths normalised by the host)."""
    host_call = host.call

    def open(path, mode="r"):
        ok, r = host_call("open", (path, mode))
        if not ok:
            raise Error(r)
        return r
    return open


def importer(allowed, real_import, in_app):
    """The `__import__` the runtime installs (builtins and each app's globals): inside app code
    (in_app() gives the running app's package: an object whose .sdk is its surface) only
    pos.sdk and the `allowed` standard modules; outside app code, `real_import` unchanged."""

    def imp(name, globals=None, locals=None, fromlist=(), level=0):
        pkg = in_app()
        if pkg is None:
            return real_import(name, globals, locals, fromlist, level)
        if level:
            raise ImportError("app import refused: relative import")
        if name == "pos":
            for n in fromlist or ():
                if n != "sdk":
                    raise ImportError("app import refused: pos." + n)
            return pkg
        if name == "pos.sdk":
            return pkg.sdk if fromlist else pkg
        if name in allowed:
            return real_import(name, globals, locals, fromlist, level)
        raise ImportError("app import refused: " + name)
    return imp
