"""What a terminal uploads for one completed transaction (docs/sales-sync.md), and the checks
that pydantic cannot state: sums, masked card numbers, the currency.

Amounts are whole minor units of the currency (ISO 4217 exponent: cents for EUR, yen for JPY).
Every line amount is tax included; a tax rate is in basis points (2000 = 20.00 %).

    sale = SaleIn.model_validate(json)
    problems = check(sale)          # [] or [(where, message)]

A full card number anywhere in the upload is refused without being echoed back: card data is
the first six and last four digits only (PCI DSS requirement 3.4, truncation).
"""
import datetime
import hashlib
import json
import re
from typing import Literal, Optional

from pydantic import ConfigDict, Field

from cloud.deps import Input, UTCDateTime

EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)
MINOR_MAX = 10**12                       # 10 billion in a 2-decimal currency: no till sees more
INVOICE_MAX = 999_999_999
NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._&'-]{0,39}$"
MASKED_PAN = re.compile(r"^([0-9]{6})([*X]{2,9})([0-9]{4})$")
# a card number (ISO/IEC 7812: up to 19 digits) standing alone in a free text
DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")
# the free texts a card number could be typed or scanned into by mistake; fields of a fixed
# format (host references, EMV data, member and order ids) are not searched: a 13-19 digit
# reference passes the Luhn check one time in ten and would be refused for nothing
FREE_TEXT = ("sku", "name", "label", "cashier", "campaign", "scheme")


class Line(Input):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=40)
    name: str = Field("", max_length=60)
    qty: int = Field(ge=1, le=100_000)
    unit_price: int = Field(ge=0, le=MINOR_MAX)
    amount: int = Field(ge=0, le=MINOR_MAX, description="qty x unit_price, tax included")
    tax_rate_bp: int = Field(ge=0, le=10_000, description="basis points: 2000 = 20.00 %")


class Discount(Input):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=60)
    amount: int = Field(ge=1, le=MINOR_MAX)
    tax_rate_bp: int = Field(ge=0, le=10_000, description="the rate of the lines it reduces")
    funder: Literal["shop", "campaign"] = Field(description="shop: the merchant gives it; campaign: "
                                                            "a bank or scheme pays it to the merchant")
    campaign: str = Field("", max_length=40, description="who funds a campaign discount")


class CouponUse(Input):
    """A signed coupon the sale redeemed (docs/promotions.md, "Coupons"): marked used in the
    cloud's ledger in the commit that stores the sale.  Its discount is already within the
    sale's discounts; this names which coupon gave it."""
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(pattern=r"^[0-9A-Z]{1,20}$")
    program: str = Field(pattern=r"^[0-9A-Z]{1,20}$")
    discount: int = Field(0, ge=0, le=MINOR_MAX, description="what the coupon's program took off this sale")


class Emv(Input):
    """The EMV results a receipt and a dispute need; nothing that identifies the card
    (tags 5A, 57, 5F20 have no field here)."""
    model_config = ConfigDict(extra="forbid")
    aid: str = Field("", max_length=32, pattern=r"^([0-9A-F]{10,32})?$", description="9F06 / 4F")
    label: str = Field("", max_length=16, description="50 application label")
    tvr: str = Field("", pattern=r"^([0-9A-F]{10})?$", description="95")
    tsi: str = Field("", pattern=r"^([0-9A-F]{4})?$", description="9B")
    cvm_results: str = Field("", pattern=r"^([0-9A-F]{6})?$", description="9F34")
    cid: str = Field("", pattern=r"^([0-9A-F]{2})?$", description="9F27 cryptogram information data")
    cryptogram: str = Field("", pattern=r"^([0-9A-F]{16})?$", description="9F26 application cryptogram")
    atc: str = Field("", pattern=r"^([0-9A-F]{4})?$", description="9F36")


