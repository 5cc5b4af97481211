"""A bank's card-linked offer end to end on the virtual board (the `bank-offer` demo): the
amounts the card signed and the acquirer host received, read from the bytes on the wire."""
import types

from smartpos.demos.bank_offer import bank_offer


def test_the_bank_card_is_authorised_at_the_discounted_amount_and_others_at_the_price(capsys):
    ok, outcome = bank_offer(types.SimpleNamespace())
    out = capsys.readouterr().out
    assert ok, out[-3000:]
    # contact: 9F02 of the first GENERATE AC (CDOL1) and ISO 8583 DE 4 as the host received it
    assert "ok   bank chip card: 9F02 in the first GENERATE AC is 10800" in out
    assert "ok   bank chip card: DE 4 on the wire [10800]" in out
    assert "ok   other bank chip card: APPROVED at full price, GENERATE AC 9F02 12000, DE 4 [12000]" in out
    # contactless: the first tap signed 120.00 and went nowhere; the second signed 108.00
    assert "ok   bank contactless card: GPO 9F02 per tap [12000, 10800], DE 4 on the wire [10800]" in out
    assert "10% OFF WITH EXAMPLE BANK" in out and "NEW AMOUNT USD 108.00" in out
    assert out.count("PAID BY BANK          USD -12.00") == 4
    # the full card number is nowhere in what the counter printed or showed
    assert "4761739001010119" not in out and "4761739001010135" not in out
