"""Coupons as signed QR text: signed by the cloud (cloud.promotions.coupons, Python's hmac),
read on MicroPython by the terminal (pos.promo.coupon, the firmware's HMAC): accepted as signed,
refused with a clear message when signed by another key, forged, damaged or expired, and
redeemed once per terminal (the record on flash survives the sale)."""
import json

from cloud.promotions import coupons
from host_sim import mpy

from tests.promo.programs import DAY, MONDAY

KEY = bytes(range(16))
OTHER = bytes(range(1, 17))

READ = """
import json
from pos.promo import coupon, engine
key = bytes(range(16))
out = []
for text, now in json.loads(%r):
    try:
        c = coupon.read(text, key, now)
        out.append(["OK", c.program, c.serial, c.expiry])
    except engine.PromoError as e:
        out.append(["REFUSED", str(e)])
print(json.dumps(out))
"""


def read_on_terminal(cases):
    return json.loads(mpy.run(READ % json.dumps(cases)).strip().splitlines()[-1])


def test_cloud_signed_coupons_read_on_the_terminal_and_bad_ones_refused():
    good = coupons.sign(KEY, "WELCOME5", "100001", expiry=MONDAY + 30 * DAY)
    forged = good[:-32] + coupons.sign(KEY, "WELCOME5", "100002", expiry=MONDAY + 30 * DAY)[-32:]
    raised = good.replace("WELCOME5", "WELCOME9")                 # the program changed, MAC kept
    other = coupons.sign(OTHER, "WELCOME5", "100001", expiry=MONDAY + 30 * DAY)
    never = coupons.sign(KEY, "WELCOME5", "100003")
    rows = read_on_terminal([[good, MONDAY], [good, MONDAY + 30 * DAY], [forged, MONDAY], [raised, MONDAY],
                             [other, MONDAY], [good[:-5], MONDAY], ["CPN1:A:B", MONDAY], ["HELLO", MONDAY],
                             [never, MONDAY + 9999 * DAY]])
    assert rows[0] == ["OK", "WELCOME5", "100001", MONDAY + 30 * DAY]
    assert rows[1] == ["REFUSED", "coupon expired on 2026-12-22"]
    assert rows[2] == ["REFUSED", "coupon forged or damaged: not accepted"]
    assert rows[3] == rows[2]
    assert rows[4] == ["REFUSED", "coupon of another store's key: not accepted"]
    assert rows[5] == ["REFUSED", "coupon damaged: scan again or key the sale without it"]
    assert rows[6] == rows[5]
    assert rows[7] == ["REFUSED", "not a coupon of this store"]
    assert rows[8] == ["OK", "WELCOME5", "100003", 0]
    # the text is QR alphanumeric (upper case, digits, ':') and the terminal signs the same
    assert set(good) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:")
    same = mpy.run("from pos.promo import coupon\nprint(coupon.sign(bytes(range(16)), 'WELCOME5', '100001', %d))"
                   % (MONDAY + 30 * DAY)).strip()
    assert same == good
    # and the cloud reads the terminal's refusals the same way
    assert coupons.read(good, KEY, MONDAY) == ("WELCOME5", "100001", MONDAY + 30 * DAY)
    for bad, why in ((other, "another key"), (forged, "forged"), (good, "expired")):
        try:
            coupons.read(bad, KEY, MONDAY + 31 * DAY if bad is good else MONDAY)
        except coupons.CouponError as e:
            assert why in str(e)
        else:
            raise AssertionError("accepted " + bad)


def test_a_redeemed_coupon_is_refused_at_the_next_scan(tmp_path):
    out = mpy.run("from pos.promo import coupon, engine\n"
                  "used = coupon.Redeemed()\n"
                  "print(used.used('100001'))\n"
                  "used.record('100001'); used.record('N1234567800004')\n"
                  "print(coupon.Redeemed().used('100001'), coupon.Redeemed().used('1000011'), "
                  "coupon.Redeemed().used('N1234567800004'))\n"
                  "try:\n    coupon.Redeemed().check('100001')\nexcept engine.PromoError as e:\n    print(e)\n",
                  cwd=str(tmp_path))
    assert out.splitlines() == ["False", "True False True", "coupon 100001 already used: not accepted"]
    assert (tmp_path / "coupons.used").read_bytes() == b"100001".ljust(20) + b"N1234567800004".ljust(20)