class Card(Input):
    model_config = ConfigDict(extra="forbid")
    masked_pan: str = Field(max_length=19, description="first 6 and last 4 digits, the rest '*' "
                                                       "(e.g. 476173******0119); a full number is refused")
    scheme: str = Field("", max_length=20)
    entry_mode: Literal["chip", "contactless", "swipe", "manual", "fallback"] = "chip"
    acquirer: str = Field(max_length=40, pattern=NAME, description="who settles it: one receivable account each")
    auth_code: str = Field("", max_length=6, pattern=r"^[0-9A-Za-z ]*$", description="ISO 8583 DE 38")
    rrn: str = Field("", max_length=12, pattern=r"^[0-9A-Za-z]*$", description="DE 37")
    stan: str = Field("", max_length=6, pattern=r"^[0-9]*$", description="DE 11")
    tid: str = Field("", max_length=8, pattern=r"^[0-9A-Za-z]*$",
                     description="DE 41, the terminal id the acquirer knows: with stan and the day, what "
                                 "reconciliation matches the acquirer's settlement file by")
    response_code: str = Field("", max_length=2, pattern=r"^[0-9A-Za-z]*$", description="DE 39")
    emv: Optional[Emv] = None


class Wallet(Input):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=40, pattern=NAME, description="the wallet host: one receivable account each")
    order_ref: str = Field("", max_length=64, pattern=r"^[0-9A-Za-z_-]*$")


class Tender(Input):
    model_config = ConfigDict(extra="forbid")
    type: Literal["cash", "card", "wallet", "gift_card", "stored_value"]
    amount: int = Field(ge=1, le=MINOR_MAX, description="what this tender paid (change already given back)")
    card: Optional[Card] = Field(None, description="type card: required")
    wallet: Optional[Wallet] = Field(None, description="type wallet: required")


