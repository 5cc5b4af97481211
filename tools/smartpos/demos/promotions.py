"""Promotions and a coupon on the whole counter.

    smartpos demo --scenario coupon-redeem

The store runs three promotions (tea 3 for 2, 10 % off dairy, 2.00 off over 20.00), a coupon
program (WELCOME5: 5.00 off) and next-order coupons.  Items are scanned by the scanner model,
then a WELCOME5 coupon the cloud signed (cloud.promotions.coupons, under the merchant's coupon
key that the terminal holds in its key store) is scanned from the customer's phone; the
rewards and the total are on the display; paid in cash; the receipt lists every reward with
its explanation and ends with a next-order coupon as a QR code.  Then a new basket: the same
coupon is refused (already used), as are a coupon signed with another key and a forged one,
and the basket stays as it was.  The counter runs on the product heap.
"""
import json
import os
import time

COUPON_KEY = bytes.fromhex("4B1D7A3390C2E85F16A0D44C7E92B3F1")     # the simulator's TEST coupon key
OTHER_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")

ITEMS = [
    {"barcode": "5901234123457", "sku": "TEA", "name": "GREEN TEA", "name_zh": "绿茶", "price": 650, "tax": 1, "category": 1},
    {"barcode": "96385074", "sku": "MILK", "name": "MILK 1L", "name_zh": "牛奶", "price": 199, "tax": 1, "category": 3},
    {"barcode": "2312345000002", "sku": "CHEESE", "name": "CHEDDAR", "name_zh": "奶酪", "price": 1899, "tax": 1,
     "unit": "kg", "category": 3},
    {"barcode": "036000291452", "sku": "SOAP", "name": "HAND SOAP", "name_zh": "洗手液", "price": 399, "tax": 2, "category": 4},
]
SCANS = ["5901234123457", "5901234123457", "5901234123457", "96385074", "2312345007506", "036000291452"]
RULES = {"tax": {"mode": "exclusive", "rounding": "line", "rates": {"1": 600, "2": 1300}}}
PROGRAMS = {"programs": [
    {"id": "TEA3FOR2", "type": "buy_x_get_y", "name": "TEA 3 FOR 2", "sequence": 10,
     "rule": {"skus": ["TEA"]}, "reward": {"buy": 2, "free": 1}},
    {"id": "DAIRY10", "name": "10% OFF DAIRY", "sequence": 20,
     "rule": {"categories": [3]}, "reward": {"percent": 1000, "on": "items"}},
    {"id": "SPEND20", "name": "2.00 OFF OVER 20.00", "sequence": 30,
     "rule": {"min_amount": 2000}, "reward": {"fixed": 200}},
    {"id": "WELCOME5", "type": "coupons", "name": "WELCOME COUPON 5.00", "sequence": 40,
     "rule": {"min_amount": 1000}, "reward": {"fixed": 500}},
    {"id": "CODE2026", "type": "promo_code", "code": "2026", "name": "CODE 2026: 1.00 OFF", "sequence": 50,
     "reward": {"fixed": 100}},
    {"id": "NEXTVISIT", "type": "next_order_coupons", "name": "THANK YOU",
     "rule": {"min_amount": 1500}, "reward": {"issues": "WELCOME5"}},
]}


def _provision(rig):
    """Catalog, tax rules and programs on flash; the coupon key into the key-loading file the
    terminal seals into its key store at boot (as a key-injection station would)."""
    import hashlib
    from host_sim import catalog
    catalog.write(os.path.join(rig.flash_dir, "catalog.bin"), ITEMS, version=1)
    for name, d in (("catalog.json", RULES), ("promotions.json", PROGRAMS)):
        with open(os.path.join(rig.flash_dir, "config", name), "w") as f:
            json.dump(d, f)
    kld = os.path.join(rig.flash_dir, "keys.kld")
    with open(kld) as f:
        d = json.load(f)
    d.setdefault("secrets", {})["coupon"] = {"key": COUPON_KEY.hex().upper(),
                                             "kcv": hashlib.sha256(COUPON_KEY).digest()[:3].hex().upper(),
                                             "test": True}
    with open(kld, "w") as f:
        json.dump(d, f)


def coupon_redeem(args):
    from cloud.promotions import coupons
    from host_sim.rig import Rig

    until = int(time.time()) + 30 * 86400
    good = coupons.sign(COUPON_KEY, "WELCOME5", "100001", expiry=until)
    other = coupons.sign(OTHER_KEY, "WELCOME5", "100002", expiry=until)
    forged = good[:-32] + coupons.sign(COUPON_KEY, "WELCOME5", "100003", expiry=until)[-32:]
    print("coupon from the cloud (its QR code's text):", good)
    with Rig(before_boot=_provision) as rig:
        scanner = rig.board.devices["scanner"]
        rig.home()
        rig.printer.tear_off()
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        for n, code in enumerate(SCANS, 1):
            scanner.scan(code)
            rig.wait_text("BASKET %d" % n)
        scanner.scan(good)
        screen = rig.wait_text("COUPON 100001 ACCEPTED")
        print(screen)
        rig.keys(["ENTER"])
        rig.wait_text("1 Cash")
        rig.keys(["1"])
        rig.wait_text("Cash tendered")
        rig.keys(["F1"])                                   # exact
        rig.wait_text("Change")
        rig.printer.wait_for_cuts(1)
        receipt = rig.receipts()[-1]
        print(receipt)
        print("-" * 32)
        rig.keys(["ENTER"])
        rig.home()
        # the same coupon again, then one of another key and a forged one: refused, basket kept
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        scanner.scan(SCANS[0])
        rig.wait_text("BASKET 1")
        refusals = []
        for code, shows in ((good, "already used"), (other, "another store's"), (forged, "forged")):
            scanner.scan(code)
            text = rig.wait_text(shows)
            refusals.append(text)
            print(text)
        kept = "BASKET 1" in refusals[-1] and "6.89" in refusals[-1]    # 6.50 + 6 % tax, no reward
        rig.keys(["CANCEL"])
        sale = [e for e in rig.batch() if e.get("kind") == "sale"]
    # 39.72 less tea 6.50, dairy 1.62, 2.00 and the coupon's 5.00 = 24.60, + tax 1.28 + 0.40
    lines = [ln.strip() for ln in receipt.split("\n")]
    explained = all(any(ln.startswith(t) for ln in lines) for t in
                    ("TEA 3 FOR 2", "10% OFF DAIRY", "2.00 OFF OVER 20.00", "WELCOME COUPON 5.00",
                     "COUPON 100001 (WELCOME5)", "THANK YOU: COUPON BELOW", "NEXT VISIT COUPON"))
    next_coupon = any(ln.startswith("[QR CPN1:WELCOME5:N") for ln in lines)
    ok = (explained and next_coupon and kept and len(refusals) == 3 and bool(sale) and sale[-1]["ok"]
          and sale[-1]["amount"] == 2628)
    amount = sale[-1]["amount"] if sale else 0
    return ok, ("basket with three promotions and a signed coupon paid in cash, %d minor units, every reward "
                "explained on the receipt with a next-order coupon QR; the same coupon refused at the next "
                "sale, and one of another key and a forged one, basket kept" % amount)


SCENARIOS = {"coupon-redeem": coupon_redeem}
