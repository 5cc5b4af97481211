"""A sale with a bank's offer as the terminal uploads it (MicroPython, the board's heap), taken
by the cloud's contract and booked with the bank's share receivable from that bank."""
import json

from host_sim import mpy

OFFER_SALE = {"inv": 12, "kind": "sale", "tender": "card", "amount": 4500, "ok": True, "entry": "CHIP",
              "pan": "476173******0119", "label": "VISA CREDIT", "aid": "A0000000031010", "scheme": "VISA",
              "auth": "123456", "rc": "00", "stan": "000012", "rrn": "123456789012", "acq": "alpha",
              "tid": "TERM0001", "op": "ANNA", "at": 1795000000,
              "offer": "EXB10", "bank": "EXAMPLE BANK", "disc": 500, "price": 5000}


def test_the_bank_funded_discount_goes_up_and_is_booked_as_receivable_from_the_bank():
    from cloud.sales.books import postings
    from cloud.sales.contract import SaleIn, card_number_problems, sum_problems
    out = mpy.run("import json\nfrom pos.sync import record\n"
                  "print(record.upload(json.loads(%r), 'USD', 0).decode())\n" % json.dumps(OFFER_SALE))
    raw = json.loads(out.strip())
    sale = SaleIn.model_validate(raw)
    assert sum_problems(sale) == [] and card_number_problems(raw) == []
    assert raw["lines"][0]["amount"] == 5000
    assert raw["discounts"] == [{"label": "EXB10", "amount": 500, "tax_rate_bp": 0, "funder": "campaign",
                                 "campaign": "EXAMPLE BANK"}]
    assert raw["tenders"][0]["amount"] == 4500
    booked = {a: amount for a, amount, bp in postings(sale)}
    assert booked["Assets:Receivables:Campaign:EXAMPLE-BANK"] == 500
