# The cloud's gift card device API (docs/gift-cards.md), with the terminal's TargetToken:
#
#     bal = await cloud.balance(number)                          # minor units
#     left = await cloud.redeem(number, invoice, amount)         # the balance after it
#     left = await cloud.refund(number, invoice, original, amount)
#
# A redemption and a refund carry the invoice they belong to: with the terminal it is the
# idempotency key, so the same request sent again after a lost answer spends once.  Every
# refusal is a GiftCardError with the cashier's message; no answer at all is Offline (the
# caller may send the same request again).
import json

from pos.giftcard import GiftCardError, short


class Offline(GiftCardError):
    """No answer from the cloud: the outcome of a redemption is unknown until it is sent again."""


def _endpoint(number):
    from pos.tms import service
    try:
        with open(service.CONFIG) as f:
            cfg = json.load(f)
        url = "%s/%s/controller/v1/%s/giftcards/%s" % (cfg["url"].rstrip("/"), cfg["tenant"],
                                                      cfg["controller_id"], number)
    except (OSError, ValueError, KeyError):
        raise GiftCardError("terminal not enrolled in the cloud: no gift cards")
    token = service.target_token()
    if not token:
        raise GiftCardError("terminal not enrolled in the cloud: no gift cards")
    return url, token


async def _call(method, number, path="", body=None):
    from pos.net import http
    url, token = _endpoint(number)
    pin = None
    if url.startswith("https://"):
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    headers = {"Authorization": "TargetToken %s" % token}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    try:
        st, _, data = await http.request(method, url + path, headers, body, timeout_ms=15000, ssl_context=pin)
    except http.HttpError:
        raise Offline("gift card needs the cloud: no answer")
    try:
        d = json.loads(data) if data else {}
    except ValueError:
        d = {}
    if st in (200, 201):
        return d
    if st == 404:
        raise GiftCardError("card %s not known here" % short(number))
    if st == 409:
        raise GiftCardError(str(d.get("detail") or "gift card refused")[:80])
    if st == 422:
        raise GiftCardError("card %s check digit wrong" % short(number))
    raise Offline("gift card: the cloud answered %d" % st)


async def balance(number):
    d = await _call("GET", number)
    return int(d["balance"])


async def redeem(number, invoice, amount):
    d = await _call("POST", number, "/redeem", {"invoice": invoice, "amount": amount})
    return int(d["balance"])


async def refund(number, invoice, original, amount):
    d = await _call("POST", number, "/refund", {"invoice": invoice, "original_invoice": original,
                                                 "amount": amount})
    return int(d["balance"])
