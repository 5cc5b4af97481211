"""What the workloads cost on the board's MCU, estimated from instruction counts, and how big
the firmware is (docs/performance.md says where every figure comes from).

mcu-estimates   per workload: x86-64 instructions on the MicroPython unix port (valgrind
                callgrind: the workload run N times and 0 times after the same set-up and
                warm-up, the difference divided by N), the Cortex-M4 time range those
                instructions imply at 168 MHz with the cycles-per-instruction factor below,
                and the heap allocated per operation on the 64-bit port (gc.mem_alloc with
                the collector off); a contact chip sale's terminal side (the EMV kernel's
                process only: the card and the host answer from this one).  Needs valgrind
                (apt install valgrind).
firmware-size   .mpy bytes per firmware package and the ROMFS image a board build freezes,
                against the committed baseline (firmware-size-baseline.json beside this
                file): a package more than 10 % over its baseline is flagged WARNING.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

# Cortex-M4 (PYBv1.0, STM32F405 at 168 MHz) cycles per x86-64 instruction of the unix port:
# MicroPython's published perf_bench times on PYBv1.0 against callgrind counts of the same
# benchmarks on our unix port (docs/performance.md, "The factor").  The lowest and highest
# of the four benchmarks bound the estimate.
M4_FACTOR = (1.68, 2.31)
M4_FACTOR_NAME = "PYBv1.0 perf_bench cycles per x86-64 instruction"
M4_HZ = 168000000
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# the qr-merchant demo's payload (EMVCo MPM, 159 characters, QR version 9)
MERCHANT_QR = ("00020101021226420019com.smartpos.wallet0115MERCHANT0000001520458125303840540512.50"
               "5802US5919SMARTPOS DEMO STORE6009SAN DIEGO62230107W0001230708TERM00016304C45D")

_ISO_SETUP = """
import binascii
from pos.iso8583 import codec, mac, spec
S = spec.get("iso87")
F = {2: "4761739001010119", 3: "000000", 4: "000000001234", 7: "1122113015", 11: "000017",
     12: "113015", 13: "1122", 14: "2812", 22: "051", 23: "001", 25: "00", 41: "TERM0001",
     42: "MERCHANT0000001", 49: "978", 55: binascii.unhexlify(
     "9F2608A1B2C3D4E5F607189F2701809F100706010A03A000009F3704DEADBEEF950500000080009A03261122"
     "9C01005F2A02097882025C009F3602001C9F02060000000012349F0306000000000000"), 62: "000042"}
K = binascii.unhexlify("0123456789ABCDEFFEDCBA9876543210")
"""

# an approved online chip sale's batch entry (pos.app.batch) and a printer that is ready: every
# DLE EOT status answers 0x12 (online, paper, cover closed); what is printed is counted, not kept
_RECEIPT_SETUP = """
from pos.drivers import escpos
from pos.app import receipt
class _Uart:
    n = 0
    def write(self, b):
        self.n += len(b)
        return len(b)
    def any(self):
        return 0
    def read(self, n=None):
        return b""
    def readinto(self, buf):
        buf[0] = 0x12
        return 1
P = escpos.EscPos(_Uart())
E = {"mid": "000000000000123", "tid": "TERM0001", "dt": "2026-11-29 14:20:00", "inv": 42,
     "stan": "000042", "kind": "sale", "label": "VISA CREDIT", "entry": "CHIP",
     "pan": "476173******0119", "aid": "A0000000031010", "tvr": "0000008000", "tsi": "E800",
     "ctype": "TC", "cryptogram": "1A2B3C4D5E6F7081", "amount": 6000, "result": "APPROVED",
     "auth": "A1B2C3", "rc": "00", "text": "APPROVED", "cvm": "offline_pin", "sig": False, "ok": True}
