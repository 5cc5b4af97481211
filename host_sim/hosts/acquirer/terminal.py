"""A terminal to drive the acquirer host with: a flash directory (the cwd of a
MicroPython process running the payment engine from firmware/, 192 KB heap)
holding config/acquirers.json (ports pointed at the running hosts) and a TEST
key-loading file.  Used by tests/hostlink, `smartpos demo` and `smartpos bench`.

`run_until_cut` kills the MicroPython process (SIGKILL) right after journal
write number N reached flash: a power cut at that point.
"""
import json
import os
import signal
import subprocess

from host_sim import mpy
from host_sim.hosts.acquirer import hsm

REPO = mpy.REPO_ROOT
# TEST stand-ins for pos.crypto / pos.emv.tlv, used only while the firmware lacks them
# Code run before each test body on the terminal (kept as a hook; the firmware
# now has every module it needs, so nothing is stood in any more).
PRELUDE = ""


def write_kld(path, acquirers=("alpha", "beta"), wallet_terminal="TERM0001"):
    """A TEST key-loading file for the terminal's flash (keys from the simulator's TEST data, each
    marked "test"; the wallet key is the one the wallet host gives `wallet_terminal`).  The
    terminal seals it into its key store at the next boot."""
    d = {"acquirers": {a: {"tmk": hsm.TEST_TMK[a].hex().upper(), "kcv": hsm.kcv(hsm.TEST_TMK[a]).hex().upper(),
                           "test": True}
                       for a in acquirers},
         "dek": hsm.TEST_DEK.hex().upper(), "dek_kcv": hsm.kcv(hsm.TEST_DEK).hex().upper(), "dek_test": True}
    import hashlib
    from host_sim.hosts.wallet import terminal_key
    wk = terminal_key(wallet_terminal)
    d["secrets"] = {"wallet": {"key": wk.hex().upper(), "kcv": hashlib.sha256(wk).digest()[:3].hex().upper(),
                               "test": True}}
    with open(path, "w") as f:
        json.dump(d, f)


# A plain MicroPython process (no board support) has no unique id or OTP: the engine there
# seals its key store under this TEST device identity instead (the virtual board's own KEK).
TEST_UID = bytes.fromhex("0123456789ABCDEF01234567")


def device_key_code(board=None):
    """MicroPython expression for KeyStore's `device`: None on a board (its own identity)."""
    if board is not None:
        return "None"
    from host_sim.board.virtual_board import TEST_KEK
    return ("__import__('pos.store.devicekey', None, None, ('DeviceKey',)).DeviceKey(bytes.fromhex(%r), "
            "bytes.fromhex(%r))" % (TEST_UID.hex(), TEST_KEK.hex()))


def key_store_code():
    """MicroPython statements for a plain MicroPython process (a bench, a harness) whose firmware
    opens the key store as the board's does (`KeyStore("keys.kld", ".")`): this process's TEST
    device identity stands for the board's, and a waiting key-loading file is sealed now."""
    return ("from pos.store import devicekey as _devicekey\n_dk = %s\n_devicekey.from_board = lambda: _dk\n"
            "__import__('pos.store.keystore', None, None, ('KeyStore',)).KeyStore('keys.kld', '.')\n"
            % device_key_code())


_MPY = {}


