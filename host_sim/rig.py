"""A whole counter on the PC: the acquirer hosts, the virtual board with the firmware frozen
in ROM and its flash provisioned (acquirer addresses, TEST key-loading file), and the
hands of a cashier (keys, card slot, display reading).  Used by the end-to-end tests and
the `smartpos demo` scenarios.

    with Rig() as rig:
        rig.sale_by_card(1250, "visa-credit", pin="1234")
        rig.receipts()[-1]
"""
import json
import os
import tempfile
import time

from host_sim.board import VirtualBoard, virtual_board
from host_sim.hosts.acquirer import AcquirerHost
from host_sim.hosts.acquirer.terminal import write_kld

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACQUIRERS = (("alpha", "iso87"), ("beta", "iso87bcd"))


def provision(flash_dir, hosts, timeout_ms=5000, random_selection=True, wallet=None):
    """Point config/acquirers.json at `hosts` ({name: AcquirerHost}) and load TEST keys.
    random_selection=False: terminal risk management's random online selection off (EMV
    Book 3 10.6.2), so an offline scenario gives the same outcome on every run."""
    os.makedirs(os.path.join(flash_dir, "config"), exist_ok=True)
    with open(os.path.join(REPO, "firmware", "config", "acquirers.json")) as f:
        cfg = json.load(f)
    for name, a in cfg["acquirers"].items():
        h = hosts.get(name)
        if h is not None:
            a["port"] = h.port
            a["spec"] = h.spec_name
        a["timeout_ms"] = timeout_ms
        a["connect_timeout_ms"] = 1000
        a["secondary"] = None
    with open(os.path.join(flash_dir, "config", "acquirers.json"), "w") as f:
        json.dump(cfg, f)
    # key injection: a TEST key-loading file, sealed into keystore.bin by the terminal at boot;
    # a terminal that already has a key store keeps it
    if not any(os.path.exists(os.path.join(flash_dir, f)) for f in ("keys.kld", "keystore.bin")):
        write_kld(os.path.join(flash_dir, "keys.kld"))
    if wallet is not None:
        with open(os.path.join(REPO, "firmware", "config", "wallet.json")) as f:
            w = json.load(f)
        w.update({"host": "127.0.0.1", "port": wallet.port, "terminal_id": "TERM0001"})
        with open(os.path.join(flash_dir, "config", "wallet.json"), "w") as f:
            json.dump(w, f)
    if not random_selection:
        path = os.path.join(flash_dir, "config", "emv.json")
        with open(os.path.join(REPO, "firmware", "config", "emv.json")) as f:
            emv = json.load(f)
        for sch in emv["schemes"].values():
            sch["random_target_percent"] = 0
            sch["random_max_percent"] = 0
        with open(path, "w") as f:
            json.dump(emv, f, indent=1)


# the product heap: the board's 192K on this 64-bit port (host_sim.board.virtual_board)
PRODUCT_HEAP = virtual_board.PRODUCT_HEAP


