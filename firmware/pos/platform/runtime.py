# The app runtime: installed apps on flash, started from the Apps menu, run inside the
# boundaries docs/sdk.md lists.  Loaded only when the Apps menu opens (nothing at Ready).
#
#     from pos.platform import runtime
#     return runtime.menu(merchant)        # the Apps menu: one line per installed app
#
# An app is a directory apps/<id>/ with app.json (id, name {en, zh}, version, sdk,
# permissions, hosts, entry, icon) and its entry module.  Its code runs in a globals dict of
# its own; every call into it goes through Host.run (the app's context is on, exceptions,
# MemoryError, overtime and heap budget stop it); every call out of it goes through
# Host.call (arguments checked while still in the app's context, then the firmware works
# with the context off).  The SDK surface it sees is pos.sdk's closures.
import gc
import json
import os
import time

from pos import log
from pos.platform import AppError  # noqa: F401  (runtime.AppError: the apps' install and start errors)
from pos.ui.screen import Screen

APPS_DIR = "apps"
DATA_DIR = "appdata"
KEPT_DIR = "appsprev"           # the version a new one replaced, until it starts (pos.platform.install.PREV)
# standard modules an app may import: C modules of the port, nothing that reaches the
# firmware (no sys, builtins, os, io, micropython, machine, asyncio)
ALLOWED = ("time", "math", "json", "struct", "binascii", "re", "random", "hashlib",
           "collections", "errno")
PERMISSIONS = ("payments", "printer", "storage", "network", "members", "events", "nfc", "scanner")
CALL_LIMIT_MS = 2000            # one callback may hold the event loop this long
HEAP_BUDGET = 16384             # bytes an app may keep allocated (app.json "heap" lowers it)
STORAGE_QUOTA = 16384           # bytes of its storage (app.json "storage" lowers it)
KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-."
_SAFE = (str, bytes, int, bool, type(None))
_inside = None                  # the running app's package while its code runs, else None
_hook = None
_real_import = None
_real = {}                      # builtins replaced while a compiled app runs (pos.platform.compiled)
REFUSED = ("exec", "eval", "compile", "execfile", "input", "help")


class RefusedError(Exception):
    """An SDK call the runtime refuses (permission, key, quota): the app sees the message."""


class AppStopped(Exception):
    """The runtime stopped an app; the message is shown over Ready."""


def _in_app():
    return _inside


def leave():
    """No app runs any more: the interpreter's own import back, the runtime and the SDK
    unloaded (what stays is the names they interned: docs/sdk.md, "Memory")."""
    import builtins
    from pos import modules
    if _real_import is not None:
        builtins.__import__ = _real_import
    for name in _real:
        setattr(builtins, name, _real[name])
    modules.unload(("pos.platform.payment", "pos.platform.install", "pos.platform.storemenu", "pos.platform.devmode",
                    "pos.platform.compiled", "pos.platform.crashlog",
                    "pos.platform.runtime", "pos.sdk", "pos.platform"))
    gc.collect()


def manifest(app_dir, sdk_version=1):
    """app.json of `app_dir`, checked: AppError with the field at fault (`sdk_version`: the
    SDK this firmware provides, pos.sdk.VERSION)."""
    try:
        with open(app_dir + "/app.json") as f:
            m = json.load(f)
    except (OSError, ValueError) as exc:
        raise AppError("app.json unreadable: %s" % exc)
    if not isinstance(m, dict):
        raise AppError("app.json: not an object")
    for k in ("id", "name", "version", "sdk", "entry"):
        if k not in m:
            raise AppError("app.json: no %s" % k)
    if not isinstance(m["name"], dict) or "en" not in m["name"]:
        raise AppError("app.json: name needs en (and zh)")
    if not _key_ok(m["id"]):
        raise AppError("app.json: bad id")
    if not isinstance(m["sdk"], int) or m["sdk"] > sdk_version:
        raise AppError("needs SDK %s, this firmware has %d" % (m["sdk"], sdk_version))
    for p in m.get("permissions", ()):
        if p not in PERMISSIONS:
            raise AppError("app.json: unknown permission %s" % p)
    if not _key_ok(m["entry"]) or not (m["entry"].endswith(".py") or m["entry"].endswith(".mpy")):
        raise AppError("app.json: bad entry")
    for k in ("storage", "heap"):
        if not isinstance(m.get(k, 0), int) or m.get(k, 0) < 0:
            raise AppError("app.json: %s must be bytes (a whole number)" % k)
    return m


