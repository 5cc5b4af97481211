"""The group-buy app (apps/groupbuy) on the virtual board (product heap) against the voucher
platform: a voucher scanned (sdk.scan, the scanner model on the board's UART), looked up, redeemed once and its slip printed; the second redemption told
when and where; another store's and an expired voucher refused; a mistyped code caught on the
terminal, keyed or scanned; an answer lost after the platform redeemed asked again with the same key (redeemed
once); the day's redemptions reconciled with the platform's file, and a difference found."""
import json
import os
import urllib.request

import pytest

from host_sim.hosts.vouchers import VoucherHost, signed_query, terminal_key
from host_sim.hosts.vouchers.counter import install, key_code, open_app, scan_code
from host_sim.hosts.vouchers.deals import VOUCHERS
from host_sim.rig import Rig

TIMEOUT_MS = 2500
LATTE = [c for c, d in VOUCHERS.items() if d == "D1001"]
HOTPOT = [c for c, d in VOUCHERS.items() if d == "D1002"]
CAKE = [c for c, d in VOUCHERS.items() if d == "D1003"]


def grouped(code):
    return " ".join(code[i:i + 4] for i in range(0, 12, 4))


@pytest.fixture(scope="module")
def platform():
    v = VoucherHost(port=0).start()
    v.hold_s = TIMEOUT_MS / 1000 + 1.0      # held past the app's wait, by a margin
    yield v
    v.stop()


@pytest.fixture(scope="module")
def rig(platform):
    with Rig(before_boot=lambda r: install(r, platform, "TERM0001", TIMEOUT_MS)) as r:
        open_app(r)
        yield r


def _back_home(rig):
    rig.keys(["CANCEL"])
    rig.wait_text("2 Reconcile today")


def test_a_voucher_is_shown_redeemed_once_and_its_slip_printed(rig, platform):
    n0 = len(rig.receipts())
    which, text = scan_code(rig, LATTE[0])
    assert which == "ENTER redeem"
    assert "Latte for two" in text and "Value 46.00" in text and "VALID" in text and grouped(LATTE[0]) in text
    rig.keys(["ENTER"])
    text = rig.wait_text("REDEEMED", 30)
    assert len(platform.redemptions) == 1
    r = platform.redemptions[0]
    assert r["code"] == LATTE[0] and r["terminal"] == "TERM0001" and r["store"] == "SH001"
    assert "Ref " + r["redemption"] in text
    slips = rig.receipts()[n0:]
    assert len(slips) == 1
    for part in ("GROUP-BUY VOUCHER", "Nanjing Rd TERM0001", "Latte for two", "Code " + grouped(LATTE[0]),
                 "Value 46.00", "Redemption " + r["redemption"], r["day"] + " " + r["time"], "REDEEMED"):
        assert part in slips[0]
    day = open(os.path.join(rig.flash_dir, "appdata", "groupbuy", "day-" + r["day"].replace("-", ""))).read()
    assert day == "%s,%s,D1001,4600,%s\n" % (r["redemption"], LATTE[0], r["time"])
    _back_home(rig)


def test_the_second_redemption_is_refused_with_when_and_where(rig, platform):
    n0 = len(rig.receipts())
    which, text = scan_code(rig, LATTE[0])
    r = platform.redemptions[0]
    assert which == "ENTER next"
    assert "ALREADY REDEEMED" in text and "on %s %s" % (r["day"], r["time"]) in text and "at Nanjing Rd" in text
    assert "ENTER redeem" not in text
    rig.keys(["ENTER"])                 # ENTER here is the next voucher, never a redemption
    rig.wait_text("Voucher code:")
    assert len(platform.redemptions) == 1 and len(rig.receipts()) == n0
    _back_home(rig)


def test_another_stores_voucher_and_an_expired_one_are_refused(rig, platform):
    which, text = key_code(rig, HOTPOT[0])
    assert which == "ENTER next" and "NOT FOR THIS STORE" in text and "valid at Xujiahui" in text
    rig.keys(["ENTER"])
    rig.wait_text("Voucher code:")
    rig.keys(list(CAKE[0]) + ["ENTER"])
    text = rig.wait_text("EXPIRED on 2020-10-31", 30)
    assert "Autumn cake voucher" in text
    assert len(platform.redemptions) == 1
    _back_home(rig)


def test_a_mistyped_code_is_caught_on_the_terminal(rig, platform):
    n = len(platform.requests)
    bad = LATTE[1][:-1] + str((int(LATTE[1][-1]) + 3) % 10)
    rig.keys(["1"])
    rig.wait_text("Voucher code:")
    rig.keys(list(bad) + ["ENTER"])
    rig.wait_text("Invalid code: try again")
    assert len(platform.requests) == n         # nothing left the terminal
    _back_home(rig)
    for scanned in (bad, "VOUCHER-" + LATTE[1]):   # the same code scanned; not a voucher code at all
        rig.keys(["1"])
        rig.wait_text("Voucher code:")
        rig.board.devices["scanner"].scan(scanned)
        rig.wait_text("Invalid code: try again")
        _back_home(rig)
    assert len(platform.requests) == n


def test_a_lost_answer_is_asked_again_with_the_same_key_and_redeemed_once(rig, platform):
    platform.hold_next = 1
    which, text = key_code(rig, LATTE[1])
    assert which == "ENTER redeem"
    rig.keys(["ENTER"])
    text = rig.wait_text("REDEEMED", 60)
    mine = [r for r in platform.redemptions if r["code"] == LATTE[1]]
    assert len(mine) == 1 and "Ref " + mine[0]["redemption"] in text
    keys = [k for (t, k), (c, a) in platform.idem.items() if c == LATTE[1]]
    assert len(keys) == 1
    assert platform.hold_next == 0      # the first answer was held past the app's wait: the
    # app asked again with the same key and was given the first answer
    assert "pending" not in os.listdir(os.path.join(rig.flash_dir, "appdata", "groupbuy"))
    _back_home(rig)


