"""EMV contact kernel figures: smallest heap for an online approve, terminal-side
processing time (card and host latency excluded), CDA verification time.

The kernel runs on the real MicroPython unix port loaded as .mpy (mpy-cross),
against the TEST card of tests/emv (cardkit.MiniCard) through the APDU harness.
"""
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TESTS = os.path.join(REPO, "tests", "emv")


def _kit():
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    import cardkit
    import harness
    return cardkit, harness


_state = {}


def _pki(tmpdir):
    cardkit, harness = _kit()
    if "pki" not in _state:
        pki = cardkit.TestPki()
        _state["pki"] = pki
        _state["capk"] = pki.capk_json(os.path.join(tmpdir, "capk_test.json"))
    return _state["pki"], _state["capk"]


def _online(heap, n=1):
    import tempfile
    cardkit, harness = _kit()
    pki, capk = _pki(tempfile.gettempdir())
    card = cardkit.MiniCard(pki, oda="CDA", issuer="hsm")
    h = harness.Harness(card, capk=capk, pins=["1234"] * n, authorizer=cardkit.HsmHost(), heap=heap)
    r = h.run(*[{"amount": 6000}] * n)
    return r if isinstance(r, list) else [r]


def _passes(heap):
    try:
        rs = _online("%d" % heap)
    except Exception:
        return False
    return all(r.result == "approved" and r.online for r in rs)


def min_heap():
    """Walk down from 192K in 4K steps to the first failure, then refine by 1K: the heap
    a transaction needs depends on fragmentation, so the walk does not assume monotony."""
    if not _passes(192 * 1024):
        return [("online approve at 192K", "FAILED", "")]
    k = 192
    while k > 16 and _passes((k - 4) * 1024):
        k -= 4
    while k > 16 and _passes((k - 1) * 1024):
        k -= 1
    return [("smallest -X heapsize for online approve (.mpy, CDA, PIN)", k, "KiB")]


def processing_time():
    import tempfile
    cardkit, harness = _kit()
    pki, capk = _pki(tempfile.gettempdir())
    rows = []
    for name, kw, amount in (("offline CDA approve + offline PIN", {}, 1000),
                             ("online approve (CDA, ARPC)", {"authorizer": cardkit.HsmHost()}, 6000)):
        card = cardkit.MiniCard(pki, oda="CDA", issuer="hsm")
        n = 8
        h = harness.Harness(card, capk=capk, pins=["1234"] * n, **kw)
        rs = h.run(*[{"amount": amount}] * n)
        us = [r.terminal_us for r in rs[1:]]        # first run includes imports
        rows.append(("terminal-side time, %s (median of %d)" % (name, len(us)),
                     statistics.median(us) / 1000.0, "ms"))
        rows.append(("heap retained after the transaction (after gc), %s" % name,
                     rs[-1].free_before - rs[-1].free_after, "bytes"))
    return rows


_CDA_CODE = r"""
import json, sys, time
p = json.loads(%r)
try:
    import pos.crypto
    backend = getattr(pos.crypto, "BACKEND", "pos.crypto")
except ImportError:
    import standin_crypto, pos
    sys.modules["pos.crypto"] = standin_crypto
    pos.crypto = standin_crypto
    backend = "test stand-in (pure)"
try:
    import pos.emv.tlv
except ImportError:
    import standin_tlv, standin_dol, pos.emv
    sys.modules["pos.emv.tlv"] = standin_tlv
    pos.emv.tlv = standin_tlv
from pos.emv import config, oda
cfg = config.load(p["config"], p["capk"])
card = {}
for k, v in p["card"].items():
    card[int(k, 16)] = bytes.fromhex(v)
static = bytes.fromhex(p["static"])
today = b"\x26\x11\x22"
sig = bytes.fromhex(p["sig"]); un = bytes.fromhex(p["un"]); hi = bytes.fromhex(p["hash_input"])
N = 5
t0 = time.ticks_us()
for _ in range(N):
    ik = oda.issuer_key(cfg, bytes.fromhex("A000000003"), card, today)
    ck = oda.icc_key(ik, card, static, today)
t1 = time.ticks_us()
for _ in range(N):
    oda.cda_check(ck, sig, un, 0x40, hi)
t2 = time.ticks_us()
print(json.dumps({"backend": backend, "keys_us": time.ticks_diff(t1, t0) // N,
                  "sig_us": time.ticks_diff(t2, t1) // N}))
"""