def installed(sdk_version):
    """[(directory, manifest)] of the apps on flash; broken packages are logged and skipped.
    In developer mode the unsigned apps mip installed follow (pos.platform.devmode)."""
    out = _listed(APPS_DIR, sdk_version)
    from pos.platform import devmode
    if devmode.on():
        out += devmode.apps(_listed, sdk_version)
    return out


def _listed(base, sdk_version):
    out = []
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return out
    for n in names:
        d = base + "/" + n
        if base != APPS_DIR:
            try:
                os.stat(d + "/app.json")
            except OSError:
                continue                # a library mip installed, not an app
        try:
            out.append((d, manifest(d, sdk_version)))
        except AppError as exc:
            log.warning("apps", "skipped", app=n, err=str(exc))
    return out


def menu(merchant=""):
    """The Apps menu (a stack action)."""
    from pos.ui import messages
    from pos.ui.messages import t
    from pos.ui.widgets import Menu
    items = []
    apps = installed(0x7fff)            # any SDK: one too new is listed and says so at start
    for d, m in apps:
        name = m["name"].get(messages.language) or m["name"]["en"]
        if m.get("dev"):
            name = name[:18] + " (dev)"
        items.append((name[:24], lambda d=d: start(d, merchant)))
    items.append(("App store", _store))
    signed = [x for x in apps if not x[1].get("dev")]
    if signed:
        items.append(("Remove app", lambda: _remove(signed)))
    return ("push", Menu(t("apps"), items))


def _store():
    from pos.platform import storemenu
    return storemenu.store()


def _remove(apps):
    from pos.platform import storemenu
    return storemenu.remove(apps)


def _key_ok(k):
    if not isinstance(k, str) or not 0 < len(k) <= 32 or k[0] == ".":
        return False
    for ch in k:
        if ch not in KEY_CHARS:
            return False
    return True


def _checked(v, depth=0):
    """`v` if it is plain data (str, bytes, int, bool, None, and lists/tuples/dicts of them);
    anything else (an object whose methods would run app code outside its context) is
    refused.  Runs in the app's context."""
    ty = type(v)
    if ty in _SAFE:
        return v
    if depth < 4 and (ty is list or ty is tuple):
        return [_checked(x, depth + 1) for x in v]
    if depth < 4 and ty is dict:
        return {_checked(k, depth + 1): _checked(x, depth + 1) for k, x in v.items()}
    raise TypeError("argument of type %s refused" % ty.__name__)


