# The shell: the Ready (idle) screen and the main menu.
import gc
import sys
import time

import pos
from pos import hw, log
from pos.app import services, status
from pos.app.sale import SaleFlow
from pos.marketing import idle as campaigns
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import Info, Menu, format_amount, wrap

DEFAULT_MERCHANT = "SMARTPOS DEMO STORE"
LINE_CHARS = 28                 # characters of the 8x8 font on one display row


def _clock():
    y, mo, d, h, mi = time.localtime()[:5]
    return "%04d-%02d-%02d %02d:%02d" % (y, mo, d, h, mi)


def _net_icon():
    return t("net_unknown" if status.network is None else ("net_ok" if status.network else "net_down"))


def _paper_icon():
    p = status.paper
    return t({"ok": "paper_ok", "low": "paper_low", "out": "paper_out"}.get(p, "paper_unknown"))


def _promotions():
    """Idle-screen promotion lines from config/terminal.json ("promotions": [text, ...])."""
    import json
    try:
        with open("config/terminal.json") as f:
            p = json.load(f).get("promotions", [])
        return [str(x)[:28] for x in p if x][:8]
    except (OSError, ValueError, AttributeError):
        return []


class Ready(Screen):
    """Idle screen: merchant, date and time, power, network and paper status, promotions."""
    PROMO_EVERY_MS = 5000

    def __init__(self, merchant=None, board_name=""):
        self.merchant = merchant or _setting("merchant", DEFAULT_MERCHANT)
        self.board_name = board_name
        self._shown_clock = ""
        self._params_promos = _promotions()
        self.promos = self._params_promos
        self.picture = None             # file offset of the campaign picture shown (pos.marketing.idle)
        # set only by the operator (a signed parameter bundle: pos.tms.params); unsigned apps
        # from the development index run (pos.platform.runtime.DEV_DIR)
        self.developer_mode = _setting("developer_mode", False) is True
        self._promo = 0
        self._promo_t = time.ticks_ms()

    def draw(self, c):
        c.title(t("ready"), status.power + " " + _net_icon() + " " + _paper_icon())
        if self.developer_mode:
            c.center("DEVELOPER MODE", 0)
        lines = wrap(self.merchant, LINE_CHARS)
        for i, ln in enumerate(lines[:2]):
            c.center(ln, 2 - (len(lines) > 1) + i)
        self._shown_clock = _clock()
        c.center(self._shown_clock, 4)
        n = status.batch_count
        if n:
            c.center(t("batch_open", n=n), 6)
        if status.keys_error:
            c.center(t("keys_refused"), 7)
        elif status.test_keys:
            c.center(t("test_keys"), 7)
        leds = hw.leds()
        if leds is not None and status.lights_dark_at is None:
            leds.off()                 # no contactless polling at Ready (Book A 9.2)
        if status.pending:
            c.center("%s %d" % (t("pending"), status.pending), 8)     # owed to the hosts, sent when idle
        if status.sync_note:
            c.center(status.sync_note, 5)    # the cloud upload queue: near full, full, refused
        self._campaigns_now()
        if self.promos:
            c.center(self.promos[self._promo % len(self.promos)], 9)
        if self.picture is not None:
            campaigns.draw_picture(c, self.picture)
        c.footer(t("press_menu"))

    def _campaigns_now(self):
        """The lines and picture of the cloud's campaigns whose schedule holds now, before the
        idle-screen lines of the parameters; True when they differ from those shown."""
        lines, picture = campaigns.showing(time.localtime())
        promos = lines + self._params_promos if lines else self._params_promos
        changed = promos != self.promos or picture != self.picture
        self.promos, self.picture = promos, picture
        return changed

    def entered(self):
        """Back at Ready after a transaction or a menu: collect the garbage the flow left now,
        while nobody waits, so the next transaction starts on a clean heap (its own garbage
        is never interleaved with the last one's) and no collection runs mid-transaction
        for that garbage.  The free heap is logged: the figure a day at the counter is
        judged by."""
        services.idle()
        rt = sys.modules.get("pos.platform.runtime")
        if rt is not None:              # the Apps menu or the store was open: its modules go
            rt.leave()
        gc.collect()
        log.info("app", "idle", heap_free=gc.mem_free())

    def tick(self, c):
        changed = False
        now = _clock()
        if now != self._shown_clock:
            c.clear_rows(4)
            self._shown_clock = now
            c.center(now, 4)
            changed = True
            if self._campaigns_now():   # a campaign's hours began or ended, or a new file came
                self._promo = 0
                c.clear_rows(9)
                if self.promos:
                    c.center(self.promos[0], 9)
                if self.picture is None:
                    campaigns.clear_picture(c)
                else:
                    campaigns.draw_picture(c, self.picture)
        if len(self.promos) > 1 and time.ticks_diff(time.ticks_ms(), self._promo_t) > self.PROMO_EVERY_MS:
            self._promo_t = time.ticks_ms()
            self._promo += 1
            c.clear_rows(9)
            c.center(self.promos[self._promo % len(self.promos)], 9)
            changed = True
        return changed

    def on_key(self, key):
        if key == "MENU":
            return ("push", main_menu(self))
        if key == "F2":                 # the scan-or-PLU sale; its modules load only now
            from pos.app.basket import open_basket
            return open_basket(self.merchant)
        if key in ("1", "2", "3", "4", "5", "6", "7", "8", "9"):
            # typing an amount on the idle screen starts a sale
            return SaleFlow(hw.printer(), self.merchant, _setting("tips", False)).start(key)
        return None


