"""read_swipe on real MicroPython (board heap): chip card -> InsertChip, after a chip
failure -> fallback (DE 22 80), magstripe-only 101 -> swipe (90); expired, Luhn fail."""
from host_sim import mpy
from host_sim.devices import msr as model

CODE = r"""
from pos.drivers import msr
from pos.payments import magstripe as M
for hx, failed in %r:
    try:
        r = M.read_swipe(msr.parse_frame(bytes.fromhex(hx)), failed, (2026, 11))
        if isinstance(r, M.MagstripeCard):
            q = r.request(2500, "840")
            print(repr(r), q.entry_mode, q.track2[:4] + "..", q.amount)
        else:
            print(repr(r))
    except (msr.MsrError, M.MagstripeError) as e:
        print("ERR", e)
"""


def _hex(pan="4761739001010119", exp="2812", sc="201"):
    m = model.MagstripeReader()
    m.connect_uart(lambda b: None)
    return m.swipe(card={"pan": pan, "expiry": exp, "service_code": sc}).hex()


def test_read_swipe_rules_on_micropython():
    cases = [(_hex(), False), (_hex(), True), (_hex(sc="101"), False),
             (_hex(exp="2510"), True), (_hex(pan="4761739001010118"), True)]
    out = mpy.run(CODE % cases, heap="192K").strip().splitlines()
    assert out == [
        "InsertChip()",
        "MagstripeCard(476173******0119, fallback) fallback 4761.. 2500",
        "MagstripeCard(476173******0119, swipe) swipe 4761.. 2500",
        "ERR card expired",
        "ERR card number fails its check digit: swipe again",
    ], out