class Host:
    """One running app: its manifest, package, screens, storage, timers and events."""

    def __init__(self, sdk, app_dir, m, merchant):
        self.dir = app_dir
        self.m = m
        self.id = m["id"]
        self.perms = m.get("permissions", ())
        self.merchant = merchant
        self.frames = 0                 # the app's screens on the stack; none left: it ends
        self.frame = None               # its screen that is running a callback now
        self.pending = None             # a stack action an SDK call asked for (a payment)
        self.paid = {}                  # reference -> invoice of this session's payments
        self.kept = []                  # (reference, batch entry) of its newest card payments
        self.data = DATA_DIR + "/" + self.id
        self.quota = min(int(m.get("storage", STORAGE_QUOTA)), STORAGE_QUOTA)
        self.budget = min(int(m.get("heap", HEAP_BUDGET)), HEAP_BUDGET)
        self.timers = []                # [number, due ticks, period ms or 0, fn]
        self.events = {}
        self.n = 0
        self.signing_key = None         # the app's request key, taken from the key store once a session
        self.stopped = None
        self.canvas = None
        self.pkg = sdk.Namespace()
        self.pkg.sdk = sdk.surface(self)
        self.display = self.pkg.sdk.display     # kept here: the app may rewrite its own copy
        self.screen_cls = sdk.Screen
        self.base = 0                   # heap in use when it started, plus the counter's loads
        self.charged = 0                # what the app's own calls allocated, net (docs/sdk.md)
        self.credit = 0                 # the counter's loads inside SDK calls: not the app's
        self.depth = 0                  # calls into the app in progress (only the outer one counts)
        self.scan = None                # the app's on_done for one scanned code (sdk.scan), or None
        self.tasks = []                 # its requests in the background (sdk.http), (task, hold): cancelled when it stops

    # -- into the app ----------------------------------------------------------------------
    def run(self, fn, *args):
        """fn(*args) in the app's context; the app is stopped (AppStopped raised to the stack,
        which shows it over Ready) when it raises, runs out of memory, holds the loop past
        CALL_LIMIT_MS or keeps more than its heap budget."""
        global _inside
        if self.stopped:
            raise AppStopped(self.stopped)
        t0 = time.ticks_ms()
        why = None
        outer = self.depth == 0
        self.depth += 1
        c0 = self.credit
        a0 = gc.mem_alloc()
        _inside = self.pkg
        try:
            r = fn(*args)
        except MemoryError:
            r = None
            why = "out of memory"
        except AppStopped:
            raise
        except BaseException as exc:    # SystemExit, KeyboardInterrupt too: the app ends
            r = None
            why = "raised %s" % (type(exc).__name__,)
        finally:
            _inside = None
            self.depth -= 1
        if outer:                       # the app's net allocation in this call, loads excluded
            self.charged += gc.mem_alloc() - a0 - (self.credit - c0)
        took = time.ticks_diff(time.ticks_ms(), t0)
        if why is None and took > CALL_LIMIT_MS:
            why = "held the counter %d ms" % took
        if why is None and outer and self.charged > self.budget:
            gc.collect()
            # after a collection the app keeps at most the heap's growth since it started (the
            # counter's own kept objects are in that growth too): garbage the app made and the
            # collector freed is no longer charged
            self.charged = min(self.charged, gc.mem_alloc() - self.base)
            if self.charged > self.budget:
                why = "over its heap budget"
        if why:
            self.stop(why)
            raise AppStopped("%s stopped: %s" % (self.id, why))
        return r

    def stop(self, why):
        """The app ends: timers and events dropped, its screens off the stack."""
        self.stopped = "%s stopped: %s" % (self.id, why)
        if why not in ("exit", "closed"):
            from pos.platform import crashlog
            crashlog.note(self.id, self.m.get("version", ""), why)
        self.timers = []
        self.events = {}
        self.pending = None
        self.scan = None
        # a request still out holds the app (its callback, and through it the app's code and
        # globals) until its answer or its timeout: tens of KB, and a stalled host kept them
        # past the app's end until the Apps menu found no block to load in.  Cancelled, its
        # connection closes now; an app that must know how a request ended asks its host at
        # its next start (the top-up app's query of an unsettled payment: docs/sdk.md)
        # The cancellation itself is delivered when the loop next runs the task, which can be
        # after the next app has started (a key handler starts it): each request's hold on
        # the host and the callback is let go here, not when that task ends.
        for task, hold in self.tasks:
            hold.clear()
            task.cancel()
        self.tasks = []
        log.warning("apps", "stopped", app=self.id, why=why)
        leave()



    # -- out of the app --------------------------------------------------------------------
    def call(self, name, args):
        """The SDK's way out: arguments checked in the app's context, then the firmware works
        with the context off.  (True, result) or (False, why): the app's closure raises
        sdk.Error itself, so no class the app can reach is called outside its context."""
        global _inside
        if self.stopped:
            return False, self.stopped
        at = _CALLBACK_AT.get(name, -1)
        try:
            args = [a if i == at and callable(a) else _checked(a) for i, a in enumerate(args)]
        except TypeError as exc:
            return False, str(exc)
        op = _OPS.get(name)
        if op is None:
            return False, "no such call"
        saved = _inside
        _inside = None
        loads = name in _LOADS
        if loads:
            gc.collect()
            a0 = gc.mem_alloc()
        try:
            r = op(self, *args)
            if loads:                   # the counter's modules this loaded are not the app's heap
                gc.collect()
                grew = max(0, gc.mem_alloc() - a0)
                self.base += grew
                self.credit += grew
            return True, r
        except MemoryError:
            raise
        except Exception as exc:
            return False, str(exc) or type(exc).__name__
        finally:
            _inside = saved

    def fire(self, name, data):
        """Event `name` to the app's handlers (events permission)."""
        for fn in self.events.get(name, ()):
            self.run(fn, data)

    def need(self, perm):
        if perm not in self.perms:
            raise RefusedError("permission %s not in app.json" % perm)