"""

# name: (set-up, one operation, N for the instruction count)
WORKLOADS = {
    "QR encode, qr-merchant payload (version 9, level M)": (
        "from pos.qr import encoder\nP = %r\n" % MERCHANT_QR, "encoder.encode(P)", 2),
    "QR encode, 2,000 characters refused": (
        "from pos.qr import encoder\nP = 'x' * 2000\n",
        "try:\n    encoder.encode(P)\nexcept encoder.QRError:\n    pass", 20),
    "3DES block (two-key, ECB)": (
        "from pos.crypto.des import des_encrypt\nK = bytes(range(1, 17))\nD = bytes(8)\n",
        "des_encrypt(K, D)", 50),
    "ISO 8583 0200 encode + decode": (
        _ISO_SETUP, "codec.decode(S, codec.encode(S, '0200', F))", 20),
    "ISO 8583 0200 MACed (X9.19) + decode + MAC check": (
        _ISO_SETUP, "b = mac.encode(S, '0200', F, K)\nm, f = codec.decode(S, b)\nmac.verify(S, b, f, K)", 10),
    "chip sale receipts, customer and merchant copy (ESC/POS)": (
        _RECEIPT_SETUP, "receipt.print_card(P, 'SMARTPOS DEMO STORE', E, 'USD', 'CUSTOMER COPY')\n"
                        "receipt.print_card(P, 'SMARTPOS DEMO STORE', E, 'USD', 'MERCHANT COPY')", 5),
}


def _script(setup, op, n):
    body = "\n".join("    " + line for line in op.splitlines())
    return "%s\ndef _op():\n%s\n_op()\nfor _ in range(%d):\n    _op()\n" % (setup, body, n)


def _env():
    from posbuild.toolchain import FIRMWARE_DIR
    e = dict(os.environ)
    e["MICROPYPATH"] = FIRMWARE_DIR
    e["PYTHONHASHSEED"] = "0"          # the interpreter's Python wrapper: the same work in every run
    return e


def instructions(setup, op, n):
    """x86-64 instructions of one `op` on the unix port: callgrind, n runs minus 0 runs."""
    from posbuild.toolchain import micropython_binary
    counts = []
    with tempfile.TemporaryDirectory(prefix="smartpos-cg-") as d:
        for runs in (n, 0):
            path = os.path.join(d, "w%d.py" % runs)
            with open(path, "w") as f:
                f.write(_script(setup, op, runs))
            r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + os.devnull,
                                micropython_binary(), "-X", "heapsize=192K", path],
                               capture_output=True, text=True, env=_env(), timeout=900)
            m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
            if r.returncode or not m:
                raise RuntimeError("callgrind run failed: %s" % (r.stderr or r.stdout)[-600:])
            counts.append(int(m.group(1)))
    return (counts[0] - counts[1]) / n


def _allocation_code(setup, op):
    body = "\n".join("    " + line for line in op.splitlines())
    return ("import gc\n%s\ndef _op():\n%s\n_op()\ngc.collect()\ngc.disable()\n_a = gc.mem_alloc()\n"
            "_op()\nprint('@@', gc.mem_alloc() - _a)\n" % (setup, body))


def _setup_code(setup):
    # what the set-up keeps: its imports (from .mpy) and constants, after a collection
    return "import gc\ngc.collect()\n_a = gc.mem_alloc()\n%s\ngc.collect()\nprint('@@', gc.mem_alloc() - _a)\n" % setup


def _unix_figure(code, path):
    from posbuild.toolchain import micropython_binary
    env = _env()
    env["MICROPYPATH"] = path
    r = subprocess.run([micropython_binary(), "-X", "heapsize=16M", "-c", code],
                       capture_output=True, text=True, env=env, timeout=300)
    m = re.search(r"@@ (\d+)", r.stdout)
    if not m:
        raise RuntimeError("allocation probe failed: %s" % (r.stderr or r.stdout)[-600:])
    return int(m.group(1))


def allocation(setup, op):
    """Bytes the heap gives out for one `op` (after a warm-up) on the 64-bit unix port."""
    from posbuild.toolchain import FIRMWARE_DIR
    return _unix_figure(_allocation_code(setup, op), FIRMWARE_DIR)


_MPY_TREE = []


def mpy_tree():
    """The firmware compiled to plain-bytecode .mpy (what both ports load), as a directory."""
    if not _MPY_TREE:
        from posbuild import mpy
        import atexit
        tree = tempfile.mkdtemp(prefix="smartpos-mpy-tree-")
        atexit.register(shutil.rmtree, tree, True)
        with tempfile.TemporaryDirectory() as out:
            for rel, local in mpy.build_cached(out):
                dst = os.path.join(tree, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(local, dst)
        _MPY_TREE.append(tree)
    return _MPY_TREE[0]


def setup_heap(setup):
    """Bytes the workload's set-up keeps on the 64-bit unix port, its modules loaded as .mpy."""
    return _unix_figure(_setup_code(setup), mpy_tree())


def allocation_32(setup, op):
    """allocation() on the 32-bit port (port32: MicroPython's WebAssembly port)."""
    from smartpos.benches import port32
    return port32.figure(_allocation_code(setup, op), mpy_tree())


def setup_heap_32(setup):
    from smartpos.benches import port32
    return port32.figure(_setup_code(setup), mpy_tree())


