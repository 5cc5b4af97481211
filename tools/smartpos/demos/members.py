"""A member's sale on the whole counter, with the cloud.

    smartpos demo --scenario member-loyalty

The counter is enrolled in the cloud service; the merchant's member programme (1 point per
1.00) and a member with a MIFARE Classic membership card and 50.00 stored value are set up
through the back-office API, and the terminal's programme parameters and member copy are
written from the device API's answers.  At the basket (two scanned items) the bad inputs come
first: an unknown card, an expired member QR (signed by the cloud's key), a QR signed by
another key -- each a message, the basket as it was.  Then the member taps the card: the
member's masked number, tier, points and stored value on the display.  With the cloud
unreachable the sale is paid in cash and its points kept provisionally; the receipt shows the
points earned and the next reward, and the customer sees them.  The link comes back: the
upload names the member, the cloud's balance grows once, and the terminal fetches its member
copy again and shows the cloud's balance (the provisional points not counted twice).  Last, a
new customer is enrolled at the counter: a new NTAG card tapped (unknown), the phone typed,
F2: the cloud makes the member and the basket shows it at once.

Runs on the product heap (HEAP): the counter is restarted once its catalog and programme are
written, so the basket's buffers and the member's modules are made at boot (docs/offline.md,
"Memory").
"""
import base64
import datetime
import json
import os
import time
import urllib.request
from types import SimpleNamespace

from host_sim.rig import PRODUCT_HEAP

HEAP = PRODUCT_HEAP           # the product heap (docs/offline.md, "Memory")
ITEMS = [
    {"barcode": "4006381333931", "sku": "JUICE1L", "name": "APPLE JUICE 1L", "name_zh": "苹果汁", "price": 250, "tax": 1},
    {"barcode": "96385074", "sku": "RICE5", "name": "RICE 5KG", "name_zh": "大米", "price": 1999, "tax": 1},
]
RULES = '{"tax": {"mode": "exclusive", "rounding": "line", "rates": {"1": 600}}}'
PROGRAMME = {"spend_unit": 100, "points_per_unit": 1, "reward_points": 100, "reward_text": "FREE COFFEE",
             "offline_stored_value": 2000, "qr_ttl_s": 300}
CARD_UID = "DEADBEEF"
NEW_CARD = "04A1B2C3D4E5F6"  # an NTAG 213 the shop hands a new member
NEW_PHONE = "13900005678"        # host_sim.devices.nfc_tags.MifareClassic1K's default UID


