"""The upload queue and the upload's JSON on MicroPython (the board's heap): torn records,
the pointer, compaction, the full queue, and the JSON the cloud's contract accepts."""
import json

from host_sim import mpy
from host_sim.salesync import read_queue

CARD = {"inv": 7, "kind": "sale", "tender": "card", "amount": 1250, "tip": 150, "ok": True, "entry": "CHIP",
        "pan": "476173******0119", "label": "VISA CREDIT", "aid": "a0000000031010", "scheme": "VISA",
        "tvr": "0000008000", "tsi": "E800", "cryptogram": "1122334455667788", "cvmr": "420300", "cid": "40",
        "atc": "001c", "auth": "123456", "rc": "00", "stan": "000012", "rrn": "123456789012", "acq": "alpha",
        "tid": "TERM0001", "op": "ANNA", "at": 1795000000}
# an offline approval (Y1): no host reply, so no RRN on the terminal; its advice (0220) went to
# the acquirer the card routes to, with the terminal's STAN and that acquirer's terminal id
OFFLINE = dict(CARD, inv=8, tip=0, auth="Y1", rc="Y1", rrn="", stan="000013", acq="beta", tid="TERM0002")


def _run(code, tmp_path):
    return mpy.run("import json, os\nfrom pos.sync import record\nfrom pos.sync.queue import UploadQueue\n"
                   "def cash(i, amount=500, kind='sale', **kw):\n"
                   "    e = {'inv': i, 'kind': kind, 'tender': 'cash', 'amount': amount, 'ok': True, 'op': 'X', 'at': 1795000000}\n"
                   "    e.update(kw)\n"
                   "    return record.upload(e, 'USD')\n" + code, cwd=str(tmp_path))


def test_the_upload_json_is_what_the_cloud_contract_accepts(tmp_path):
    from cloud.sales.contract import SaleIn, card_number_problems, sum_problems
    out = _run("print(record.upload(json.loads(%r), 'USD', 2000).decode())\n"
               "print(cash(8, 300, 'void', orig=7).decode())\n"
               "print(record.upload(json.loads(%r), 'USD').decode())\n"
               "print(record.upload({'inv': 9, 'kind': 'preauth', 'ok': True, 'amount': 5}, 'USD'))\n"
               "print(record.upload({'inv': 10, 'kind': 'sale', 'ok': False, 'amount': 5, 'tender': 'card'}, 'USD'))\n"
               % (json.dumps(CARD), json.dumps(OFFLINE)), tmp_path)
    card, void, offline, preauth, declined = out.strip().splitlines()
    assert (preauth, declined) == ("None", "None")
    for text in (card, void, offline):
        raw = json.loads(text)
        sale = SaleIn.model_validate(raw)
        assert sum_problems(sale) == [] and card_number_problems(raw) == []
    c = json.loads(card)
    assert c["invoice"] == 7 and c["tip"] == 150 and c["lines"][0]["amount"] == 1250 and c["lines"][0]["tax_rate_bp"] == 2000
    assert c["tenders"][0]["amount"] == 1400 and c["cashier"] == "ANNA"
    assert c["terminal_time"] == "2026-11-18T11:06:40Z"
    card = c["tenders"][0]["card"]
    assert card["emv"] == {"aid": "A0000000031010", "label": "VISA CREDIT", "tvr": "0000008000", "tsi": "E800",
                           "cvm_results": "420300", "cid": "40", "cryptogram": "1122334455667788", "atc": "001C"}
    assert (card["auth_code"], card["rrn"], card["stan"], card["response_code"]) == ("123456", "123456789012", "000012", "00")
    assert (card["acquirer"], card["tid"]) == ("alpha", "TERM0001")
    # a void goes up as a void of the invoice it takes back, not as a refund
    v = json.loads(void)
    assert v["kind"] == "void" and v["original_invoice"] == 7 and v["tenders"] == [{"type": "cash", "amount": 300}]
    o = json.loads(offline)["tenders"][0]["card"]
    assert (o["acquirer"], o["tid"], o["stan"], o["rrn"], o["auth_code"]) == ("beta", "TERM0002", "000013", "", "Y1")


def test_a_torn_last_record_is_dropped_and_the_rest_kept(tmp_path):
    _run("q = UploadQueue(4096)\nq.append(cash(1))\nq.append(cash(2))\n", tmp_path)
    path = tmp_path / "upload.q"
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:40])            # a third record torn by a power cut
    out = _run("q = UploadQueue(4096)\nprint(q.waiting, q.high_water(), q.size)\nq.append(cash(3))\n", tmp_path)
    assert out.split() == ["2", "2", str(len(whole))]
    assert [i for i, _ in read_queue(str(path))] == [1, 2, 3]


