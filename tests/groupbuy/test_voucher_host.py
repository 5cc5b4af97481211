"""The voucher-platform host simulator (host_sim/hosts/vouchers) over real HTTP on CPython:
signatures, replay, lookup, single redemption with when and where, store restriction,
expiry, idempotency and the daily reconciliation file."""
import json
import time
import urllib.error
import urllib.request

import pytest

from host_sim.hosts.vouchers import FILE_HEADER, VoucherHost, parse_file, signed_query, terminal_key
from host_sim.hosts.vouchers.deals import VOUCHERS, code_for, luhn_ok

LATTE = [c for c, d in VOUCHERS.items() if d == "D1001"]
HOTPOT = [c for c, d in VOUCHERS.items() if d == "D1002"]
CAKE = [c for c, d in VOUCHERS.items() if d == "D1003"]


@pytest.fixture
def host():
    v = VoucherHost(port=0).start()
    yield v
    v.stop()


def post(host, path, obj, terminal="TERM0001", key=None, query=None, raw=None):
    body = raw if raw is not None else json.dumps(obj).encode()
    q = query or signed_query(key or terminal_key(terminal), path, terminal, body)
    req = urllib.request.Request(host.url + path + "?" + q, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_codes_carry_a_luhn_digit():
    assert all(luhn_ok(c) and len(c) == 12 for c in VOUCHERS)
    c = code_for(1)
    assert not luhn_ok(c[:-1] + str((int(c[-1]) + 1) % 10))


def test_bad_signature_wrong_terminal_key_and_replay_are_refused(host):
    assert post(host, "/v1/lookup", {"code": LATTE[0]}, key=b"\0" * 16)[0] == 401
    assert post(host, "/v1/lookup", {"code": LATTE[0]}, terminal="TERM0002", key=terminal_key("TERM0001"))[0] == 401
    body = json.dumps({"code": LATTE[0]}).encode()
    q = signed_query(terminal_key("TERM0001"), "/v1/lookup", "TERM0001", body, nonce="abc123")
    assert post(host, "/v1/lookup", None, raw=body, query=q)[0] == 200
    st, a = post(host, "/v1/lookup", None, raw=body, query=q)
    assert st == 409 and "replayed" in a["error"]
    old = signed_query(terminal_key("TERM0001"), "/v1/lookup", "TERM0001", body, ts=int(time.time()) - 3600)
    assert post(host, "/v1/lookup", None, raw=body, query=old)[0] == 401


def test_lookup_shows_the_deal_and_refuses_bad_codes(host):
    st, a = post(host, "/v1/lookup", {"code": LATTE[0]})
    assert st == 200 and a["status"] == "valid" and a["title"] == "Latte for two" and a["value"] == 4600
    assert a["stores"] == ["Nanjing Rd", "Xujiahui"]
    assert post(host, "/v1/lookup", {"code": "12345"})[0] == 422
    bad = LATTE[0][:-1] + str((int(LATTE[0][-1]) + 1) % 10)
    st, a = post(host, "/v1/lookup", {"code": bad})
    assert st == 422 and "check digit" in a["error"]
    assert post(host, "/v1/lookup", {"code": code_for(999)})[0] == 404


def test_a_voucher_is_redeemed_once_and_the_second_is_told_when_and_where(host):
    st, a = post(host, "/v1/redeem", {"code": LATTE[0], "idempotency_key": "K1"})
    assert st == 200 and a["status"] == "redeemed" and a["redemption"] == "R00000001" and a["store"] == "Nanjing Rd"
    st, b = post(host, "/v1/redeem", {"code": LATTE[0], "idempotency_key": "K2"}, terminal="TERM0002")
    assert b["status"] == "refused" and b["reason"] == "already redeemed"
    assert b["redeemed_at"] == a["at"] and b["redeemed_store"] == "Nanjing Rd"
    st, c = post(host, "/v1/lookup", {"code": LATTE[0]}, terminal="TERM0002")
    assert c["status"] == "redeemed" and c["redeemed_terminal"] == "TERM0001"
    assert len(host.redemptions) == 1


def test_a_repeated_idempotency_key_gets_the_first_answer_and_redeems_nothing_more(host):
    first = post(host, "/v1/redeem", {"code": LATTE[1], "idempotency_key": "K9"})[1]
    again = post(host, "/v1/redeem", {"code": LATTE[1], "idempotency_key": "K9"})[1]
    assert again == first and first["status"] == "redeemed" and len(host.redemptions) == 1
    st, a = post(host, "/v1/redeem", {"code": LATTE[2], "idempotency_key": "K9"})
    assert st == 422 and LATTE[1] in a["error"]
    assert host.deals.vouchers[LATTE[2]]["redeemed"] is None


def test_another_stores_voucher_and_an_expired_one_are_refused(host):
    st, a = post(host, "/v1/redeem", {"code": HOTPOT[0], "idempotency_key": "K1"})
    assert a["status"] == "refused" and "not valid at this store (Xujiahui)" == a["reason"]
    st, a = post(host, "/v1/redeem", {"code": CAKE[0], "idempotency_key": "K2"})
    assert a["status"] == "refused" and a["reason"] == "expired on 2020-10-31"
    assert host.redemptions == []
    st, a = post(host, "/v1/redeem", {"code": HOTPOT[0], "idempotency_key": "K3"}, terminal="TERM0002")
    assert a["status"] == "redeemed" and a["store"] == "Xujiahui"


def test_the_daily_file_lists_the_days_redemptions_and_each_store_gets_its_own(host):
    post(host, "/v1/redeem", {"code": LATTE[0], "idempotency_key": "A"})
    post(host, "/v1/redeem", {"code": HOTPOT[0], "idempotency_key": "B"}, terminal="TERM0002")
    post(host, "/v1/redeem", {"code": LATTE[1], "idempotency_key": "C"})
    day = host.today()
    rows = parse_file(host.daily_file(day))
    assert [(r["redemption"], r["store"], r["terminal"], r["code"], r["value"]) for r in rows] == [
        ("R00000001", "SH001", "TERM0001", LATTE[0], "4600"), ("R00000002", "SH002", "TERM0002", HOTPOT[0], "32800"),
        ("R00000003", "SH001", "TERM0001", LATTE[1], "4600")]
    assert host.daily_file("2020-01-01") == FILE_HEADER + "\n"
    st, a = post(host, "/v1/reconciliation", {})
    assert st == 200 and a["day"] == day and a["store"] == "SH001"
    assert [r["redemption"] for r in parse_file(a["file"])] == ["R00000001", "R00000003"]
    with pytest.raises(ValueError):
        parse_file("nonsense\n")


def test_a_platform_failure_is_503_and_nothing_is_redeemed(host):
    host.fail_next = 1
    st, a = post(host, "/v1/redeem", {"code": LATTE[0], "idempotency_key": "K"})
    assert st == 503 and host.redemptions == []
    assert post(host, "/v1/redeem", {"code": LATTE[0], "idempotency_key": "K"})[1]["status"] == "redeemed"


@pytest.mark.parametrize("path,body,status,says", [
    ("/v1/lookup", b"[1, 2]", 400, "not a JSON object"),
    ("/v1/lookup", b"{not json", 400, "not a JSON object"),
    ("/v1/lookup", b'{"code": 800000000011}', 422, "12 digits"),
    ("/v1/lookup", b'{"code": "8000000000\\u0661\\u0661"}', 422, "12 digits"),
    ("/v1/redeem", b'{"code": "800000000011"}', 400, "idempotency_key"),
    ("/v1/redeem", b'{"code": "800000000011", "idempotency_key": ""}', 400, "idempotency_key"),
    ("/v1/reconciliation", b'{"day": 20261128}', 400, "YYYY-MM-DD"),
    ("/v1/nothing", b"{}", 404, "no endpoint"),
])
def test_bad_requests_get_a_clear_error_and_redeem_nothing(path, body, status, says):
    host = VoucherHost(port=0)          # handle() alone: no socket
    q = signed_query(terminal_key("TERM0001"), path, "TERM0001", body)
    st, a = host.handle("POST", path + "?" + q, body)
    assert st == status and says in a["error"]
    assert host.redemptions == [] and all(v["redeemed"] is None for v in host.deals.vouchers.values())