def _not_yet(*args):
    return ("push", Info(t("not_yet"), [t("not_yet")]))


def _about(ready):
    gc.collect()
    lines = [
        "%s %s" % (t("firmware"), pos.VERSION),
        "%s %s" % (t("board"), ready.board_name),
        "MicroPython %d.%d.%d" % sys.implementation.version[:3],
        "%s %d" % (t("heap_free"), gc.mem_free()),
    ]
    return ("push", Info(t("about"), lines))


def _reports(ready):
    from pos.app import reports
    m = ready.merchant
    return ("push", Menu(t("reports"), [
        (t("x_report"), lambda: reports.x_report(m)),
        (t("z_report"), lambda: reports.z_report(m)),
        (t("txn_list"), lambda: reports.txn_list(m)),
    ]))


def _flow(name, ready):
    from pos.app import flows
    return getattr(flows, name)(ready.merchant)


def _language(ready):
    from pos.ui import messages

    def pick(lang):
        messages.set_language(lang)
        return ("home",)
    return ("push", Menu(t("language"), [
        (t("english"), lambda: pick("en")),
        (t("chinese"), lambda: pick("zh")),
    ]))


def _merchant_name(ready):
    from pos.app.flows import PinPrompt
    from pos.ui.widgets import TextEntry

    def save(name):
        if not name:
            return ("pop",)
        _save_setting("merchant", name)
        ready.merchant = name
        return ("home",)
    return ("push", PinPrompt(t("merchant_name"), "settings",
                              lambda op: ("replace", TextEntry(t("merchant_name"), save, ready.merchant))))


def _tips(ready):
    on = not _setting("tips", False)
    _save_setting("tips", on)
    return ("push", Info(t("tips"), [t("on") if on else t("off")]))


def _enrollment(ready):
    from pos.app.flows import PinPrompt

    def start(op):
        from pos.app.enroll import EnrollScreen
        return ("replace", EnrollScreen())
    return ("push", PinPrompt(t("enroll_title"), "enroll", start))


def _settings(ready):
    return ("push", Menu(t("settings"), [
        (t("language"), lambda: _language(ready)),
        (t("merchant_name"), lambda: _merchant_name(ready)),
        (t("tips"), lambda: _tips(ready)),
        (t("enroll_title"), lambda: _enrollment(ready)),
    ]))


def _setting(key, default=None):
    import json
    try:
        with open("config/terminal.json") as f:
            return json.load(f).get(key, default)
    except (OSError, ValueError, AttributeError):
        return default


def _save_setting(key, value):
    import json
    import os
    try:
        with open("config/terminal.json") as f:
            d = json.load(f)
    except (OSError, ValueError):
        d = {}
    d[key] = value
    with open("config/terminal.json.tmp", "w") as f:
        json.dump(d, f)
    os.rename("config/terminal.json.tmp", "config/terminal.json")


def main_menu(ready):
    return Menu(t("menu"), [
        (t("sale"), lambda: SaleFlow(hw.printer(), ready.merchant, _setting("tips", False)).start()),
        (t("refund"), lambda: _flow("refund", ready)),
        (t("void"), lambda: _flow("void", ready)),
        (t("preauth"), lambda: _flow("preauth", ready)),
        (t("completion"), lambda: _flow("completion", ready)),
        (t("tip_adjust"), lambda: _flow("tip_adjust", ready)),
        (t("reports"), lambda: _reports(ready)),
        (t("settings"), lambda: _settings(ready)),
        (t("about"), lambda: _about(ready)),
        (t("balance"), lambda: _balance(ready)),
        (t("stock"), lambda: _stock(ready)),
        (t("apps"), lambda: _apps(ready)),     # the last line: UP from the first reaches it
    ])


def _loaded(open_menu):
    """A menu whose modules load only when it opens: loaded on a collected heap (what they keep
    packs low, away from the idle screen's garbage), and once more after a collection when the
    heap had no block for them.  Nothing is done until the menu is shown, so a second try
    repeats nothing."""
    from pos import modules
    before = modules.loaded()
    gc.collect()
    try:
        return open_menu()
    except MemoryError:
        modules.unload_since(before)
        gc.collect()
        return open_menu()


def _stock(ready):
    def open_menu():
        from pos.app import stock           # loaded only here, let go when the errand ends
        return stock.menu(ready.merchant)
    return _loaded(open_menu)


def _apps(ready):
    def open_menu():
        from pos.platform import runtime   # loaded only here: nothing of it at Ready
        return runtime.menu(ready.merchant)
    return _loaded(open_menu)


def _balance(ready):
    from pos.app.card import CardTender
    return ("push", CardTender(ready.merchant, 0, "balance"))


__all__ = ["Ready", "main_menu", "format_amount"]