# -- the operations behind the SDK's closures -------------------------------------------------
def _draw(host):
    c = host.canvas
    if c is None:
        raise RefusedError("draw only inside Screen.draw")
    if c.owner is not None:
        raise RefusedError("the display is held by %s" % c.owner)
    return c


def _title(host, s, right=""):
    _draw(host).title(str(s)[:28], str(right)[:12])


def _text(host, s, row, col=0):
    _draw(host).text(str(s)[:28], max(0, min(int(row), 9)), max(0, min(int(col), 27)))


def _center(host, s, row, scale=1):
    _draw(host).center(str(s)[:28], max(0, min(int(row), 9)), 2 if scale == 2 else 1)


def _clear(host):
    _draw(host).clear()


def _printer(host):
    host.need("printer")
    from pos import hw
    p = hw.printer()
    if p is None:
        raise RefusedError("no printer")
    return p


def _print_text(host, lines):
    p = _printer(host)
    if type(lines) is str:
        lines = [lines]
    for ln in lines[:64]:
        p.line(str(ln)[:48])
    p.feed(3)
    p.cut()


def _print_barcode(host, data):
    p = _printer(host)
    p.barcode(str(data)[:48])
    p.feed(3)
    p.cut()


def _print_qr(host, data):
    p = _printer(host)
    p.qr(str(data)[:256])
    p.feed(3)
    p.cut()


def _path(host, key):
    """The file of `key` in the app's own directory: one name, no separators, no "..",
    nothing absolute -- anything else is refused before a path is built."""
    if not _key_ok(key) or ".." in key:
        raise RefusedError("storage key refused: %r" % (key,))
    return host.data + "/" + key


def _used(host):
    n = 0
    try:
        for name in os.listdir(host.data):
            n += os.stat(host.data + "/" + name)[6]
    except OSError:
        pass
    return n


def _get(host, key, default=None):
    host.need("storage")
    try:
        with open(_path(host, key), "rb") as f:
            return f.read()
    except OSError:
        return default


def _put(host, key, value):
    host.need("storage")
    p = _path(host, key)
    if type(value) is str:
        value = value.encode()
    if type(value) is not bytes:
        raise RefusedError("store_put takes str or bytes")
    try:
        old = os.stat(p)[6]
    except OSError:
        old = 0
    if _used(host) - old + len(value) > host.quota:
        raise RefusedError("storage quota of %d bytes exceeded" % host.quota)
    for d in (DATA_DIR, host.data):
        try:
            os.mkdir(d)
        except OSError:
            pass
    with open(p + ".tmp", "wb") as f:
        f.write(value)
    os.rename(p + ".tmp", p)


def _delete(host, key):
    host.need("storage")
    try:
        os.remove(_path(host, key))
    except OSError:
        pass


def _keys(host):
    host.need("storage")
    try:
        return [n for n in os.listdir(host.data) if not n.endswith(".tmp")]
    except OSError:
        return []


def _open(host, path, mode="r"):
    if mode not in ("r", "rb"):
        raise RefusedError("apps open files read-only; store_put writes")
    host.need("storage")
    return open(_path(host, path), mode)