def board_times(port, names=None):
    """Each workload timed on a board (or the virtual board) at `port` with time.ticks_us over
    its N operations after the warm-up, through mpremote: [(name, ms per operation)]."""
    import sys
    mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
    out = []
    for name, (setup, op, n) in WORKLOADS.items():
        if names is not None and name not in names:
            continue
        body = "\n".join("    " + line for line in op.splitlines())
        code = ("import time\n%s\ndef _op():\n%s\n_op()\n_t = time.ticks_us()\nfor _ in range(%d):\n"
                "    _op()\nprint('@@', time.ticks_diff(time.ticks_us(), _t) / %d)\n" % (setup, body, n, n))
        r = subprocess.run([mpremote, "connect", port, "exec", code], capture_output=True, text=True, timeout=600)
        m = re.search(r"@@ ([0-9.e+-]+)", r.stdout)
        if r.returncode or not m:
            raise RuntimeError("%s on the board at %s: %s" % (name, port, (r.stderr or r.stdout)[-600:]))
        out.append((name, float(m.group(1)) / 1000.0))
    return out


def m4_range_ms(count):
    return tuple(count * f / M4_HZ * 1000.0 for f in M4_FACTOR)


def mcu_estimates():
    board = os.environ.get("SMARTPOS_BENCH_BOARD")       # smartpos bench --board=PORT
    if board:
        return [(name + ": measured on the board at " + board, ms, "ms") for name, ms in board_times(board)]
    if shutil.which("valgrind") is None:
        return [("valgrind not installed: no instruction counts (apt install valgrind)", 0, "")]
    from smartpos.benches import port32
    rows = [("Cortex-M4 factor (%s)" % M4_FACTOR_NAME, "%.2f-%.2f" % M4_FACTOR, "cycles/instr")]
    have32 = port32.entry() is not None
    if not have32:
        rows.append(("32-bit heap figures: " + port32.missing_reason(), 0, ""))
    for name, (setup, op, n) in WORKLOADS.items():
        count = instructions(setup, op, n)
        lo, hi = m4_range_ms(count)
        rows.append((name + ": x86-64 instructions", int(count), "instr"))
        rows.append((name + ": Cortex-M4 168 MHz estimate", "%.3g-%.3g" % (lo, hi), "ms"))
        rows.append((name + ": heap allocated (64-bit port)", allocation(setup, op), "bytes"))
        rows.append((name + ": set-up kept, modules as .mpy (64-bit port)", setup_heap(setup), "bytes"))
        if have32:
            rows.append((name + ": heap allocated (32-bit port)", allocation_32(setup, op), "bytes"))
            rows.append((name + ": set-up kept, modules as .mpy (32-bit port)", setup_heap_32(setup), "bytes"))
    allocated = dict(emv_allocations())
    for name, count in emv_instructions():
        lo, hi = m4_range_ms(count)
        rows.append(("%s, terminal side: x86-64 instructions" % name, int(count), "instr"))
        rows.append(("%s, terminal side: Cortex-M4 168 MHz estimate" % name, "%.3g-%.3g" % (lo, hi), "ms"))
        rows.append(("%s, terminal side: heap allocated (64-bit port)" % name, allocated[name], "bytes"))
    from host_sim.rig import PRODUCT_HEAP
    phases = boot_instructions()
    total = sum(count for _, count in phases)
    lo, hi = m4_range_ms(total)
    rows.append(("power-on to Ready (boot.py + main.py, frozen, %s): x86-64 instructions" % PRODUCT_HEAP,
                 int(total), "instr"))
    rows.append(("power-on to Ready: Cortex-M4 168 MHz estimate (goal 1,000 ms)", "%.0f-%.0f" % (lo, hi), "ms"))
    for name, count in phases:
        lo, hi = m4_range_ms(count)
        rows.append(("  power-on phase: %s" % name, "%d instr, %.0f-%.0f" % (count, lo, hi), "ms"))
    return rows


def _process_instructions(run):
    """x86-64 instructions of the MicroPython process(es) that run() starts through
    host_sim.mpy.micropython_binary(), the interpreter put under callgrind by a wrapper."""
    from posbuild.toolchain import micropython_binary
    real = micropython_binary()
    with tempfile.TemporaryDirectory(prefix="smartpos-cg-") as d:
        out = os.path.join(d, "callgrind.out")
        wrapper = os.path.join(d, "micropython")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s \"$@\"\n" % (out, real))
        os.chmod(wrapper, 0o755)
        saved = os.environ.get("SMARTPOS_MICROPYTHON")
        saved_seed = os.environ.get("PYTHONHASHSEED")
        os.environ["SMARTPOS_MICROPYTHON"] = wrapper
        os.environ["PYTHONHASHSEED"] = "0"
        try:
            run()
        finally:
            for k, v in (("SMARTPOS_MICROPYTHON", saved), ("PYTHONHASHSEED", saved_seed)):
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with open(out) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    return int(line.split()[1]) - _explicit_collections(out)
    raise RuntimeError("no callgrind totals")


