"""A trading day with the cloud down, on the whole counter.

    smartpos demo --scenario offline-day

The counter is enrolled in the cloud service.  The merchant's items are made in the cloud's
back office with 100 of each in the store's stock, and the terminal's catalog is the cloud's
own snapshot (the device API's catalog feed); a promotion (10 % off the drinks) and a member
programme (1 point per 1.00) with a GOLD member and her MIFARE Classic card.  Then the cloud
becomes unreachable, and the counter sells: twenty baskets of scanned items, some with the
promotion, every third for the member (her card tapped, the points kept provisionally), paid
in cash.  The cloud comes back; the demo waits for the upload queue to drain and the member
copy to be fetched again, then checks that the two sides agree:

- every sale of the terminal's transaction list is in the cloud once, with its total;
- each item's stock moved by exactly the pieces scanned;
- the member's points in the cloud are the sum of the points the receipts printed, one ledger
  entry a member sale, and the terminal's pending points are let go (its copy holds the
  cloud's balance).

Paid in cash; offline_day(cards=True) pays the member's every second basket by a chip card
(the card's entry carries the basket's lines and the member like a cash one: docs/offline.md).
Two sales redeem signed coupons; while the terminal is offline another terminal of the store
uploads a sale that redeemed two coupons, one of them also redeemed here: after the link is
back the cloud's ledger holds each coupon once, the one redeemed at both terminals is flagged,
and the other terminal's coupon is refused here once the used serials are synced
(docs/promotions.md, "Single use").

Runs on the product heap (HEAP; docs/offline.md, "Memory"), the card-paid day too.
"""
import json
import os
import re
import time
import urllib.request

from host_sim.rig import PRODUCT_HEAP

SALES = 20
# the product heap: a failed DDI poll while the cloud was away used to keep 7.4 KB of the idle
# heap (docs/offline.md, "Memory"), and the day ran out at its fifth sale on it
HEAP = PRODUCT_HEAP
STOCK = 100
ITEMS = [
    {"barcode": "4006381333931", "sku": "JUICE1L", "name": "APPLE JUICE 1L", "name_zh": "苹果汁", "price": 250, "tax": 1},
    {"barcode": "96385074", "sku": "RICE5", "name": "RICE 5KG", "name_zh": "大米", "price": 1999, "tax": 1},
    {"barcode": "5901234123457", "sku": "TEA", "name": "GREEN TEA", "name_zh": "绿茶", "price": 650, "tax": 1},
    {"barcode": "036000291452", "sku": "SOAP", "name": "HAND SOAP", "name_zh": "洗手液", "price": 399, "tax": 2},
    {"barcode": "4002003000014", "sku": "MILK", "name": "MILK 1L", "name_zh": "牛奶", "price": 199, "tax": 1},
]
BASKETS = [                    # SKUs scanned, one scan a piece; cycled through the day
    ["JUICE1L", "RICE5"],
    ["SOAP"],
    ["TEA", "TEA", "MILK"],
    ["MILK", "SOAP", "RICE5", "MILK", "MILK"],
    ["JUICE1L", "TEA", "TEA", "TEA"],
]
RULES = {"tax": {"mode": "exclusive", "rounding": "line", "rates": {"1": 600, "2": 1300}}}
PROGRAMS = {"programs": [{"id": "DRINKS10", "name": "10% OFF DRINKS", "rule": {"skus": ["JUICE1L", "TEA"]},
                          "reward": {"percent": 1000, "on": "items"}},
                         {"id": "WELCOME1", "type": "coupons", "name": "WELCOME COUPON 1.00", "reward": {"fixed": 100}}]}
# signed coupons (docs/promotions.md): OURS redeemed here offline; THEIRS at another terminal of
# the merchant while this one was offline (refused here once synced); BOTH at the two (flagged)
COUPONS = {"OURS": "100001", "THEIRS": "100002", "BOTH": "100003"}
COUPON_SALES = {1: "OURS", 4: "BOTH"}          # the sale (0-based) that redeems each of ours
PROGRAMME = {"spend_unit": 100, "points_per_unit": 1, "reward_points": 100, "reward_text": "FREE COFFEE",
             "offline_stored_value": 2000, "qr_ttl_s": 300}