def _timer(host, ms, fn, repeat=False):
    ms = max(50, int(ms))
    host.n += 1
    host.timers.append([host.n, time.ticks_add(time.ticks_ms(), ms), ms if repeat else 0, fn])
    return host.n


def _cancel_timer(host, n):
    host.timers = [x for x in host.timers if x[0] != n]


def _on_event(host, name, fn):
    host.need("events")
    if name not in ("sale_completed", "day_closed"):
        raise RefusedError("no event %s" % name)
    host.events.setdefault(name, []).append(fn)


def _http(host, method, url, body, on_done):
    """One request in the background (pos.net.http); on_done(status, body) in the app's context
    when it ends (status 0 and the reason when it failed).  Only hosts app.json declares; https
    is verified against the terminal's pinned CA (pos.net.tls), the only trust it holds."""
    host.need("network")
    import asyncio
    from pos.net import http
    u = http.Url(url)
    if u.host not in host.m.get("hosts", ()):
        raise RefusedError("host %s not declared in app.json" % u.host)
    if type(body) is str:
        body = body.encode()

    hold = [host, on_done]              # let go by host.stop(), before the task ends

    async def fetch():
        try:
            ctx = None
            if u.tls:
                from pos.net import tls
                ctx = tls.PinnedCA()
            st, _, got = await http.request(method, url, body=body, timeout_ms=10000, max_body=4096,
                                            ssl_context=ctx)
        except Exception as exc:    # MemoryError included: the app hears of it, the loop goes on
            st, got = 0, str(exc)
        if not hold:
            return                  # the app stopped while the request was out
        h, cb = hold
        hold.clear()
        try:
            h.run(cb, st, got)
        except AppStopped:
            pass                    # its screen says so at the next tick
    host.tasks = [t for t in host.tasks if not t[0].done()]
    host.tasks.append((asyncio.create_task(fetch()), hold))


def _http_signed(host, url, body, on_done, params):
    """POST signed as the apps' hosts verify it (the biller's scheme, also the voucher platform's
    and the transit operator's): ?terminal=ID&ts=UNIX&nonce=N&sig=hex HMAC-SHA256 (RFC 2104)
    with the terminal's key over METHOD \\n path \\n terminal \\n ts \\n nonce \\n body.  The
    terminal id and key come from the app's parameters in its storage (`params`, written by the
    operator's provisioning); the key is used here and never returned to the app."""
    host.need("network")
    raw = _get(host, params)
    try:
        p = json.loads(raw) if raw else None
        term = p["terminal"]
        if type(term) is not str:
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise RefusedError("no signing parameters in storage key %s" % params)
    if "?" in url:
        raise RefusedError("a signed request's URL takes no query")
    key = _signing_key(host, params, p)
    from pos.crypto import hmac_sha256
    from pos.net import http
    import random
    if type(body) is str:
        body = body.encode()
    from pos.payments.clock import unix_time
    ts = unix_time()                    # the hosts check Unix time (a board's clock counts from 2000)
    host.n += 1
    nonce = "%08x%x" % (random.getrandbits(32), host.n)
    msg = ("POST\n%s\n%s\n%d\n%s\n" % (http.Url(url).path, term, ts, nonce)).encode()
    sig = hmac_sha256(key, msg + (body or b""))
    key = None
    _http(host, "POST", "%s?terminal=%s&ts=%d&nonce=%s&sig=%s" % (url, term, ts, nonce, sig.hex()), body, on_done)


_MEMBER_KINDS = ("qr", "phone", "card")


def _signing_key(host, params, p):
    """The app's request-signing key: secret "app:<id>" of the sealed key store, the only place
    it is used from, so no app can sign with another's.  Parameters that still carry the key in
    the app's storage (written before the key store held app keys, or into a store already
    sealed) have it moved at this first use: sealed into the key store, then the storage file
    rewritten without it (docs/sdk.md, "Where the key lives")."""
    if host.signing_key is not None and "key" not in p:
        return host.signing_key         # opened once while the app runs: no key store per request
    from pos.store.config import ConfigError
    from pos.store.keystore import KeyStore, KeyStoreError
    name = "app:" + host.id
    try:
        ks = KeyStore("keys.kld", ".")
        if "key" in p:
            try:
                key = bytes.fromhex(p["key"])
            except (ValueError, TypeError):
                raise RefusedError("signing key in %s is not hex" % params)
            ks.store_secret(name, key)
            key = None
            del p["key"]
            _put(host, params, json.dumps(p))
            log.info("apps", "signing key moved into the key store", app=host.id)
        host.signing_key = ks.secret(name)
        return host.signing_key
    except (KeyStoreError, ConfigError) as e:
        raise RefusedError("request-signing key: %s" % e)