def _explicit_collections(out):
    """Instructions of the gc.collect() calls in a callgrind run (the driver's between card
    transactions, as the services make them around each card: collector.HeldOff keeps the
    collector off while a kernel runs and collects after it).  A collection an allocation
    forces inside a transaction is not one of them and stays counted."""
    r = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                       capture_output=True, text=True, check=True)
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*:py_gc_collect \[", line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0


def _emv_transactions(capk_dir):
    """(name, run) for each card transaction measured: run(runs, **harness options) makes that
    many on the EMV kernel in MicroPython (tests/emv's harness, lean: nothing of the driver's
    between transactions), against the TEST card of tests/emv (contact: CDA, offline PIN, the
    issuer's host) or the visa-credit profile's contactless card, answering from this process."""
    import sys
    tests = os.path.join(REPO, "tests", "emv")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import cardkit
    import harness
    from host_sim.cards.contactless import make_card
    pki = cardkit.TestPki()
    capk = pki.capk_json(os.path.join(capk_dir, "capk_test.json"))
    cl = os.path.join(REPO, "firmware", "config", "contactless.json")

    def contact(online, amount):
        def run(runs, **kw):
            if online:
                kw["authorizer"] = cardkit.HsmHost()
            h = harness.Harness(cardkit.MiniCard(pki, oda="CDA", issuer="hsm"), capk=capk,
                                pins=["1234"] * runs, timeout=600, lean=True, **kw)
            return h.run(*[{"amount": amount}] * runs)
        return run

    def tap(amount):
        # at or under the AID's contactless floor (config/contactless.json: 20.00) the card
        # approves offline and the kernel checks its fDDA signature (three RSA recoveries): the
        # heaviest tap; over it the card asks to go online (ARQC) and the issuer approves, here in
        # the kernel's own process (its request is a host's work, not counted)
        def run(runs, **kw):
            h = harness.Harness(make_card("visa-credit"), with_authorizer="approve", contactless=cl,
                                timeout=600, lean=True, **kw)
            return h.run(*[{"amount": amount}] * runs)
        return run

    return (("contact chip sale, offline CDA + offline PIN", contact(False, 1000)),
            ("contact chip sale, online (CDA, ARPC)", contact(True, 6000)),
            ("contactless tap, offline fDDA (qVSDC, 10.00)", tap(1000)),
            ("contactless tap, online qVSDC (ARQC, 30.00)", tap(3000)))


def _approved(name, rs):
    rs = rs if isinstance(rs, list) else [rs]
    if not all(r.outcome["result"] == "approved" for r in rs):
        raise RuntimeError("%s: not approved: %r" % (name, [r.outcome for r in rs]))
    return rs


def emv_instructions():
    """Terminal-side instructions of one transaction of each kind (card and host work is this
    process's, so not counted): a process running 1 + N transactions minus one running 1, over N."""
    capk_dir = tempfile.mkdtemp(prefix="smartpos-capk-")
    rows = []
    n = 4                                  # the taps' RSA work varies with the unpredictable number
    try:
        for name, run in _emv_transactions(capk_dir):
            counts = [_process_instructions(lambda: _approved(name, run(runs))) for runs in (1 + n, 1)]
            rows.append((name, (counts[0] - counts[1]) / n))
    finally:
        shutil.rmtree(capk_dir, ignore_errors=True)
    return rows


def emv_allocations():
    """Bytes the heap gives out during one transaction of each kind (the second of two in one
    process, the collector off while it runs; a 1 MB heap so that nothing is collected)."""
    capk_dir = tempfile.mkdtemp(prefix="smartpos-capk-")
    try:
        return [(name, _approved(name, run(2, alloc=True, heap="1M"))[-1].alloc)
                for name, run in _emv_transactions(capk_dir)]
    finally:
        shutil.rmtree(capk_dir, ignore_errors=True)


BOOT_PHASES = ("boot.py, display buffers, reserves, names interned (main.py to the services import)",
               "payment services: engine and its store, EMV kernel, keys (services.preload, sign-on)",
               "UI modules and drivers initialised (display, keypad, printer, readers)",
               "batch count, Ready screen drawn")


def _dump_counts(out):
    """Instructions in each callgrind dump of a run (out.1, out.2, ... in order)."""
    counts = []
    n = 1
    while os.path.exists("%s.%d" % (out, n)):
        with open("%s.%d" % (out, n)) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    counts.append(int(line.split()[1]))
                    break
        n += 1
    return counts


def boot_instructions():
    """Instructions of a power-on to Ready: the virtual board's second boot (keys sealed and
    the journal present from the first), frozen firmware at the product heap, the device
    models and the acquirer hosts of host_sim.rig attached.  Counted between marks the board
    support puts at boot.py's start, the phases of main.py and "smartpos ready"
    (host_sim/board/bsp/_bootmarks.py, callgrind dumps at mp_micropython_stack_use), so the
    interpreter's and the board support's start-up are not in it.  [(phase, count)]."""
    from host_sim.rig import Rig
    from posbuild.toolchain import micropython_binary
    real = micropython_binary()
    with tempfile.TemporaryDirectory(prefix="smartpos-cg-") as d:
        out = os.path.join(d, "callgrind.out")
        wrapper = os.path.join(d, "micropython")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec valgrind --tool=callgrind --dump-before=mp_micropython_stack_use "
                    "--callgrind-out-file=%s %s \"$@\"\n" % (out, real))
        os.chmod(wrapper, 0o755)
        with Rig(cpu_env={"SMARTPOS_BOOT_MARKS": "1"}) as rig:
            saved = os.environ.get("SMARTPOS_MICROPYTHON")
            os.environ["SMARTPOS_MICROPYTHON"] = wrapper
            try:
                rig.power_cycle(timeout=1200)
            finally:
                if saved is None:
                    os.environ.pop("SMARTPOS_MICROPYTHON", None)
                else:
                    os.environ["SMARTPOS_MICROPYTHON"] = saved
            counts = _dump_counts(out)
        # dump 1: the process up to boot.py; 2-5: the phases up to "smartpos ready"
        if len(counts) < 1 + len(BOOT_PHASES):
            raise RuntimeError("boot markers: %d callgrind dumps, %d wanted" % (len(counts), 1 + len(BOOT_PHASES)))
        return list(zip(BOOT_PHASES, counts[1:1 + len(BOOT_PHASES)]))


BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "firmware-size-baseline.json")
IMAGE_BUDGET = 256 * 1024
GROWTH_WARNING = 0.10


def package_sizes():
    """{package: .mpy bytes} for the firmware's packages (pos.qr, pos.crypto...; "pos" is the
    package's own top-level modules, "other" everything outside pos), the ROMFS image and the
    names module it carries (tools/posbuild/names.py)."""
    from posbuild.mpy import build_cached
    from posbuild.romfs import build_romfs
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="smartpos-size-") as d:
        for rel, local in build_cached(d):
            if not rel.endswith(".mpy"):
                continue
            parts = rel.split("/")
            if parts[0] != "pos":
                key = "other"
            elif len(parts) == 2:
                key = "pos"
            else:
                key = "pos." + parts[1]
            sizes[key] = sizes.get(key, 0) + os.path.getsize(local)
    image = build_romfs()
    sizes["ROMFS image (frozen packages)"] = os.path.getsize(image)
    from posbuild.names import MODULE
    from posbuild.romfs import romfs_files
    with open(image, "rb") as f:
        for path, data in romfs_files(f.read()):
            if path == MODULE.replace(".", "/") + ".mpy":
                sizes[MODULE + " (ROMFS image only: every name, for the boot)"] = len(data)
    return sizes


def firmware_size():
    sizes = package_sizes()
    try:
        with open(BASELINE) as f:
            base = json.load(f)
    except OSError:
        base = {}
    rows = []
    for key in sorted(sizes):
        was = base.get(key)
        note = "bytes"
        if was:
            growth = (sizes[key] - was) / was
            note = "bytes (%+.1f%% against the baseline %d)" % (100 * growth, was)
            if growth > GROWTH_WARNING:
                note += " WARNING: more than %d%% over the baseline" % (100 * GROWTH_WARNING)
        elif base:
            note = "bytes (new: not in the baseline)"
        rows.append((key, sizes[key], note))
    image = sizes["ROMFS image (frozen packages)"]
    rows.append(("image share of the %d KB budget" % (IMAGE_BUDGET // 1024), 100.0 * image / IMAGE_BUDGET,
                 "%" + (" WARNING: over budget" if image > IMAGE_BUDGET else "")))
    return rows


def write_baseline():
    """Record today's sizes as the baseline (run when a growth is accepted)."""
    with open(BASELINE, "w") as f:
        json.dump(package_sizes(), f, indent=1, sort_keys=True)
        f.write("\n")


BENCHES = {"mcu-estimates": mcu_estimates, "firmware-size": firmware_size}