CARD_UID = "DEADBEEF"          # host_sim.devices.nfc_tags.MifareClassic1K's default UID
EARNED = re.compile(r"^POINTS EARNED +\+(\d+)$")


def _device(sc, path):
    """GET on the cloud's device API with the terminal's TargetToken: bytes."""
    ident = sc.identity
    req = urllib.request.Request("%s/%s/controller/v1/%s/%s" % (sc.cloud.url, ident["tenant"],
                                                               ident["controller_id"], path))
    req.add_header("Authorization", "TargetToken " + ident["target_token"])
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def set_up(sc):
    """Items and stock, the programme and the member in the cloud; the terminal's catalog (the
    cloud's snapshot), tax rules, promotions and member files.  Returns (member, store id)."""
    from host_sim import members
    m = [x for x in sc.api("GET", "/api/v1/merchants") if x["name"] == "TEST Merchant"][0]
    store = sc.terminal["store_id"]
    for it in ITEMS:
        sc.api("POST", "/api/v1/merchants/%d/catalog/items" % m["id"], it)
        sc.api("POST", "/api/v1/stores/%d/stock/adjustments" % store,
               {"sku": it["sku"], "qty": STOCK, "note": "opening stock"})
    sc.api("PUT", "/api/v1/merchants/%d/member-programme" % m["id"], PROGRAMME)
    member = sc.api("POST", "/api/v1/merchants/%d/members" % m["id"],
                    {"name": "Li Wei", "phone": "13800001234", "tier": "GOLD", "card_uid": CARD_UID,
                     "card_kind": "mifare_classic"})
    flash = sc.rig.flash_dir
    with open(os.path.join(flash, "catalog.bin"), "wb") as f:
        f.write(_device(sc, "catalog?since=0"))
    members.write_programme(flash, dict(json.loads(_device(sc, "members/programme")), merchant_id=m["id"]))
    members.write_copy(flash, json.loads(_device(sc, "members/copy")))
    for name, d in (("catalog.json", RULES), ("promotions.json", PROGRAMS)):
        with open(os.path.join(flash, "config", name), "w") as f:
            json.dump(d, f)
    return member, store


def _coupon(serial):
    from cloud.promotions import coupons
    from smartpos.demos.promotions import COUPON_KEY
    return coupons.sign(COUPON_KEY, "WELCOME1", serial, expiry=int(time.time()) + 30 * 86400)


def coupon_key(flash_dir):
    """The merchant's coupon key into the key-loading file the terminal seals at boot."""
    import hashlib
    from smartpos.demos.promotions import COUPON_KEY
    kld = os.path.join(flash_dir, "keys.kld")
    with open(kld) as f:
        d = json.load(f)
    d.setdefault("secrets", {})["coupon"] = {"key": COUPON_KEY.hex().upper(), "test": True,
                                             "kcv": hashlib.sha256(COUPON_KEY).digest()[:3].hex().upper()}
    with open(kld, "w") as f:
        json.dump(d, f)