def _member(host, code, kind):
    """The member a member QR, a phone number or a membership card's UID (hex) names, from the
    terminal's member copy (pos.members.book), as the counter shows it: the number's last four,
    the masked name and phone, tier, points (provisional ones included) and stored value.  None
    for no such member; an expired or forged QR, or no programme, is refused with its reason."""
    host.need("members")
    if kind is None:
        from pos.members import qr
        kind = "qr" if type(code) is str and qr.is_member_qr(code) else "phone"
    if kind not in _MEMBER_KINDS:
        raise RefusedError("member kind: one of qr, phone, card")
    if type(code) is not str or not 1 <= len(code) <= 600:
        raise RefusedError("member code: a string of 1 to 600 characters")
    if kind == "phone" and not (code.lstrip("+").isdigit() and 5 <= len(code) <= 16):
        raise RefusedError("a phone number is 5 to 16 digits")
    if kind == "card" and not (len(code) in (8, 14, 20) and all(ch in "0123456789abcdefABCDEF" for ch in code)):
        raise RefusedError("a card UID is 4, 7 or 10 bytes in hex")
    from pos.app.member import masked_number
    from pos.members import MemberError, book, programme
    try:
        prog = programme.load()
        if kind == "qr":
            from pos.members import qr
            from pos.payments.clock import unix_time
            m = book.find(number=qr.member_number(code, prog, unix_time()), merchant_id=prog.merchant_id)
        elif kind == "phone":
            m = book.find(phone=code, merchant_id=prog.merchant_id)
        else:
            m = book.find(card=code, merchant_id=prog.merchant_id)
    except MemberError as e:
        raise RefusedError(str(e))
    if m is None:
        return None
    return {"number": masked_number(m.number), "name": m.name, "phone": m.phone, "tier": m.tier,
            "points": m.points, "stored_value": m.stored_value}


def _reader(host, apdu=None):
    """The contactless reader for an app with the nfc permission; never while PIN entry runs
    (the PIN screen owns the terminal until it ends); `apdu`, when given, checked first."""
    host.need("nfc")
    if status_canvas_owner() is not None:
        raise RefusedError("the contactless reader is held by PIN entry")
    if apdu is not None and (type(apdu) is not bytes or not 4 <= len(apdu) <= 261):
        raise RefusedError("nfc_apdu takes a command APDU (4 to 261 bytes)")
    from pos import hw
    nfc = hw.nfc()
    if nfc is None:
        raise RefusedError("no contactless reader")
    return nfc


def _nfc_card(host):
    t = _reader(host).list_target()
    if t is None:
        return None
    if not t.iso14443_4:
        raise RefusedError("not an ISO 14443-4 card")
    return "".join("%02X" % b for b in t.uid)


def _nfc_apdu(host, apdu):
    nfc = _reader(host, apdu if apdu is not None else b"")
    from pos.drivers.pn532 import NfcError
    try:
        return nfc.transmit(apdu)
    except NfcError as exc:
        if exc.reason == "removed":
            raise RefusedError("card removed: %s" % exc)
        raise RefusedError("contactless: %s" % exc)


def _nfc_release(host):
    nfc = _reader(host)
    try:
        nfc.release()
    except Exception:
        pass                        # the card already left: nothing to release


