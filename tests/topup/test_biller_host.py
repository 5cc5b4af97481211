"""The biller host simulator over real HTTP: signatures, freshness and replays, lookups and
bad accounts, idempotent pay, query, reversal (a late pay after it is never applied), PIN
vouchers, and refusal and timeout faults."""
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from host_sim.hosts.biller import BillerHost, sign, signed_query, terminal_key

KEY = terminal_key("TERM0001")


@pytest.fixture
def biller():
    b = BillerHost(port=0).start()
    yield b
    b.stop()


def post(b, path, obj, key=KEY, terminal="TERM0001", ts=None, nonce=None, body=None, timeout=10):
    body = json.dumps(obj).encode() if body is None else body
    q = signed_query(key, "POST", path, terminal, body, ts=ts, nonce=nonce)
    req = urllib.request.Request(b.url + path + "?" + q, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_terminal_keys_are_diversified_and_the_signature_covers_path_and_body(biller):
    assert terminal_key("TERM0001") != terminal_key("TERM0002") and len(KEY) == 16
    assert post(biller, "/v1/catalog", {})[0] == 200
    assert post(biller, "/v1/catalog", {}, key=terminal_key("TERM0002")) == (401, {"error": "bad signature"})
    assert post(biller, "/v1/catalog", {}, terminal="TERM9999")[0] == 401
    body = b'{"product": "bill", "code": "POWER", "account": "1000200030"}'
    q = signed_query(KEY, "POST", "/v1/lookup", "TERM0001", body)
    tampered = body.replace(b"0030", b"0048")
    req = urllib.request.Request(biller.url + "/v1/lookup?" + q, data=tampered, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401
    # the signed string, byte for byte (what the app builds on MicroPython)
    assert sign(KEY, "POST", "/p", "T", 5, "n", b"{}") == __import__("hmac").new(
        KEY, b"POST\n/p\nT\n5\nn\n{}", "sha256").hexdigest()


def test_a_replayed_or_stale_request_does_nothing(biller):
    assert post(biller, "/v1/catalog", {}, nonce="abc123")[0] == 200
    assert post(biller, "/v1/catalog", {}, nonce="abc123") == (409, {"error": "replayed request (nonce already used)"})
    st, a = post(biller, "/v1/catalog", {}, ts=int(time.time()) - 3600)
    assert st == 401 and "window" in a["error"]


def test_catalog_and_lookups(biller):
    st, c = post(biller, "/v1/catalog", {})
    assert [o["code"] for o in c["operators"]] == ["LUMEN", "ORBIT"]
    assert c["operators"][0]["kind"] == "pin" and c["operators"][1]["denominations"] == [1000, 2000, 5000, 10000]
    assert post(biller, "/v1/lookup", {"product": "bill", "code": "POWER", "account": "1000200030"}) == (
        200, {"account": "1000200030", "holder": "J. DOE", "due": 8450})
    assert post(biller, "/v1/lookup", {"product": "bill", "code": "POWER", "account": "1000209999"}) == (
        404, {"error": "no account 1000209999 at City Power"})
    assert post(biller, "/v1/lookup", {"product": "mobile", "code": "ORBIT", "account": "17012345678"}) == (
        404, {"error": "170****5678 is not a number of Orbit Mobile"})
    st, a = post(biller, "/v1/lookup", {"product": "card", "code": "CARD", "account": "4761739001010119"})
    assert st == 200 and a == {"account": "476173******0119", "holder": "K. WONG", "due": 152300, "min_due": 15230}
    assert post(biller, "/v1/lookup", {"product": "card", "code": "CARD", "account": "4761739001010118"}) == (
        422, {"error": "card number fails its check digit"})
    assert post(biller, "/v1/lookup", {"product": "bill", "code": "POWER", "account": "10002x"})[0] == 422


def _pay(b, key, amount=8450, account="1000200030", product="bill", code="POWER"):
    return post(b, "/v1/pay", {"idempotency_key": key, "product": product, "code": code, "account": account,
                                "amount": amount, "reference": "TU000001"})


def test_pay_is_idempotent_and_reversal_puts_the_amount_back(biller):
    st, a = _pay(biller, "TERM0001-TU000001")
    assert st == 200 and a == {"status": "done", "biller_ref": "BR00000001", "amount": 8450}
    assert _pay(biller, "TERM0001-TU000001") == (200, a)                  # the first answer again
    assert len(biller.fulfilled) == 1
    assert biller.catalog.billers["POWER"]["accounts"]["1000200030"][1] == 0
    assert _pay(biller, "TERM0001-TU000001", amount=100)[0] == 422        # same key, another request
    assert post(biller, "/v1/query", {"idempotency_key": "TERM0001-TU000001"}) == (200, a)
    assert post(biller, "/v1/query", {"idempotency_key": "TERM0001-TU000099"}) == (200, {"status": "unknown"})
    st, r = post(biller, "/v1/reverse", {"idempotency_key": "TERM0001-TU000001"})
    assert r == {"status": "reversed", "biller_ref": "BR00000001", "amount": 8450}
    assert biller.catalog.billers["POWER"]["accounts"]["1000200030"][1] == 8450
    assert post(biller, "/v1/reverse", {"idempotency_key": "TERM0001-TU000001"})[1]["status"] == "reversed"
    assert biller.catalog.billers["POWER"]["accounts"]["1000200030"][1] == 8450    # undone once
    # another terminal's key space is its own
    assert post(biller, "/v1/query", {"idempotency_key": "TERM0001-TU000001"}, key=terminal_key("TERM0002"),
                terminal="TERM0002") == (200, {"status": "unknown"})


def test_refusals_charge_nothing(biller):
    assert _pay(biller, "k1", amount=9000)[1] == {"status": "refused", "reason": "amount 9000 is more than the 8450 due"}
    assert _pay(biller, "k2", account="1000200055")[1]["reason"] == "nothing is due on this account"
    assert _pay(biller, "k3", product="mobile", code="ORBIT", account="13800138000", amount=1500)[1]["reason"] == \
        "1500 is not a denomination of Orbit Mobile"
    biller.refuse_next = 1
    assert _pay(biller, "k4")[1] == {"status": "refused", "reason": "operator system unavailable"}
    assert biller.fulfilled == []
    assert post(biller, "/v1/reverse", {"idempotency_key": "k4"})[1]["status"] == "refused"
    assert post(biller, "/v1/pay", {"idempotency_key": "k5", "product": "bill", "code": "POWER",
                                    "account": "1000200030", "amount": True})[0] == 400
    assert post(biller, "/v1/pay", {}, body=b"[1, 2]")[0] == 400


def test_pin_top_up_returns_a_voucher(biller):
    st, a = _pay(biller, "v1", product="mobile", code="LUMEN", account="17012345678", amount=1000)
    assert a["status"] == "done" and len(a["voucher_pin"]) == 16 and a["voucher_pin"].isdigit()
    assert a["voucher_serial"].startswith("VS")
    assert biller.records()[0]["account"] == "170****5678"


def test_a_pay_held_past_a_reversal_is_never_applied(biller):
    biller.stall_next, biller.stall_s = 1, 1.0
    got = []
    t = threading.Thread(target=lambda: got.append(_pay(biller, "late-1")))
    t.start()
    deadline = time.monotonic() + 10
    while biller.stall_next and time.monotonic() < deadline:       # the pay is being held
        time.sleep(0.01)
    assert post(biller, "/v1/query", {"idempotency_key": "late-1"})[1] == {"status": "unknown"}
    assert post(biller, "/v1/reverse", {"idempotency_key": "late-1"})[1]["status"] == "reversed"
    t.join(10)
    assert got[0][1]["status"] == "reversed"
    assert biller.fulfilled == [] and biller.catalog.billers["POWER"]["accounts"]["1000200030"][1] == 8450
    r = biller.records()[0]
    assert (r["key"], r["account"], r["amount"], r["answer"]["status"]) == ("late-1", "1000200030", 8450, "reversed")


def test_card_numbers_stay_masked_in_the_records(biller):
    st, a = _pay(biller, "c1", product="card", code="CARD", account="4761739001010119", amount=5000)
    assert a["status"] == "done"
    assert "4761739001010119" not in json.dumps(biller.records())
    assert biller.records()[0]["account"] == "476173******0119"