class Rig:
    def __init__(self, heap=PRODUCT_HEAP, flash_dir=None, firmware="frozen", random_selection=False,
                 before_boot=None, power_cuts=False, cpu_env=None, slots=False):
        """before_boot(rig): called with the hosts up and the flash provisioned, before the
        board starts (arm a host fault, write a setting).  power_cuts: number and log every
        flash operation so a test can cut the power at any of them (VirtualBoard.arm_power_cut,
        power_cycle).  slots: the firmware in two ROMFS slots behind the bootloader (updates)."""
        self.slots = slots
        self.random_selection = random_selection
        self.before_boot = before_boot
        self.power_cuts = power_cuts
        self.cpu_env = cpu_env          # extra environment of the board's CPU (host_sim.alloc_probe)
        self._tmp = None
        if flash_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="smartpos-rig-")
            flash_dir = os.path.join(self._tmp, "flash")
        self.flash_dir = flash_dir
        self.heap = heap
        self.firmware = firmware
        self.hosts = {}
        self.board = None

    def start(self):
        for name, spec in ACQUIRERS:
            self.hosts[name] = AcquirerHost(port=0, name=name, spec=spec).start()
        from host_sim.hosts.wallet import WalletHost
        self.wallet = WalletHost(port=0).start()
        os.makedirs(self.flash_dir, exist_ok=True)
        def prepare(d):
            provision(d, self.hosts, random_selection=self.random_selection, wallet=self.wallet)
            if self.before_boot is not None:
                self.before_boot(self)
        ctl = None
        if self.power_cuts:
            ctl = os.path.join(self._tmp or os.path.dirname(self.flash_dir), "flash-ctl")
        self.board = VirtualBoard(self.flash_dir, heap=self.heap, firmware=self.firmware, pty=False,
                                  provision=prepare, flash_ctl=ctl, env=self.cpu_env, slots=self.slots)
        Rig.live.add(self)
        try:
            self.board.start()
            self.board.wait_for("smartpos ready", 120)
        except BaseException:
            self.stop()             # nothing left running when the terminal never came up
            raise
        return self

    def stop(self):
        if self.board is not None:
            try:                        # what it printed, for a test or demo that failed with it
                Rig.last_console = self.board.console()[-6000:]
            except Exception:
                pass
            self.board.stop()
        Rig.live.discard(self)
        for h in self.hosts.values():
            h.stop()
        if getattr(self, "wallet", None) is not None:
            self.wallet.stop()
        if self._tmp:
            import shutil
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    # the rigs running now, and the console of the last one stopped (its board is gone by
    # then): what a failed demo (smartpos demo) or test (tests/conftest.py) prints for the reader
    live = set()
    last_console = ""

    def __exit__(self, *exc):
        self.stop()

    def power_cycle(self, off_s=0.0, timeout=30):
        """Power off (if a test point has not already) and on again; wait for Ready.
        Flash operations are numbered from 1 again after this boot."""
        if self.board.powered:
            self.board.power_cut()
        if off_s:
            time.sleep(off_s)
        if self.power_cuts:
            self.board.clear_flash_ops()
        m = self.board.mark()
        self.board.power_on()
        self.board.wait_for("smartpos ready", timeout, since=m)
        self.wait_text("READY", timeout)

    # -- the cashier's hands ----------------------------------------------
    @property
    def display(self):
        return self.board.devices["display"]

    @property
    def printer(self):
        return self.board.devices["printer"]

    @property
    def slot(self):
        return self.board.devices["contact"]

    def keys(self, seq, pace=0):
        """Press keys as a cashier does: each once the firmware has read the one before from
        the keypad's FIFO (which holds five taps); `pace` adds a pause (s) between keys."""
        keypad = self.board.devices["keypad"]
        for k in seq:
            keypad.type([k])
            if pace:
                time.sleep(pace)

    def amount_keys(self, minor):
        return list(str(minor))

    def wait_text(self, needle, timeout=30):
        text = self.display.wait_text(needle, timeout)
        if text is None:
            raise TimeoutError("display never showed %r within %ss; it shows:\n%s"
                               % (needle, timeout, self.display.text()))
        return self._whole(text, lambda t: needle in t)

    def wait_any(self, needles, timeout=30):
        def shown(t):
            return any(n in t for n in needles)
        text = self.display.wait_until(shown, timeout)
        if text is None:
            raise TimeoutError("display never showed any of %r within %ss; it shows:\n%s"
                               % (needles, timeout, self.display.text()))
        text = self._whole(text, shown)
        return [n for n in needles if n in text][0], text

    def _whole(self, text, shown):
        """A screen goes out in bands, top first: the text is read as soon as the awaited part
        is there.  Read again once the models have taken what the board has sent so far (the
        rest of that screen, as a rule), unless that shows another screen already."""
        self.board.bridge.settle()
        again = self.display.text()
        return again if shown(again) else text

    def home(self):
        # just after boot the terminal may still be on its start-up work (sign-on, owed
        # reversals and advices) before it reads the keypad; on a loaded machine that took
        # over 30 s once: the first key gets a generous ceiling
        self.board.devices["keypad"].type(["CANCEL"], timeout=120)
        self.keys(["CANCEL", "CANCEL"])
        self.wait_text("READY", 60)

    def apps_menu(self):
        """From anywhere: Ready, MENU, its last line (Apps); the Apps menu's text."""
        self.home()
        self.keys(["MENU"])
        self.wait_text("1 Sale")
        self.keys(["UP", "ENTER"])
        return self.wait_text("App store")

    def insert(self, profile_or_card):
        card = profile_or_card
        if isinstance(card, str):
            from host_sim.cards import make_card
            card = make_card(card)
        self.slot.insert(card)
        return card

    def remove(self):
        self.slot.remove()

    def receipts(self):
        return self.printer.receipts()

    def batch(self):
        p = os.path.join(self.flash_dir, "batch.jsonl")
        if not os.path.exists(p):
            return []
        out = []
        for line in open(p):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass              # torn by a power cut: the firmware skips it too
        return out

    # -- whole flows ------------------------------------------------------------
    def show_merchant_qr(self, minor):
        """Key the amount, choose QR, then Show QR: the merchant's code for the customer's
        wallet is on the display.  Returns the wallet host's order for it (a dict)."""
        self.keys(self.amount_keys(minor) + ["ENTER"])
        self.wait_text("3 QR")
        self.keys(["3"])
        self.wait_text("1 Show QR")
        self.keys(["1"])
        self.wait_text("Scan with your wallet app", 30)
        with self.wallet.lock:
            return [o for o in self.wallet.orders.values() if o["status"] == "pending"][-1]

    def sale_by_card(self, minor, profile, pin=None, timeout=60, app=None):
        """Key the amount, choose Card, insert the card, choose the application `app` and
        enter the PIN if asked; return the result screen's text (APPROVED / DECLINED /
        NOT COMPLETED ...)."""
        self.home()
        self.keys(self.amount_keys(minor) + ["ENTER"])
        self.wait_text("2 Card")
        self.keys(["2"])
        self.wait_text("INSERT")
        card = self.insert(profile)
        self.last_card = card
        return self.finish_card(pin, timeout, app=app)

    def finish_card(self, pin=None, timeout=60, done=("APPROVED", "DECLINED", "NOT COMPLETED"), app=None):
        """The cardholder's part of a chip transaction until a `done` screen; its text.
        pin: keyed when ENTER PIN is asked (None: bypass with ENTER).  app: on a card with
        several applications, the one to use when the terminal asks (CHOOSE APPLICATION):
        its label as listed, or its 1-based place in the list; None takes the first."""
        end = time.monotonic() + timeout
        prompts = ["ENTER PIN", "CHOOSE APPLICATION", "Use this application?"]
        while True:
            which, text = self.wait_any(prompts + list(done), max(1, end - time.monotonic()))
            if which == "CHOOSE APPLICATION":
                self.keys([str(self._app_choice(text, app))])
            elif which == "Use this application?":
                self.keys(["ENTER"])
            elif which == "ENTER PIN":
                self.keys(list(pin or "") + ["ENTER"])      # no PIN: bypass
            else:
                return text
            # the kernel takes the answer: the prompt goes away (then the next one or a result)
            self.display.wait_until(lambda t: which not in t, max(1, end - time.monotonic()))

    @staticmethod
    def _app_choice(text, app):
        """The 1-based place of `app` on the CHOOSE APPLICATION list shown in `text`."""
        if app is None:
            return 1
        if isinstance(app, int):
            return app
        for line in text.splitlines():
            parts = line.strip().split(" ", 1)
            if len(parts) == 2 and parts[0].isdigit() and parts[1].strip() == app:
                return int(parts[0])
        raise ValueError("application %r is not on the list the terminal shows:\n%s" % (app, text))