class SaleIn(Input):
    model_config = ConfigDict(extra="forbid")
    invoice: int = Field(ge=1, le=INVOICE_MAX, description="the terminal's invoice number: with the terminal, "
                                                           "the idempotency key")
    kind: Literal["sale", "refund", "void"] = Field("sale", description="void: the original_invoice taken "
                                                                        "back whole before it was settled")
    original_invoice: Optional[int] = Field(None, ge=1, le=INVOICE_MAX, description="refund: the sale refunded; "
                                                                                    "void (required): the transaction voided")
    currency: str = Field(pattern=r"^([A-Z]{3}|[0-9]{3})$", description="ISO 4217, alphabetic or numeric")
    terminal_time: UTCDateTime = Field(description="when the transaction completed, terminal clock (RFC 3339)")
    sent_at: Optional[UTCDateTime] = Field(None, description="terminal clock when this delivery was sent: "
                                                             "measures the clock's skew; not part of the content")
    cashier: str = Field("", max_length=40)
    member_id: str = Field("", max_length=64, pattern=r"^[0-9A-Za-z_-]*$")
    lines: list[Line] = Field(min_length=1, max_length=500)
    discounts: list[Discount] = Field(default_factory=list, max_length=50)
    coupons: list[CouponUse] = Field(default_factory=list, max_length=20)
    tip: int = Field(0, ge=0, le=MINOR_MAX)
    tenders: list[Tender] = Field(min_length=1, max_length=20)


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _texts(value, where):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, where + [k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _texts(v, where + [i])


def card_number_problems(raw):
    """Every place in the upload where a full card number stands (a masked_pan that is not first 6
    + last 4, or a free text holding a 13-19 digit run that passes the Luhn check):
    [(where, message)].  The messages never repeat the number."""
    out = []
    for where, text in _texts(raw, ["body"]):
        if where[-1] == "masked_pan":
            if not MASKED_PAN.match(text):
                out.append((where, "card numbers are accepted masked only: the first 6 and last 4 digits with "
                                   "'*' between (e.g. 476173******0119); this value is not"
                                   + (" (a full card number is never stored)" if text.isdigit() else "")))
            continue
        if where[-1] not in FREE_TEXT:
            continue
        for run in DIGIT_RUN.findall(text):
            if luhn_ok(run):
                out.append((where, "this text holds what looks like a full card number (%d digits, Luhn valid): "
                                   "refused, card numbers are never stored" % len(run)))
                break
    return out


def sum_problems(sale):
    """The sums (and times) an upload must hold: [(where, message)]."""
    out = []
    for name, t in (("terminal_time", sale.terminal_time), ("sent_at", sale.sent_at)):
        if t is not None and not EARLIEST <= t <= LATEST:
            out.append((["body", name], "a terminal clock before %d or after %d is not a time: set the clock"
                        % (EARLIEST.year, LATEST.year - 1)))
    for i, ln in enumerate(sale.lines):
        if ln.amount != ln.qty * ln.unit_price:
            out.append((["body", "lines", i, "amount"], "amount %d is not qty %d x unit_price %d"
                        % (ln.amount, ln.qty, ln.unit_price)))
    by_rate = {}
    for ln in sale.lines:
        by_rate[ln.tax_rate_bp] = by_rate.get(ln.tax_rate_bp, 0) + ln.amount
    for i, d in enumerate(sale.discounts):
        if d.tax_rate_bp not in by_rate:
            out.append((["body", "discounts", i, "tax_rate_bp"], "no line has tax rate %d bp" % d.tax_rate_bp))
        if d.funder == "campaign" and not re.match(NAME, d.campaign):
            out.append((["body", "discounts", i, "campaign"], "a campaign discount names its funder "
                        "(letters, digits, ' ._&'-', up to 40)"))
    for rate, gross in by_rate.items():
        off = sum(d.amount for d in sale.discounts if d.tax_rate_bp == rate)
        if off > gross:
            out.append((["body", "discounts"], "discounts at %d bp (%d) exceed the lines at that rate (%d)"
                        % (rate, off, gross)))
    for i, t in enumerate(sale.tenders):
        if t.type == "stored_value" and not sale.member_id:
            out.append((["body", "tenders", i], "a stored_value tender spends a member's balance: name the member"))
        if t.type == "card" and t.card is None:
            out.append((["body", "tenders", i, "card"], "a card tender carries its card data"))
        if t.type == "wallet" and t.wallet is None:
            out.append((["body", "tenders", i, "wallet"], "a wallet tender names its wallet"))
        if t.type != "card" and t.card is not None or t.type != "wallet" and t.wallet is not None:
            out.append((["body", "tenders", i], "only a card tender has card data, only a wallet tender a wallet"))
    if sale.kind == "sale" and sale.original_invoice is not None:
        out.append((["body", "original_invoice"], "only a refund or a void names an original invoice"))
    if sale.kind == "void" and sale.original_invoice is None:
        out.append((["body", "original_invoice"], "a void names the invoice it voids"))
    total = total_of(sale)
    paid = sum(t.amount for t in sale.tenders)
    if not out and paid != total + sale.tip:
        out.append((["body", "tenders"], "tenders pay %d but lines - discounts + tip is %d" % (paid, total + sale.tip)))
    return out


def total_of(sale):
    """Lines less discounts, tax included, tip excluded."""
    return sum(ln.amount for ln in sale.lines) - sum(d.amount for d in sale.discounts)


def content(sale):
    """The canonical text of an upload's content (what the idempotency rule compares), and its
    SHA-256.  sent_at is left out: it belongs to the delivery, not to the transaction."""
    body = sale.model_dump(mode="json", exclude={"sent_at"})
    body["terminal_time"] = _utc_text(sale.terminal_time)
    # fields added to the contract later are left out while they hold their default, so an
    # upload that does not use them keeps the digest it was stored with (a re-delivery of a
    # sale stored before them is a duplicate, not a conflict)
    for t in body["tenders"]:
        if t["card"] is not None and t["card"]["tid"] == "":
            del t["card"]["tid"]
    if not body["coupons"]:
        del body["coupons"]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return text, hashlib.sha256(text.encode()).hexdigest()


def _utc_text(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