def other_terminal_redeems(sc, merchant, store, serials):
    """Another terminal of the store uploads a sale that redeemed `serials` (a gift wrap, no
    stock): the cloud's ledger holds them as that terminal's."""
    reg = sc.api("POST", "/api/v1/terminals", {"serial": "POS-OTHER", "controller_id": "POS-OTHER", "store_id": store})
    ident = sc.api("POST", "/api/v1/enroll", {"activation_code": reg["activation_code"], "serial": "POS-OTHER"})
    body = {"invoice": 1, "currency": merchant["currency"], "cashier": "ANNA",
            "terminal_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lines": [{"sku": "GIFTWRAP", "qty": 1, "unit_price": 500, "amount": 500, "tax_rate_bp": 600}],
            "discounts": [{"label": "BASKET", "amount": 200, "tax_rate_bp": 600, "funder": "shop"}],
            "coupons": [{"serial": s, "program": "WELCOME1", "discount": 100} for s in serials],
            "tenders": [{"type": "cash", "amount": 300}]}
    req = urllib.request.Request("%s/%s/controller/v1/POS-OTHER/sales" % (sc.cloud.url, sc.identity["tenant"]),
                                 data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "TargetToken " + ident["target_token"])
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def _wait_used(flash_dir, serial, timeout=90):
    """True once the terminal's used-coupon file holds `serial` (fetched from the cloud)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(os.path.join(flash_dir, "coupons.used"), "rb") as f:
                if serial.encode().ljust(20) in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def sell(sc, skus, member, card=False, coupon=None):
    """One basket at the counter, paid in cash (exact) or by a chip card: its receipt (the
    basket's: for a card, the one after the card's two copies)."""
    from host_sim.devices.nfc_tags import MifareClassic1K
    rig = sc.rig
    codes = {it["sku"]: it["barcode"] for it in ITEMS}
    rig.home()
    rig.printer.tear_off()
    rig.keys(["F2"])
    rig.wait_text("BASKET 0")
    for n, sku in enumerate(skus, 1):
        rig.board.devices["scanner"].scan(codes[sku])
        rig.wait_text("BASKET %d" % n)
    if coupon:
        serial = coupon.split(":")[2]
        rig.board.devices["scanner"].scan(coupon)
        rig.wait_text("COUPON %s ACCEPTED" % serial)
    if member:
        nfc = rig.board.devices["pn532"]
        rig.keys(["F1"])
        rig.wait_text("Tap member card")
        nfc.tap(MifareClassic1K())
        rig.wait_text("GOLD ")
        nfc.remove()
    rig.keys(["ENTER"])
    rig.wait_text("1 Cash")
    if card:
        rig.keys(["2"])
        rig.wait_text("INSERT")
        rig.insert("visa-credit")
        text = rig.finish_card("1234", done=("Paid", "DECLINED", "NOT COMPLETED"))
        rig.remove()
        if "Paid" not in text:
            raise TimeoutError("the card did not pay the basket: " + text.replace("\n", " / ")[:200])
        cuts = 3                                            # the card's two copies, then the basket
    else:
        rig.keys(["1"])
        rig.wait_text("Cash tendered")
        rig.keys(["F1"])                                    # exact
        rig.wait_text("Change")
        cuts = 1
    # the cashier goes on at once (the paid screen times out in 30 s): the receipts are on the
    # roll whatever the screen does, read once they are cut
    rig.keys(["ENTER"])
    if member:
        rig.wait_text("POINTS")                             # the customer's thank-you screen
        rig.keys(["ENTER"])
    rig.wait_text("READY")
    if not rig.printer.wait_for_cuts(cuts, 120):
        raise TimeoutError("%d receipt(s) cut, not %d" % (rig.printer.cuts, cuts))
    return rig.receipts()[-1]


def earned(receipt):
    for ln in receipt.split("\n"):
        m = EARNED.match(ln.strip())
        if m:
            return int(m.group(1))
    return 0


def offline_day(args=None, out=print, sales=SALES, cards=False, heap=HEAP):
    """The day; `cards`: the member's every second basket paid by a chip card."""
    from host_sim.salesync import SyncCounter, money

    class Counter(SyncCounter):
        def _enroll(self, flash_dir, broker, terminal_url):
            super()._enroll(flash_dir, broker, terminal_url)
            coupon_key(flash_dir)                           # sealed into the key store at boot

    problems = []
    with Counter(queue_bytes=32768, log=None, heap=heap) as sc:
        member, store = set_up(sc)
        sc.power_cycle()                                    # the counter starts with its catalog
        before = {r["sku"]: r["on_hand"] for r in sc.api("GET", "/api/v1/stores/%d/stock" % store)}
        sc.relay.down_for(3600)                             # the cloud unreachable from here
        merchant = [x for x in sc.api("GET", "/api/v1/merchants") if x["name"] == "TEST Merchant"][0]
        other_terminal_redeems(sc, merchant, store, [COUPONS["THEIRS"], COUPONS["BOTH"]])
        sold, receipts, member_sales = {}, [], []
        t0 = time.monotonic()
        for k in range(sales):
            skus = BASKETS[k % len(BASKETS)]
            for s in skus:
                sold[s] = sold.get(s, 0) + 1
            try:
                receipt = sell(sc, skus, member=(k % 3 == 0), card=cards and k % 6 == 3,
                               coupon=_coupon(COUPONS[COUPON_SALES[k]]) if k in COUPON_SALES else None)
            except TimeoutError as e:
                tail = sc.rig.board.console()[-1500:]
                return False, "sale %d: %s; the board's console ends:\n%s" % (k + 1, e, tail)
            receipts.append(receipt)
            if k % 3 == 0:
                member_sales.append(receipt)
        selling = time.monotonic() - t0
        listed = sc.listed()
        offline_cloud = len(sc.cloud_sales())
        offline_points = sc.api("GET", "/api/v1/members/%d" % member["id"])["points"]
        pend = _pending_lines(sc.rig.flash_dir)
        out("offline: %d sales on the terminal, %d in the cloud; %d member sales, %d pending points lines"
            % (len(listed), offline_cloud, len(member_sales), len(pend)))
        if offline_cloud or offline_points:
            problems.append("the cloud booked something while it was unreachable")
        sc.relay.down_for(0)                                # the link back: the queue drains
        t1 = time.monotonic()
        drained = sc.wait_drained(180)
        member_invoices = [int(ln.split()[0]) for ln in pend]
        refreshed = _wait_copy(sc.rig.flash_dir, max(member_invoices or [0]))
        catching_up = time.monotonic() - t1
        cloud = sc.cloud_sales()
        after = {r["sku"]: r["on_hand"] for r in sc.api("GET", "/api/v1/stores/%d/stock" % store)}
        points = sc.api("GET", "/api/v1/members/%d" % member["id"])["points"]
        ledger = sc.api("GET", "/api/v1/members/%d/points" % member["id"])
        left = _pending_lines(sc.rig.flash_dir)
        copy_points = _copy_points(sc.rig.flash_dir, member["number"])
        # the coupons: ours marked used with our sales, the one both redeemed flagged, and the
        # one the other terminal redeemed refused here once the used serials are synced
        ledger_c = sc.api("GET", "/api/v1/merchants/%d/coupon-redemptions" % merchant["id"])
        doubles = sc.api("GET", "/api/v1/merchants/%d/coupon-double-redemptions" % merchant["id"])
        synced = _wait_used(sc.rig.flash_dir, COUPONS["THEIRS"])
        rig = sc.rig
        rig.home()
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        rig.board.devices["scanner"].scan(_coupon(COUPONS["THEIRS"]))
        try:
            refused = "already used" in rig.wait_any(["already used", "ACCEPTED"])[1]
        except TimeoutError as e:
            return False, "the other terminal's coupon scanned after catching up: %s; the board's console ends:\n%s" % (
                e, rig.board.console()[-2500:])
        rig.keys(["CANCEL"])
        rig.wait_text("READY")
    out(receipts[0])
    out("-" * 32)
    promoted = sum(1 for r in receipts if "10% OFF DRINKS" in r)
    by_card = sum(1 for k in range(sales) if cards and k % 6 == 3)
    printed = sum(earned(r) for r in member_sales)
    invoices = [c[0] for c in cloud]
    if len(listed) != sales:
        problems.append("the terminal holds %d sales, not %d" % (len(listed), sales))
    if not drained:
        problems.append("the upload queue did not drain")
    if sorted(invoices) != sorted(listed) or len(set(invoices)) != len(invoices):
        problems.append("the cloud holds invoices %s, the terminal %s" % (sorted(invoices), sorted(listed)))
    wrong = [c[0] for c in cloud if c[0] in listed and listed[c[0]][1] != c[2]]
    if wrong:
        problems.append("totals differ for invoices %s" % wrong)
    for it in ITEMS:
        s = it["sku"]
        if after.get(s) != before.get(s, 0) - sold.get(s, 0):
            problems.append("%s: stock %s, expected %d - %d" % (s, after.get(s), before.get(s, 0), sold.get(s, 0)))
    if not printed or points != printed or len(ledger) != len(member_sales):
        problems.append("the member's points: cloud %d in %d ledger entries, the receipts %d in %d sales"
                        % (points, len(ledger), printed, len(member_sales)))
    if not refreshed or left or copy_points != points:
        problems.append("the terminal's pending points not let go (%d lines left, its copy %s, the cloud %d)"
                        % (len(left), copy_points, points))
    if not promoted:
        problems.append("no receipt shows the promotion")
    ctl = sc.identity["controller_id"]
    got = sorted((c["serial"], c["terminal"]) for c in ledger_c)
    want = sorted([(COUPONS["OURS"], ctl), (COUPONS["THEIRS"], "POS-OTHER"), (COUPONS["BOTH"], "POS-OTHER")])
    if got != want:
        problems.append("the cloud's coupon ledger holds %s, not %s" % (got, want))
    flagged = [(d["serial"], d["terminal"], d["first_terminal"]) for d in doubles]
    if flagged != [(COUPONS["BOTH"], ctl, "POS-OTHER")]:
        problems.append("coupons redeemed twice flagged: %s" % flagged)
    if not synced or not refused:
        problems.append("the coupon used at the other terminal was not refused here after the sync")
    out("coupons: %d in the cloud's ledger, %d redeemed at both terminals flagged (%s), the other terminal's "
        "coupon %s here after the sync" % (len(ledger_c), len(flagged), ", ".join(f[0] for f in flagged),
                                           "refused" if refused else "ACCEPTED"))
    total = sum(v[1] for v in listed.values())
    out("stock (before -> after, sold): " + ", ".join("%s %d->%d (-%d)" % (it["sku"], before.get(it["sku"], 0),
                                                                           after.get(it["sku"], 0), sold.get(it["sku"], 0))
                                                         for it in ITEMS))
    out("figures: %d sales sold offline in %.1f s; the queue drained and the member copy refreshed %.1f s after "
        "the link came back" % (sales, selling, catching_up))
    ok = not problems
    return ok, ("%d basket sales (%d with the drinks promotion, %d for a member, %d of those by card, %s in all) "
                "paid in %s with the "
                "cloud unreachable; after it came back the cloud holds each of them once with its total, the stock "
                "of %d items moved by exactly the %d pieces sold, the member's %d points equal to the receipts' in "
                "%d ledger entries, the terminal's pending points let go; its %d coupons marked used, the one also "
                "redeemed at another terminal flagged, that terminal's coupon refused here once synced; %s heap"
                % (sales, promoted, len(member_sales), by_card, money(total), "cash or by card" if by_card else "cash",
                   len(ITEMS), sum(sold.values()), points, len(ledger), len(COUPON_SALES), heap)
                if ok else "; ".join(problems))


def _wait_copy(flash_dir, inv, timeout=90):
    """True once the terminal's member copy holds its invoices up to `inv` (its header)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(os.path.join(flash_dir, "members.jsonl")) as f:
                if json.loads(f.readline()).get("inv", 0) >= inv:
                    return True
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    return False


def _pending_lines(flash_dir):
    try:
        with open(os.path.join(flash_dir, "members.pend")) as f:
            return [ln for ln in f if ln.strip()]
    except OSError:
        return []


def _copy_points(flash_dir, number):
    """The member's points in the terminal's copy (None when the copy lacks the member)."""
    with open(os.path.join(flash_dir, "members.jsonl")) as f:
        for ln in f:
            d = json.loads(ln)
            if d.get("n") == number:
                return d.get("p")
    return None


SCENARIOS = {"offline-day": offline_day}