def test_the_pointer_compaction_and_refusals_survive_a_restart(tmp_path):
    out = _run("q = UploadQueue(2048)\n"
               "for i in range(1, 6): q.append(cash(i))\n"
               "inv, b = q.head(); q.settle(inv)\n"
               "inv, b = q.head(); q.settle(inv, '409 other content')\n"
               "q = UploadQueue(2048)\n"
               "print(q.head()[0], q.waiting, q.done, sorted(q.refused))\n"
               "for k in range(3): inv, b = q.head(); q.settle(inv)\n"
               "print(q.waiting, q.size)\n", tmp_path)
    first, second = out.strip().splitlines()
    assert first == "3 3 2 ['2']"
    # compaction left the acknowledged out, the refused one kept
    assert [i for i, _ in read_queue(str(tmp_path / "upload.q"))] == [2]
    assert second.split()[0] == "0"
    assert json.loads((tmp_path / "upload.ack").read_text()) == {"done": 5, "refused": {"2": "409 other content"}}


def test_a_full_queue_refuses_an_append_and_takes_it_once_there_is_room(tmp_path):
    out = _run("q = UploadQueue(800)\n"
               "print([q.append(cash(i)) for i in range(1, 5)])\n"
               "inv, b = q.head(); q.settle(inv)\n"
               "inv, b = q.head(); q.settle(inv)\n"
               "print(q.append(cash(4)), q.waiting, q.percent_full())\n", tmp_path)
    first, second = out.strip().splitlines()
    assert first == "[True, True, True, False]"
    ok, waiting, pct = second.split()
    assert ok == "True" and waiting == "2" and int(pct) < 80
    assert [i for i, _ in read_queue(str(tmp_path / "upload.q"))] == [3, 4]


def test_a_baskets_lines_and_what_was_taken_off_go_up_as_the_contract_has_them(tmp_path):
    """A basket's lines (pos.app.basket.Basket.sold): SKU, pieces, unit price tax included, rate;
    what was taken off at a rate as a shop discount; the lines less the discounts the total."""
    from cloud.sales.contract import SaleIn, sum_problems
    out = _run("print(cash(11, 2358, lines=[['JUICE1L', 1, 265, 600], ['RICE5', 2, 2119, 600], ['SOAP', 1, 451, 1300]],"
               " less=[[600, 2596]]).decode())\n", tmp_path)
    raw = json.loads(out.strip())
    sale = SaleIn.model_validate(raw)
    assert sum_problems(sale) == []
    assert raw["lines"] == [
        {"sku": "JUICE1L", "qty": 1, "unit_price": 265, "amount": 265, "tax_rate_bp": 600},
        {"sku": "RICE5", "qty": 2, "unit_price": 2119, "amount": 4238, "tax_rate_bp": 600},
        {"sku": "SOAP", "qty": 1, "unit_price": 451, "amount": 451, "tax_rate_bp": 1300}]
    assert raw["discounts"] == [{"label": "BASKET", "amount": 2596, "tax_rate_bp": 600, "funder": "shop"}]
    assert raw["tenders"] == [{"type": "cash", "amount": 2358}]


def test_a_card_paid_baskets_member_and_coupons_go_up_with_its_lines(tmp_path):
    """A card tender's entry carrying a basket (pos.app.basket.Basket.paid, whatever the tender):
    its lines, discounts, member and the coupons it redeemed, in the JSON the contract accepts."""
    from cloud.sales.contract import SaleIn, content, sum_problems
    basket = dict(CARD, tip=0, amount=2224, lines=[["JUICE1L", 1, 265, 600], ["RICE5", 1, 2119, 600]],
                  less=[[600, 160]], member="1000000007", cpn=[["100001", "WELCOME1", 100]])
    out = _run("e = json.loads(%r)\nprint(record.upload(e, 'USD').decode())\n" % json.dumps(basket), tmp_path)
    raw = json.loads(out.strip())
    sale = SaleIn.model_validate(raw)
    assert sum_problems(sale) == []
    assert raw["member_id"] == "1000000007" and [ln["sku"] for ln in raw["lines"]] == ["JUICE1L", "RICE5"]
    assert raw["coupons"] == [{"serial": "100001", "program": "WELCOME1", "discount": 100}]
    assert raw["tenders"][0]["type"] == "card" and raw["tenders"][0]["amount"] == 2224
    assert '"coupons"' in content(sale)[0]
    del raw["coupons"]
    assert '"coupons"' not in content(SaleIn.model_validate(raw))[0]      # none: the digest as before