def test_the_days_redemptions_reconcile_with_the_platforms_file(rig, platform):
    n0 = len(rig.receipts())
    rig.keys(["2"])
    text = rig.wait_any(("RECONCILED", "DIFFERENCES"), 30)[1]
    assert "RECONCILED" in text and "Platform 2  Terminal 2" in text and "Matched 2" in text
    assert "Value P 92.00  T 92.00" in text
    assert "GROUP-BUY RECONCILIATION" in rig.receipts()[n0]
    rig.keys(["ENTER"])
    rig.wait_text("2 Reconcile today")


def test_a_redemption_the_terminal_has_no_record_of_shows_as_a_difference(rig, platform):
    # TERM0001's key redeems at the platform outside the app (a second copy of the app, a
    # restored terminal): the file has it, the terminal's record does not
    body = json.dumps({"code": LATTE[2], "idempotency_key": "elsewhere-1"}).encode()
    q = signed_query(terminal_key("TERM0001"), "/v1/redeem", "TERM0001", body)
    urllib.request.urlopen(urllib.request.Request(platform.url + "/v1/redeem?" + q, data=body, method="POST"),
                           timeout=10).read()
    extra = platform.redemptions[-1]["redemption"]
    rig.keys(["2"])
    text = rig.wait_any(("RECONCILED", "DIFFERENCES"), 30)[1]
    assert "DIFFERENCES" in text and "Platform 3  Terminal 2" in text and "Value P 138.00  T 92.00" in text
    assert "Platform only " + extra in text
    assert "Platform only " + extra in rig.receipts()[-1]
    rig.keys(["ENTER", "CANCEL"])
    rig.wait_text("READY")


def test_a_redemption_left_pending_is_asked_again_at_the_next_start(platform):
    # the terminal stopped after sending a redemption whose answer never came: the platform
    # redeemed it; at the next start the app sends the same key and shows and records it
    code = platform.deals.add_voucher("D1001", 50)
    key = "TERM0001-GB000077"
    body = json.dumps({"code": code, "idempotency_key": key}).encode()
    q = signed_query(terminal_key("TERM0001"), "/v1/redeem", "TERM0001", body)
    urllib.request.urlopen(urllib.request.Request(platform.url + "/v1/redeem?" + q, data=body, method="POST"),
                           timeout=10).read()
    r = platform.redemptions[-1]

    def put(rig):
        install(rig, platform, "TERM0001", TIMEOUT_MS)
        with open(os.path.join(rig.flash_dir, "appdata", "groupbuy", "pending"), "w") as f:
            json.dump({"key": key, "code": code}, f)

    with Rig(before_boot=put) as rig:
        n0 = len(rig.receipts())
        rig.home()
        rig.keys(["MENU"])
        rig.wait_text("1 Sale")
        rig.keys(["UP", "ENTER"])
        rig.wait_text("1 Group-buy vouchers")
        rig.keys(["1"])
        text = rig.wait_text("REDEEMED", 30)
        assert "Ref " + r["redemption"] in text
        assert [x["code"] for x in platform.redemptions].count(code) == 1
        assert "Redemption " + r["redemption"] in rig.receipts()[n0]
        d = os.path.join(rig.flash_dir, "appdata", "groupbuy")
        assert "pending" not in os.listdir(d)
        assert r["redemption"] + "," + code in open(os.path.join(d, "day-" + r["day"].replace("-", ""))).read()


def test_the_request_key_lives_in_the_key_store_and_an_older_storage_key_moves_there(platform):
    """Provisioned before boot, the app's key goes with the key-loading file into the sealed key
    store (secret app:groupbuy) and never into the app's storage.  A terminal provisioned the
    older way (the key in platform.json) signs its first request with it, and from then on the
    key is sealed and gone from the file."""
    old = {}

    def provision(rig):
        install(rig, platform, "TERM0001", TIMEOUT_MS)
        kld = json.load(open(os.path.join(rig.flash_dir, "keys.kld")))
        old["kld_has_it"] = "app:groupbuy" in kld["secrets"]
        path = os.path.join(rig.flash_dir, "appdata", "groupbuy", "platform.json")
        old["stored"] = json.load(open(path))
        del kld["secrets"]["app:groupbuy"]                 # the older way: the key in the storage file
        json.dump(kld, open(os.path.join(rig.flash_dir, "keys.kld"), "w"))
        json.dump(dict(old["stored"], key=terminal_key("TERM0001").hex()), open(path, "w"))

    with Rig(before_boot=provision) as rig:
        assert old["kld_has_it"] and "key" not in old["stored"] and old["stored"]["terminal"] == "TERM0001"
        path = os.path.join(rig.flash_dir, "appdata", "groupbuy", "platform.json")
        assert terminal_key("TERM0001").hex() in open(path).read()
        open_app(rig)
        which, text = key_code(rig, HOTPOT[0])              # a signed lookup: verified by the platform
        assert which == "ENTER next" and "NOT FOR THIS STORE" in text
        stored = json.load(open(path))
        assert "key" not in stored and stored["terminal"] == "TERM0001"
        assert terminal_key("TERM0001").hex().upper() not in open(path).read().upper()
        assert "signing key moved into the key store" in rig.board.console()
        rig.keys(["ENTER"])
        rig.wait_text("Voucher code:")
        rig.keys(list(HOTPOT[0]) + ["ENTER"])               # again, signed from the key store alone
        assert "NOT FOR THIS STORE" in rig.wait_text("ENTER next", 30)
