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

from host_sim.board import VirtualBoard
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
    if not os.path.exists(os.path.join(flash_dir, "keys.kld")):
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


# The whole terminal (UI, EMV kernel, payment engine) on the 64-bit unix port: MicroPython
# objects there take 8-byte words where the Cortex-M4 takes 4, so the 192 KB board budget
# needs more here.  Measured smallest heap for a card sale: see docs/bridge.md.
PRODUCT_HEAP = "256K"


class Rig:
    def __init__(self, heap=PRODUCT_HEAP, flash_dir=None, firmware="frozen", random_selection=False,
                 cpu_env=None):
        self.random_selection = random_selection
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
        self.board = VirtualBoard(self.flash_dir, heap=self.heap, firmware=self.firmware, pty=False,
                                  env=self.cpu_env,
                                  provision=lambda d: provision(d, self.hosts,
                                                                random_selection=self.random_selection,
                                                                wallet=self.wallet))
        self.board.start()
        self.board.wait_for("smartpos ready", 30)
        return self

    def stop(self):
        if self.board is not None:
            self.board.stop()
        for h in self.hosts.values():
            h.stop()
        if getattr(self, "wallet", None) is not None:
            self.wallet.stop()
        if self._tmp:
            import shutil
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

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

    def keys(self, seq, pace=0.05):
        for k in seq:
            self.board.devices["keypad"].tap(k)
            time.sleep(pace)

    def amount_keys(self, minor):
        return list(str(minor))

    def wait_text(self, needle, timeout=15):
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.display.text()
            if needle in text:
                return text
            time.sleep(0.1)
        raise TimeoutError("display never showed %r; it shows:\n%s" % (needle, text))

    def wait_any(self, needles, timeout=30):
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.display.text()
            for n in needles:
                if n in text:
                    return n, text
            time.sleep(0.1)
        raise TimeoutError("display never showed any of %r; it shows:\n%s" % (needles, text))

    def home(self):
        self.keys(["CANCEL", "CANCEL", "CANCEL"])
        self.wait_text("READY")

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
        return [json.loads(l) for l in open(p) if l.strip()]

    # -- whole flows ------------------------------------------------------------
    def sale_by_card(self, minor, profile, pin=None, timeout=60):
        """Key the amount, choose Card, insert the card, enter the PIN if asked; return the
        result screen's text (APPROVED / DECLINED / NOT COMPLETED ...)."""
        self.home()
        self.keys(self.amount_keys(minor) + ["ENTER"])
        self.wait_text("2 Card")
        self.keys(["2"])
        self.wait_text("INSERT CARD")
        card = self.insert(profile)
        self.last_card = card
        return self.finish_card(pin, timeout)

    def finish_card(self, pin=None, timeout=60, done=("APPROVED", "DECLINED", "NOT COMPLETED")):
        end = time.monotonic() + timeout
        while True:
            which, text = self.wait_any(["ENTER PIN"] + list(done), max(1, end - time.monotonic()))
            if which != "ENTER PIN":
                return text
            if pin is None:
                self.keys(["ENTER"])          # bypass
            else:
                self.keys(list(pin) + ["ENTER"])
            t = time.monotonic() + 5           # the kernel takes the PIN: the prompt goes away
            while "ENTER PIN" in self.display.text() and time.monotonic() < t:
                time.sleep(0.05)