def _enter_text(host, title, on_done, initial="", maxlen=24):
    """The counter's text entry (phone-style letters on the keypad) over the app's screen;
    on_done(text) in the app's context at ENTER, then the app's screen is back."""
    from pos.ui.widgets import TextEntry
    frame = host.frame

    def done(text):
        host.run(on_done, text)
        return ("back_to", frame)
    host.pending = ("push", TextEntry(str(title)[:24], done, str(initial), max(1, min(int(maxlen), 24))))


def _scan(host, on_done):
    """One code from the scanner for the app (permission scanner): on_done(code) in the app's
    context from its screen's tick (never while PIN entry holds the terminal).  The counter's
    own scanner path (pos.drivers.scanner, as the basket reads it); what was read before is
    dropped."""
    host.need("scanner")
    if status_canvas_owner() is not None:
        raise RefusedError("the scanner is held by PIN entry")
    from pos import hw
    sc = hw.scanner()
    if sc is None:
        raise RefusedError("no scanner")
    sc.flush()
    host.scan = on_done


def _cancel_scan(host):
    host.scan = None


def _scanned(host):
    """The app's on_done and the code read now, or None (a misread is dropped and logged:
    the cashier scans again, the request stays)."""
    from pos import hw
    from pos.drivers.scanner import ScannerError
    sc = hw.scanner()
    if sc is None:
        return None
    try:
        code = sc.poll()
    except ScannerError as exc:
        log.warning("apps", "scan refused", app=host.id, err=str(exc))
        return None
    if code is None:
        return None
    fn, host.scan = host.scan, None
    return fn, code


def _heap_free(host):
    return host.budget - host.charged


def _pay(host, amount, reference, on_done):
    host.need("payments")
    from pos.platform import payment
    return payment.request(host, amount, str(reference)[:32], on_done)


def _refund(host, reference, on_done):
    host.need("payments")
    from pos.platform import payment
    return payment.refund(host, str(reference)[:32], on_done)


# where an SDK call takes the app's function (called back through Host.run only); any other
# argument is plain data (_checked)
_CALLBACK_AT = {"pay": 2, "refund": 1, "timer": 1, "on_event": 1, "http": 3, "enter_text": 1, "scan": 0,
                "http_signed": 2}
# calls that may load the counter's modules (screens, printer, HTTP client, payment flow)
_LOADS = ("enter_text", "pay", "refund", "http", "http_signed", "print_text", "print_barcode", "print_qr",
          "member")
_OPS = {"title": _title, "text": _text, "center": _center, "clear": _clear,
        "print_text": _print_text, "print_barcode": _print_barcode, "print_qr": _print_qr,
        "get": _get, "put": _put, "delete": _delete, "keys": _keys, "open": _open,
        "timer": _timer, "cancel_timer": _cancel_timer, "on_event": _on_event, "http": _http,
        "member": _member, "heap_free": _heap_free, "enter_text": _enter_text, "pay": _pay, "refund": _refund,
        "nfc_card": _nfc_card, "nfc_apdu": _nfc_apdu, "nfc_release": _nfc_release,
        "scan": _scan, "cancel_scan": _cancel_scan, "http_signed": _http_signed}