def firmware_mpy():
    """The firmware compiled to .mpy (as `smartpos flash` puts it on the board), once
    per process and again when a source changes.  A module that mpy-cross refuses
    (someone's work in progress) is copied as source instead, so it only matters
    to code that imports it."""
    import atexit
    import hashlib
    import shutil
    import tempfile
    from posbuild.mpy import firmware_files
    from posbuild.toolchain import mpy_cross_binary
    files = firmware_files()
    h = hashlib.sha256()
    for rel in files:
        st = os.stat(os.path.join(mpy.FIRMWARE_DIR, rel))
        h.update(("%s %d %d;" % (rel, st.st_mtime_ns, st.st_size)).encode())
    key = h.hexdigest()
    if key not in _MPY:
        out = tempfile.mkdtemp(prefix="smartpos-mpy-")
        atexit.register(shutil.rmtree, out, True)
        cross = mpy_cross_binary()
        for rel in files:
            src = os.path.join(mpy.FIRMWARE_DIR, rel)
            dst = os.path.join(out, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            r = subprocess.run([cross, "-s", rel, "-o", dst, src], capture_output=True)
            if r.returncode:
                shutil.copy(src, os.path.join(out, rel))
        _MPY[key] = out
    return _MPY[key]


def module_path():
    """MICROPYPATH: compiled firmware (when it builds), then the sources."""
    d = firmware_mpy()
    return mpy.module_path((d,) if d else ())


def frozen_prelude(heap=mpy.DEFAULT_HEAP):
    """(code, heap): the firmware's packages as the board runs them, frozen (a ROMFS image
    mounted at /rom, first on sys.path) with the heap grown by exactly what the unix port
    keeps in RAM for the image and its qstrs (docs/bridge.md "Frozen firmware"), so the
    engine gets the board's 192 KB for itself.  (None, heap) when no image can be built."""
    try:
        from posbuild.romfs import build_romfs, rom_qstr_bytes
        from host_sim.board.cpu import gc_table_cost, rom_heap_cost
        img = build_romfs()
    except Exception:
        return "", heap
    size = os.path.getsize(img)
    extra = rom_heap_cost(size) + rom_qstr_bytes(img)
    base = int(heap[:-1]) * 1024 if str(heap).endswith("K") else int(heap)
    code = ("import vfs, sys\n_r = bytearray(%d)\nwith open(%r, 'rb') as _f:\n    _f.readinto(_r)\n"
            "vfs.mount(vfs.VfsRom(_r), '/rom')\nsys.path.insert(0, '/rom')\ndel _r, _f\n" % (size, img))
    return code, base + extra + gc_table_cost(extra)


def mp_run(code, cwd=None, timeout=120, heap=mpy.DEFAULT_HEAP):
    pre, heap = frozen_prelude(heap)
    return mpy.run(pre + PRELUDE + code, heap=heap, cwd=cwd, timeout=timeout, env={"MICROPYPATH": module_path()})

BOOT = """
import json, sys
from pos import log
from pos.store.journal import Journal
from pos.store.keystore import KeyStore
from pos.payments import config as pcfg
from pos.payments.engine import PaymentEngine
from pos.payments.authorizer import AuthRequest
_LOG = []
log.add_sink(_LOG.append)
CUT = %(cut)d
def _hook(n, r):
    if n == CUT:
        print("@@CUT " + str(n) + " " + r["t"])
        import time
        while True:                   # the test kills us here (power cut)
            time.sleep_ms(50)
cfg = pcfg.load("config/acquirers.json")
ks = KeyStore("keys.kld", ".", %(device)s)
j = Journal("journal.bin", on_write=_hook)
eng = PaymentEngine(cfg, ks, j)
eng.start()
def sale(amount, pan="4761739001010119", expiry="2812", kind="sale", entry="manual", **kw):
    req = AuthRequest(kind, amount, "978", pan, expiry, entry_mode=entry, **kw)
    return req, eng.authorize(req)
def resp_dict(r):
    return {"approved": r.approved, "rc": r.response_code, "auth": r.auth_code, "rrn": r.rrn,
            "text": r.text, "unable": r.unable_to_go_online, "stan": r.stan, "acq": r.acquirer,
            "icc": r.icc_data.hex()}
def state():
    return {"net": eng.net_charged(), "pending": list(eng.pending), "writes": j.writes,
            "states": {str(s): eng.txns[s].state for s in eng.txns}, "discarded": j.discarded}
def out(x):
    print("@@" + json.dumps(x))
"""


class Terminal:
    def __init__(self, flash, hosts, timeout_ms=2000, secondary=None, base_ms=50, routes=None, tid=None,
                 drop_missing=False, board=None):
        """`board`: a started host_sim.board.VirtualBoard whose flash is `flash`
        (the firmware goes there as .mpy, as `smartpos flash` puts it); None: a
        MicroPython process with `flash` as its working directory."""
        self.board = board
        self.flash = str(flash)
        os.makedirs(os.path.join(self.flash, "config"), exist_ok=True)
        cfg = json.load(open(os.path.join(REPO, "firmware", "config", "acquirers.json")))
        for name, a in cfg["acquirers"].items():
            h = hosts.get(name)
            if h is not None:
                a["port"] = h.port
                a["spec"] = h.spec_name
            else:
                a["port"] = 1                           # nothing listens there
            a["timeout_ms"] = timeout_ms
            a["connect_timeout_ms"] = 1000
            a["secondary"] = (secondary or {}).get(name)
            if tid and name == "alpha":
                a["tid"] = tid                          # another terminal of the same merchant
        if drop_missing:                                # only the acquirers that have a host here
            cfg["acquirers"] = {n: a for n, a in cfg["acquirers"].items() if n in hosts}
            cfg["routes"] = [r for r in cfg["routes"] if r["acquirer"] in hosts]
        if routes is not None:
            cfg["routes"] = routes
        cfg["retry"] = {"base_ms": base_ms, "max_ms": 1000}
        self.config = cfg
        with open(os.path.join(self.flash, "config", "acquirers.json"), "w") as f:
            json.dump(cfg, f)
        write_kld(os.path.join(self.flash, "keys.kld"))
        if board is not None:
            import shutil
            built = firmware_mpy()
            if built is None:
                raise RuntimeError("the firmware does not compile with mpy-cross")
            shutil.copytree(built, self.flash, dirs_exist_ok=True)

    def run(self, body, timeout=60):
        """Boot the engine, run `body` (MicroPython code), return the @@ JSON objects."""
        if self.board is not None:
            self.board.hard_reset()                    # a fresh boot, as after power-on
            self.board.wait_ready(timeout)
            out = self.board.exec(PRELUDE + BOOT % {"cut": 0, "device": "None"} + body, timeout=timeout)
        else:
            out = mp_run(BOOT % {"cut": 0, "device": device_key_code()} + body, cwd=self.flash, timeout=timeout)
        return [json.loads(line[2:]) for line in out.splitlines() if line.startswith("@@")]

    def run_until_cut(self, body, cut, timeout=60):
        """Run `body`, SIGKILL the process right after journal write number `cut`.
        Returns (cut_happened, record type at the cut)."""
        if self.board is not None:
            return self._board_cut(body, cut, timeout)
        env = dict(os.environ, MICROPYPATH=module_path())
        pre, heap = frozen_prelude()
        code = pre + PRELUDE + BOOT % {"cut": cut, "device": device_key_code()} + body
        p = subprocess.Popen([mpy.micropython_binary(), "-X", "heapsize=%s" % heap, "-c", code],
                             cwd=self.flash, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            for line in p.stdout:
                if line.startswith("@@CUT "):
                    p.send_signal(signal.SIGKILL)     # power cut: nothing after this write runs
                    p.wait(timeout)
                    return True, line.split()[2]
            p.wait(timeout)
            return False, p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def _board_cut(self, body, cut, timeout):
        vb = self.board
        vb.hard_reset()
        vb.wait_ready(timeout)
        m = vb.mark()
        vb.write(b"\r\x03\x03\r\x01")
        vb.wait_for(b"raw REPL; CTRL-B to exit\r\n>", timeout, m)
        m = vb.mark()
        vb.write((PRELUDE + BOOT % {"cut": cut, "device": "None"} + body).encode() + b"\x04")
        try:
            i = vb.wait_for(b"@@CUT ", timeout, m)
            vb.wait_for(b"\n", 5, i)
        except Exception as e:                     # no such write: the code finished or failed
            return False, str(e)
        vb.hard_reset()                            # power cut: the CPU stops right here
        line = vb.console().rsplit("@@CUT ", 1)[1].split("\n", 1)[0]
        return True, line.split()[1]

    def journal_path(self):
        return os.path.join(self.flash, "journal.bin")