def cda_time():
    import tempfile
    cardkit, harness = _kit()
    from host_sim import mpy
    pki, capk = _pki(tempfile.gettempdir())
    card = cardkit.MiniCard(pki, oda="CDA")
    data = {}
    for rec in card.records.values():
        body = rec[3:] if rec[1] == 0x81 else rec[2:]
        i = 0
        while i < len(body):
            t = body[i]
            i += 1
            if t & 0x1F == 0x1F:
                t = (t << 8) | body[i]
                i += 1
            n = body[i]
            i += 1
            if n & 0x80:
                k = n & 0x7F
                n = int.from_bytes(body[i:i + k], "big")
                i += k
            data["%X" % t] = body[i:i + n].hex()
            i += n
    un = bytes.fromhex("11223344")
    hash_input = bytes(range(60))
    ac = bytes(8)
    dyn = b"\x04\x01\x02\x03\x04" + b"\x40" + ac + cardkit.sha1(hash_input)
    sig = cardkit.signed_dynamic_data(pki.icc, dyn, un)
    p = {"config": harness.CONFIG, "capk": capk, "card": data, "static": card.static_data.hex(),
         "sig": sig.hex(), "un": un.hex(), "hash_input": hash_input.hex()}
    out = mpy.run(_CDA_CODE % json.dumps(p), extra_path=[harness.build_mpy()])
    r = json.loads(out.strip().splitlines()[-1])
    rows = [("CDA: issuer + ICC key recovery (1408/1152-bit) [%s]" % r["backend"], r["keys_us"] / 1000.0, "ms"),
            ("CDA: signature check (1024-bit ICC key) [%s]" % r["backend"], r["sig_us"] / 1000.0, "ms")]
    try:
        import posnative  # noqa: F401
        rows.append(("CDA native (_posnative on the board)", "not built into the unix port", ""))
    except ImportError:
        rows.append(("CDA native (_posnative)", "n/a: C module not built for MicroPython here", ""))
    return rows


def live_heap():
    import tempfile
    cardkit, harness = _kit()
    pki, capk = _pki(tempfile.gettempdir())
    h = harness.Harness(cardkit.MiniCard(pki, oda="CDA"), capk=capk, pins=["1234"],
                        authorizer=cardkit.HostStub(), memtrace=True)
    r = h.run(6000)
    peak = max(m for _ins, m in r.memtrace)
    first = r.memtrace[0][1]
    return [("live heap before the transaction (code + config + harness)", first // 1024, "KiB"),
            ("peak live heap during online approve (sampled per C-APDU)", peak // 1024, "KiB"),
            ("transaction working set (peak - start)", (peak - first) // 1024, "KiB")]


def _terminal_sale(heap):
    """contact-online-approve on the whole terminal (host_sim.rig) at `heap`: the 'emv done'
    log fields, or None when the sale does not complete."""
    import re
    from host_sim.rig import Rig
    try:
        with Rig(heap=heap) as rig:
            text = rig.sale_by_card(150000, "visa-credit", pin="1234", timeout=30)
            m = re.findall(r"INFO card emv done (.*)", rig.board.console())
    except Exception:
        return None
    if "APPROVED" not in text or not m:
        return None
    return dict(kv.split("=", 1) for kv in m[-1].split())


def terminal():
    """The whole terminal on the virtual board (frozen firmware, UI, reader model, card
    simulator, engine, acquirer host): time split and the smallest heap for an online sale."""
    rows = []
    from host_sim.rig import PRODUCT_HEAP
    f = _terminal_sale(PRODUCT_HEAP)
    if f is None:
        return [("whole-terminal online approve at %s" % PRODUCT_HEAP, "FAILED", "")]
    for k, label in (("total_ms", "total, insert to outcome"), ("ui_ms", "cardholder keying the PIN"),
                     ("card_ms", "card I/O (reader model, T=0)"), ("host_ms", "host (ISO 8583 round trips)"),
                     ("terminal_ms", "terminal-side processing (card, host and PIN latency excluded)")):
        rows.append(("contact online approve on the virtual board: %s" % label, int(f[k].strip()), "ms"))
    k = int(PRODUCT_HEAP.rstrip("K"))       # walks down from the product heap
    while k > 160 and _terminal_sale("%dK" % (k - 8)) is not None:
        k -= 8
    while k > 160 and _terminal_sale("%dK" % (k - 2)) is not None:
        k -= 2
    rows.append(("smallest -X heapsize, whole terminal contact-online-approve (frozen, 64-bit port)", k, "KiB"))
    return rows


def run():
    return processing_time() + cda_time() + live_heap() + min_heap() + terminal()


BENCHES = {"emv": run}


def _tap_sale(heap, amount=3500):
    """contactless-visa (online) on the whole terminal at `heap`: card-in-field ms, or None."""
    import re
    from host_sim.rig import Rig
    from host_sim.cards.contactless import make_card
    try:
        with Rig(heap=heap) as rig:
            rig.home()
            rig.keys(list(str(amount)) + ["ENTER"])
            rig.wait_text("2 Card")
            rig.keys(["2"])
            rig.wait_text("INSERT")
            rig.board.devices["pn532"].tap(make_card("visa-cvn10"))
            which, _ = rig.wait_any(["APPROVED", "DECLINED", "try again"], 30)
            m = re.findall(r"INFO emv contactless outcome field_ms=(\d+)", rig.board.console())
    except Exception:
        return None
    return int(m[-1]) if which == "APPROVED" and m else None


def contactless():
    rows = []
    from host_sim.rig import PRODUCT_HEAP
    ms = [_tap_sale(PRODUCT_HEAP) for _ in range(3)]
    ms = [m for m in ms if m is not None]
    if not ms:
        return [("contactless-visa at %s" % PRODUCT_HEAP, "FAILED", "")]
    rows.append(("contactless online (qVSDC) on the virtual board: card in field, PPSE to outcome incl. "
                 "host round trip (median of %d)" % len(ms), statistics.median(ms), "ms"))
    k = int(PRODUCT_HEAP.rstrip("K"))       # walks down from the product heap
    while k > 160 and _tap_sale("%dK" % (k - 8)) is not None:
        k -= 8
    rows.append(("smallest -X heapsize, whole terminal contactless-visa (frozen, 64-bit port)", k, "KiB"))
    return rows


BENCHES["contactless"] = contactless