class AppFrame(Screen):
    """An app screen on the terminal's stack: draws, keys and timers go through Host.run."""
    timeout_ms = 300000             # an app left alone: back to Ready

    def __init__(self, host, screen):
        self.host = host
        self.screen = screen
        host.frames += 1

    def draw(self, c):
        h = self.host
        if h.stopped or c.owner is not None:
            return                      # PIN entry holds the display: no app code runs
        h.canvas = c
        try:
            h.run(self.screen.draw, h.display)
        finally:
            h.canvas = None

    def on_key(self, key):
        h = self.host
        if status_canvas_owner() is not None:
            return None                 # PIN entry owns the keys: never an app's
        if key == "MENU":               # the terminal's key: always back to Ready
            h.stop("closed")
            return ("home",)
        h.frame = self
        return self.after(h.run(self.screen.on_key, key))

    def after(self, r):
        """An app callback's answer (or an SDK call's queued screen) as a stack action."""
        h = self.host
        if h.pending is not None:
            r, h.pending = h.pending, None
            return r
        if isinstance(r, h.screen_cls):
            return ("push", AppFrame(h, r))
        if type(r) is not str:          # (no comparison that could call the app's __eq__)
            return None
        if r == "redraw":
            return "redraw"
        if r == "back" or r == "exit":
            if r == "exit" or h.frames <= 1:
                h.stop("exit")
                return ("home",)
            h.frames -= 1
            return ("pop",)
        return None

    def tick(self, c):
        h = self.host
        if h.stopped:                   # stopped in the background (an HTTP callback)
            raise AppStopped(h.stopped)
        if c.owner is not None:
            return False
        if h.scan is not None:          # a code for the app: only while its screen is up
            got = _scanned(h)
            if got is not None:
                h.frame = self
                r = self.after(h.run(got[0], got[1]))
                if r:
                    return r
        now = time.ticks_ms()
        for x in list(h.timers):
            if time.ticks_diff(now, x[1]) >= 0:
                if x[2]:
                    x[1] = time.ticks_add(now, x[2])
                else:
                    h.timers.remove(x)
                h.frame = self
                r = self.after(h.run(x[3]))
                if r:
                    return r
        return False


def status_canvas_owner():
    """Who holds the display alone now (PIN entry), or None."""
    from pos.app import status
    return status.canvas.owner if status.canvas is not None else None


def start(app_dir, merchant=""):
    """Start the app in `app_dir`: its module runs in its own globals, its start() gives the
    first screen (a stack action).  AppError when it cannot start; AppStopped when it fails.
    A newly installed version that fails to start gives way to the version it replaced
    (pos.platform.install); one that starts is kept and the previous one dropped."""
    app_id = app_dir.rsplit("/", 1)[-1]
    try:
        os.stat(KEPT_DIR + "/" + app_id)
        kept = True                     # a new version installed that has not started yet
    except OSError:
        kept = False
    if not kept:
        return _start(app_dir, merchant)
    from pos.platform import install
    try:
        r = _start(app_dir, merchant)
    except (AppError, AppStopped) as exc:
        if install.revert(app_id):
            log.warning("apps", "new version failed to start: previous restored", app=app_id, err=str(exc))
            raise AppStopped("%s; the previous version is back" % exc)
        raise
    install.started(app_id)
    log.info("apps", "new version started: previous dropped", app=app_id)
    return r


def _start(app_dir, merchant):
    global _hook, _real_import
    import builtins
    if not app_dir.startswith(APPS_DIR + "/"):
        from pos.platform import devmode
        devmode.may_start(app_dir)
    from pos import modules
    modules.unload(("pos.sdk",))    # a fresh copy: the last app may have rewritten its globals
    from pos import sdk
    m = manifest(app_dir, sdk.VERSION)
    h = Host(sdk, app_dir, m, merchant)
    if _real_import is None:
        _real_import = builtins.__import__
    _hook = sdk.importer(ALLOWED, _real_import, _in_app)
    builtins.__import__ = _hook         # an import in app code goes through the allow-list
    gc.collect()
    h.base = gc.mem_alloc()
    log.info("apps", "start", app=m["id"], version=m["version"], heap_free=gc.mem_free())
    if m["entry"].endswith(".mpy"):
        from pos.platform import compiled
        g = compiled.load(h, sdk, app_dir, m["entry"][:-4], _real, _real_import, _in_app)
    else:
        g = {"__name__": m["id"], "__import__": _hook, "open": sdk.opener(h)}
        for name in REFUSED:
            g[name] = sdk.refused(name)
        try:
            with open(app_dir + "/" + m["entry"]) as f:
                src = f.read()
        except OSError as exc:
            raise AppError("entry unreadable: %s" % exc)
        h.run(exec, src, g)
        src = None
    first = g.get("start")
    if first is None:
        h.stop("no start()")
        raise AppStopped("%s stopped: no start()" % m["id"])
    r = h.run(first)
    if not isinstance(r, h.screen_cls):
        h.stop("start() gave no Screen")
        raise AppStopped("%s stopped: start() gave no Screen" % m["id"])
    return ("push", AppFrame(h, r))
