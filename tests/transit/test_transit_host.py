"""The transit card model and the operator's load host over real HTTP, without the terminal:
MAC1 checked with the diversified load key, one MAC2 per payment reference while the card's
counter has not moved ("applied" once it has), TAC checked, the proof of a completed load."""
import json
import urllib.error
import urllib.request

import pytest

from host_sim.cards.transit import AID
from host_sim.hosts.biller import signed_query
from host_sim.hosts.transit import TransitHost, card_keys, make_card, terminal_key

TERM = "112233445566"


@pytest.fixture
def host():
    h = TransitHost(port=0).start()
    yield h
    h.stop()


def post(h, path, obj, terminal="TERM0001", key=None, nonce=None):
    body = json.dumps(obj).encode()
    q = signed_query(key or terminal_key(terminal), "POST", path, terminal, body, nonce=nonce)
    req = urllib.request.Request(h.url + path + "?" + q, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def tx(card, hexs):
    r = card.transmit(bytes.fromhex(hexs))
    return r[:-2], r[-2:].hex()


def init(card, amount, ref="R1"):
    assert tx(card, "00A4040008" + AID.hex())[1] == "9000"
    r, sw = tx(card, "805000020B01%08X%s10" % (amount, TERM))
    assert sw == "9000" and len(r) == 16
    return {"reference": ref, "serial": card.serial.hex(), "amount": amount, "terminal_no": TERM,
            "balance": int.from_bytes(r[:4], "big"), "counter": int.from_bytes(r[4:6], "big"),
            "key_version": r[6], "random": r[8:12].hex(), "mac1": r[12:16].hex()}


def credit(card, a):
    return tx(card, "805200000B%s%s%s04" % (a["date"], a["time"], a["mac2"]))


def test_a_load_end_to_end_and_its_proof(host):
    card = make_card("31049000000000012345", balance=150)
    assert tx(card, "805C000204") == (b"", "6985")                 # nothing selected yet
    req = init(card, 2000)
    assert req["balance"] == 150 and req["counter"] == 0
    st, a = post(host, "/v1/load", req)
    assert st == 200 and len(bytes.fromhex(a["mac2"])) == 4
    tac, sw = credit(card, a)
    assert sw == "9000" and card.balance == 2150 and card.counter == 1
    assert post(host, "/v1/confirm", {"reference": "R1", "tac": tac.hex()}) == (200, {"status": "done", "balance": 2150})
    assert tx(card, "805A0002020000" + "08") == (bytes.fromhex(a["mac2"]) + tac, "9000")
    assert tx(card, "805A0002020001" + "08") == (b"", "9406")      # no load with counter 1 yet
    # the same reference again: the card's counter moved, so no second MAC2
    assert post(host, "/v1/load", init(card, 2000)) == (200, {"status": "applied"})


def test_wrong_mac1_wrong_mac2_wrong_tac_and_a_reused_reference(host):
    card = make_card("31049000000000022222", balance=0)
    req = init(card, 1000)
    bad = dict(req, mac1="%08x" % (int(req["mac1"], 16) ^ 1))
    assert post(host, "/v1/load", bad) == (422, {"error": "MAC1 does not verify"})
    st, a = post(host, "/v1/load", req)
    assert st == 200
    assert credit(card, dict(a, mac2="00000000")) == (b"", "9302") and card.balance == 0
    assert tx(card, "805200000B%s%s%s04" % (a["date"], a["time"], a["mac2"]))[1] == "6985"   # one try only
    a2 = post(host, "/v1/load", init(card, 1000))[1]                # same counter: a second MAC2 is fine
    tac, sw = credit(card, a2)
    assert sw == "9000" and card.balance == 1000
    assert post(host, "/v1/confirm", {"reference": "R1", "tac": "00000000"}) == (422, {"error": "TAC does not verify"})
    assert post(host, "/v1/confirm", {"reference": "R1", "tac": tac.hex()})[0] == 200
    other = make_card("31049000000000033333", balance=0)
    assert post(host, "/v1/load", init(other, 1000))[0] == 409                 # R1 is another card's load
    assert host.records()["R1"]["issued"] == 2


def test_keys_are_diversified_per_card_and_the_limit_holds():
    assert card_keys("31049000000000012345") != card_keys("31049000000000012346")
    card = make_card("31049000000000044444", balance=99000)
    tx(card, "00A4040008" + AID.hex())
    assert tx(card, "805000020B01%08X%s10" % (2000, TERM)) == (b"", "6a84")
    assert tx(card, "805000020B02%08X%s10" % (100, TERM)) == (b"", "9403")
    assert tx(card, "00A4040008A000000003101010") == (b"", "6a82")


def test_the_app_builds_as_a_store_package_asking_for_nfc(tmp_path):
    from cloud.appstore import package
    from host_sim.hosts.transit.counter import APP_DIR
    with open(package.build(APP_DIR, str(tmp_path)), "rb") as f:
        raw = f.read()
    m = package.read_manifest(raw)
    assert m["id"] == "transit" and m["entry"] == "main.mpy" and "nfc" in m["permissions"]
    assert [n for n, _ in package.members(raw) if n != "sw-description"] == ["app.json", "main.mpy"]


def test_only_the_operators_terminals_obtain_a_mac2(host):
    card = make_card("31049000000000088888", balance=0)
    req = init(card, 1000, ref="R9")
    assert post(host, "/v1/load", req, key=bytes(16)) == (401, {"error": "bad signature"})
    assert post(host, "/v1/load", req, terminal="TERM9999")[0] == 401
    assert post(host, "/v1/load", req, nonce="n1")[0] == 200
    assert post(host, "/v1/load", req, nonce="n1") == (401, {"error": "replayed request (nonce already used)"})
    assert host.records()["R9"]["issued"] == 1