def _device(sc, path):
    ident = sc.identity
    req = urllib.request.Request("%s/%s/controller/v1/%s/members%s" % (sc.cloud.url, ident["tenant"],
                                                                       ident["controller_id"], path))
    req.add_header("Authorization", "TargetToken " + ident["target_token"])
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _foreign_qr(number):
    """A member QR of the right shape signed by a key that is not the shop's."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expires = int(time.time()) + 300
    sig = key.sign(("SPM1.1.%s.%d" % (number, expires)).encode(), padding.PKCS1v15(), hashes.SHA256())
    return "SPM1.%s.%d.%s" % (number, expires, base64.urlsafe_b64encode(sig).rstrip(b"=").decode())


def set_up(sc):
    """The programme and the member in the cloud; the terminal's member files and catalog.
    Returns (member as the back office sees it, merchant id)."""
    from host_sim import catalog, members
    m = [x for x in sc.api("GET", "/api/v1/merchants") if x["name"] == "TEST Merchant"][0]
    sc.api("PUT", "/api/v1/merchants/%d/member-programme" % m["id"], PROGRAMME)
    member = sc.api("POST", "/api/v1/merchants/%d/members" % m["id"],
                    {"name": "Li Wei", "phone": "13800001234", "tier": "GOLD", "card_uid": CARD_UID,
                     "card_kind": "mifare_classic"})
    sc.api("POST", "/api/v1/members/%d/stored-value" % member["id"], {"amount": 5000})
    flash = sc.rig.flash_dir
    members.write_programme(flash, dict(_device(sc, "/programme"), merchant_id=m["id"]))
    members.write_copy(flash, _device(sc, "/copy"))
    catalog.write(os.path.join(flash, "catalog.bin"), ITEMS, version=1)
    with open(os.path.join(flash, "config", "catalog.json"), "w") as f:
        f.write(RULES)
    return member, m["id"]


def expired_qr(sc, member, merchant_id):
    """A member QR signed with the shop's own key that expired an hour ago (the cloud's signer)."""
    from cloud.members import qr
    (pem,) = sc.cloud_rows("SELECT qr_key_pem FROM member_programmes WHERE merchant_id = ?", (merchant_id,))[0]
    prog = SimpleNamespace(qr_key_pem=pem, qr_ttl_s=60)
    then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    return qr.issue(SimpleNamespace(merchant_id=merchant_id, number=member["number"]), prog, then)


def member_loyalty(args=None, out=print):
    from host_sim.devices.nfc_tags import MifareClassic1K, Ntag21x
    from host_sim.salesync import SyncCounter
    problems = []
    with SyncCounter(heap=HEAP, log=None) as sc:
        rig = sc.rig
        member, merchant_id = set_up(sc)
        # the counter starts with its catalog and programme, as a counter set up for members
        # does: the basket's buffers and the member's modules are made at boot (main.py)
        sc.power_cycle()
        scanner, nfc = rig.board.devices["scanner"], rig.board.devices["pn532"]
        rig.home()
        rig.printer.tear_off()
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        scanner.scan("4006381333931")
        rig.wait_text("BASKET 1")
        scanner.scan("96385074")
        before = rig.wait_text("BASKET 2")                     # 2.50 + 19.99 + 6 % = 23.84
        rig.keys(["F1"])
        rig.wait_text("Tap member card")
        stranger = MifareClassic1K(uid=bytes.fromhex("01020304"))
        nfc.tap(stranger)
        out("unknown card:    " + _said(rig.wait_text("unknown card")))
        nfc.remove()
        scanner.scan(expired_qr(sc, member, merchant_id))
        out("expired QR:      " + _said(rig.wait_text("expired")))
        scanner.scan(_foreign_qr(member["number"]))
        out("other key's QR:  " + _said(rig.wait_text("not signed by this shop")))
        rig.keys(["CANCEL"])
        after_bad = rig.wait_text("BASKET 2")
        if "USD 23.84" not in before or "USD 23.84" not in after_bad:
            problems.append("the basket changed after bad member input")
        rig.keys(["F1"])
        rig.wait_text("Tap member card")
        nfc.tap(MifareClassic1K())
        shown = rig.wait_text("GOLD 0PT")
        nfc.remove()
        out(shown)
        masked = "*" + member["number"][-4:]
        if masked not in shown or "SV 50.00" not in shown:
            problems.append("the member is not shown masked with tier, points and stored value")
        sc.relay.down_for(3600)                                 # the cloud unreachable from here
        rig.keys(["ENTER"])
        rig.wait_text("1 Cash")
        rig.keys(["1"])
        rig.wait_text("Cash tendered")
        rig.keys(["F1"])                                        # exact
        rig.wait_text("Change")
        rig.printer.wait_for_cuts(1)
        receipt = rig.receipts()[-1]
        rig.keys(["ENTER"])
        thanks = rig.wait_text("+23 POINTS")
        out(thanks)
        rig.keys(["ENTER"])
        rig.wait_text("READY")
        offline = sc.api("GET", "/api/v1/members/%d" % member["id"])["points"]
        out("offline: the cloud's balance %d, the terminal's 23 pending" % offline)
        if offline != 0:
            problems.append("the cloud booked points while it was unreachable")
        sc.relay.down_for(0)                                    # the link back: the queue drains
        drained = sc.wait_drained(120)
        # the uploads in, the terminal fetched the member copy again: the cloud's balance, the
        # provisional points it holds let go (shown once, not twice)
        reconciled = _wait_copy(rig.flash_dir, 1)
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        rig.keys(["F1"])
        rig.wait_text("Tap member card")
        nfc.tap(MifareClassic1K())
        again = rig.wait_text("GOLD 23PT")
        nfc.remove()
        rig.keys(["CANCEL"])
        rig.wait_text("READY")
        out("after the upload, the copy from the cloud: " + _said(again))
        if not reconciled or _pending_lines(rig.flash_dir):
            problems.append("the terminal did not fetch the member copy after its upload (or kept the "
                            "provisional points the copy holds)")
        # enrolment at the counter: a new card, the phone typed
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        rig.keys(["F1"])
        rig.wait_text("Tap member card")
        nfc.tap(Ntag21x(uid=bytes.fromhex(NEW_CARD)))
        rig.wait_text("F2 ENROL")
        rig.keys(list(NEW_PHONE))
        rig.wait_text("PHONE " + NEW_PHONE)
        rig.keys(["F2"])
        enrolled = rig.wait_text("BASIC 0PT")
        nfc.remove()
        out(enrolled)
        rig.keys(["CANCEL"])
        rig.wait_text("READY")
        new = [x for x in sc.api("GET", "/api/v1/merchants/%d/members" % merchant_id) if x["cards"] == [NEW_CARD]]
        if len(new) != 1 or new[0]["phone"] != "*******" + NEW_PHONE[-4:] or ("*" + new[0]["number"][-4:]) not in enrolled:
            problems.append("the counter's enrolment did not make the member in the cloud")
        cloud = sc.api("GET", "/api/v1/members/%d" % member["id"])
        ledger = sc.api("GET", "/api/v1/members/%d/points" % member["id"])
        uploads = sc.cloud_uploads()
    out(receipt)
    lines = [ln.rstrip() for ln in receipt.split("\n")]
    if "POINTS EARNED                +23" not in lines or "77 POINTS TO NEXT REWARD" not in lines:
        problems.append("the receipt lacks the points earned or the next reward")
    if member["number"] in receipt or "Li Wei" in receipt or "13800001234" in receipt:
        problems.append("member data unmasked on the receipt")
    if "77 POINTS TO NEXT REWARD" not in thanks:
        problems.append("the customer is not shown the next reward")
    if not drained or [u.get("member_id") for u in uploads] != [member["number"]]:
        problems.append("the upload does not name the member")
    if cloud["points"] != 23 or [(e["kind"], e["points"]) for e in ledger] != [("sale", 23)]:
        problems.append("the cloud's balance is %d with %d ledger entries, not 23 once" % (cloud["points"], len(ledger)))
    ok = not problems
    return ok, ("member %s (GOLD) tapped a MIFARE Classic card; 23.84 paid in cash with the cloud unreachable; +23 points on screen and "
                "receipt; the cloud's balance %d after one ledger entry, the terminal's copy refreshed after the upload "
                "(no points counted twice); unknown card, expired QR and another "
                "key's QR refused with the basket intact; a new customer enrolled at the counter with an NTAG card; "
                "%s heap" % (masked, cloud["points"], HEAP)
                if ok else "; ".join(problems))


def _wait_copy(flash_dir, inv, timeout=60):
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


def _said(text):
    return " ".join(ln.strip() for ln in text.split("\n") if ln.strip())[:160]


SCENARIOS = {"member-loyalty": member_loyalty}
