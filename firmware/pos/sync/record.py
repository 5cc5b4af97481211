# One completed transaction as the cloud's upload contract has it (docs/sales-sync.md, "The
# upload"): the entry the counter wrote to its transaction list (pos.app.batch) at completion,
# as compact JSON whose first field is the invoice (the idempotency key with the terminal).
#
#     body = record.upload(entry, "EUR", 0)      # bytes, or None for what is not a sale or refund
#
# The JSON is written from templates: the contract's field names live in a few long strings,
# which MicroPython keeps as objects, not as interned names (the counter's name pool is small).
# Card data is what the transaction list holds: the PAN masked (first 6, last 4), never track
# data, PIN or keys (PCI DSS requirement 3.4).
import json
import time

# kinds of the transaction list that the cloud books; a void goes up as a void of the invoice
# it takes back (its batch not settled: the acquirer settles neither, docs/sales-sync.md)
_SALE = ("sale", "completion")
_REFUND = ("refund", "void")
_ENTRY = {"CHIP": "chip", "CONTACTLESS": "contactless", "SWIPE": "swipe", "FALLBACK": "fallback",
          "MANUAL": "manual"}


def _hex(v, n):
    """`v` as the contract's upper-case hex of exactly `n` digits, or "" (unknown)."""
    v = (v or "").upper()
    if len(v) != n:
        return ""
    for c in v.encode():              # bytes give ints: no one-character string per step
        if not (48 <= c <= 57 or 65 <= c <= 70):
            return ""
    return v


def _ref(v, n):
    """A host reference, terminal id or order id: ASCII letters and digits only, at most `n`."""
    return bytes(c for c in str(v or "")[:n].encode() if 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122).decode()


def _name(v):
    """An acquirer or wallet name as the contract's NAME (letters, digits, ' ._&'-')."""
    v = "".join(ch for ch in str(v or "")[:40] if ch.isalpha() or ch.isdigit() or ch in " ._&'-").strip()
    return v if v and (v[0].isalpha() or v[0].isdigit()) else "default"


def utc_text(t):
    """Seconds of the terminal's clock as RFC 3339 UTC."""
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % time.gmtime(t)[:6]


def _card(e):
    d = json.dumps
    mode = _ENTRY.get(e.get("entry", ""), "chip")
    emv = ""
    aid = _hex(e.get("aid"), len(e.get("aid") or ""))
    if mode in ("chip", "contactless") and 10 <= len(aid) <= 32:
        emv = (',"emv":{"aid":"%s","label":%s,"tvr":"%s","tsi":"%s","cvm_results":"%s","cid":"%s",'
               '"cryptogram":"%s","atc":"%s"}') % (
            aid, d(str(e.get("label") or "")[:16]), _hex(e.get("tvr"), 10), _hex(e.get("tsi"), 4),
            _hex(e.get("cvmr"), 6), _hex(e.get("cid"), 2), _hex(e.get("cryptogram"), 16), _hex(e.get("atc"), 4))
    # the terminal id (DE 41) and STAN (DE 11) name the payment for the acquirer's settlement
    # file whether it went online or as an offline approval's advice (which has no RRN here)
    stan = _ref(e.get("stan"), 6)
    return ('{"masked_pan":%s,"scheme":%s,"entry_mode":"%s","acquirer":%s,"auth_code":%s,"rrn":"%s",'
            '"stan":"%s","tid":"%s","response_code":"%s"%s}') % (
        d(e.get("pan", "")), d(str(e.get("scheme") or "")[:20]), mode, d(_name(e.get("acq"))),
        d(str(e.get("auth") or "")[:6]), _ref(e.get("rrn"), 12), stan if stan.isdigit() else "",
        _ref(e.get("tid"), 8), _ref(e.get("rc"), 2), emv)


def upload(e, currency, tax_bp=0):
    """The upload's JSON (bytes) for transaction-list entry `e`, or None when `e` is nothing the
    cloud books (a declined card, a pre-authorisation, a balance enquiry)."""
    kind = e.get("kind")
    if not e.get("ok") or kind not in _SALE and kind not in _REFUND:
        return None
    d = json.dumps
    base = e["amount"]
    tip = e.get("tip") or 0
    tender = e.get("tender")
    if tender == "card":
        tender = '{"type":"card","amount":%d,"card":%s}' % (base + tip, _card(e))
    elif tender == "gift":
        tender = '{"type":"gift_card","amount":%d}' % (base + tip)
    elif tender == "ewallet":
        tender = '{"type":"stored_value","amount":%d}' % (base + tip)
    elif tender == "qr":
        tender = '{"type":"wallet","amount":%d,"wallet":{"name":"wallet","order_ref":%s}}' % (
            base + tip, d(_ref(e.get("wallet"), 64)))
    else:
        tender = '{"type":"cash","amount":%d}' % (base + tip)
    orig = ""
    if kind in _REFUND and e.get("orig"):
        orig = ',"original_invoice":%d' % e["orig"]
    price = base
    discounts = ""
    if e.get("disc"):
        # a bank's card-linked offer: the line keeps the price, the bank funds the discount
        # (the cloud books it as receivable from that bank: docs/bank-offers.md)
        price = base + e["disc"]
        discounts = (',"discounts":[{"label":%s,"amount":%d,"tax_rate_bp":%d,"funder":"campaign",'
                     '"campaign":%s}]') % (d(str(e.get("offer") or "")[:40]), e["disc"], tax_bp, d(_name(e.get("bank"))))
    if e.get("lines"):
        # a basket's lines (pos.app.basket.Basket.sold): the cloud moves stock by them
        lines = ",".join('{"sku":%s,"qty":%d,"unit_price":%d,"amount":%d,"tax_rate_bp":%d}'
                         % (d(sku), n, each, n * each, bp) for sku, n, each, bp in e["lines"])
        discounts = ",".join('{"label":"BASKET","amount":%d,"tax_rate_bp":%d,"funder":"shop"}' % (a, bp)
                             for bp, a in e.get("less") or ())
        discounts = ',"discounts":[%s]' % discounts if discounts else ""
    else:
        lines = ('{"sku":"AMOUNT","name":"Amount keyed","qty":1,"unit_price":%d,"amount":%d,"tax_rate_bp":%d}'
                 % (price, price, tax_bp))
    member = ""
    if e.get("member"):
        member = ',"member_id":%s' % d(_ref(e["member"], 64))
    coupons = ""
    if e.get("cpn"):
        # the coupons the sale redeemed (pos.app.basket.Basket.paid): the cloud marks them used
        # in the commit that stores the sale (docs/promotions.md, "Single use")
        coupons = ',"coupons":[%s]' % ",".join('{"serial":"%s","program":"%s","discount":%d}'
                                                   % (_ref(sn, 20), _ref(pg, 20), a) for sn, pg, a in e["cpn"])
    # a typed amount is one line: the tax rate is the store's (config/cloud.json tax_rate_bp)
    return (('{"invoice":%d,"kind":"%s"%s,"currency":"%s","terminal_time":"%s","cashier":%s%s,'
            '"lines":[%s]%s%s,"tip":%d,"tenders":[%s]}') % (
        e["inv"], "sale" if kind in _SALE else kind, orig, currency,
        utc_text(e.get("at") or time.time()), d(str(e.get("op") or "")[:40]), member,
        lines, discounts, coupons, tip, tender)).encode()
