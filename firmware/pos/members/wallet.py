# A member's stored value (the e-wallet) on the terminal (docs/gift-cards.md, "E-wallet"): the
# cloud's device API spends it online (POST members/{number}/wallet/spend, the invoice as the
# idempotency key); with the cloud unreachable the terminal spends from the balance it last knew
# (the member copy's, less what it spent offline since), at most the programme's
# offline_stored_value a day, each such spend kept in wallet.off until the sale's upload
# settles it in the cloud.
#
#     left = await wallet.spend(number, invoice, amount)         # online, or WalletError/Offline
#     wallet.offline_room(member, programme, day)                 # what may still be spent offline
#     wallet.provisional(day, invoice, number, amount)
import json

from pos.members import MemberError, book

OFFLINE = "wallet.off"      # "day invoice member amount" a line: spent offline, settled at upload


class Offline(MemberError):
    """No answer from the cloud (the spend may be sent again under the same invoice)."""


async def spend(number, invoice, amount):
    from pos.net import http
    from pos.tms import service
    try:
        with open(service.CONFIG) as f:
            cfg = json.load(f)
        url = "%s/%s/controller/v1/%s/members/%s/wallet/spend" % (cfg["url"].rstrip("/"), cfg["tenant"],
                                                                   cfg["controller_id"], number)
    except (OSError, ValueError, KeyError):
        raise Offline("terminal not enrolled in the cloud")
    token = service.target_token()
    if not token:
        raise Offline("terminal not enrolled in the cloud")
    pin = None
    if url.startswith("https://"):
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    try:
        st, _, data = await http.request("POST", url, {"Authorization": "TargetToken %s" % token,
                                                       "Content-Type": "application/json"},
                                         json.dumps({"invoice": invoice, "amount": amount}).encode(),
                                         timeout_ms=15000, ssl_context=pin)
    except http.HttpError:
        raise Offline("e-wallet: the cloud does not answer")
    try:
        d = json.loads(data) if data else {}
    except ValueError:
        d = {}
    if st in (200, 201):
        return int(d["balance"])
    if st in (404, 409, 422):
        raise MemberError(str(d.get("detail") or "e-wallet refused")[:80])
    raise Offline("e-wallet: the cloud answered %d" % st)


def _spent(path=OFFLINE):
    """[(day, invoice, member, amount)] spent offline and kept."""
    try:
        f = open(path)
    except OSError:
        return
    with f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                yield int(p[0]), int(p[1]), p[2], int(p[3])


def known_balance(member, path=OFFLINE):
    """The member copy's stored value less what this terminal spent offline after the copy."""
    since = book.header().get("inv", 0)
    return member.stored_value - sum(a for _, inv, n, a in _spent(path) if n == member.number and inv > since)


def offline_room(member, programme, day, path=OFFLINE):
    """What the member may still spend here offline today: the programme's daily limit less this
    day's offline spends on this terminal, and never more than the balance last known."""
    today = sum(a for d, _, _, a in _spent(path) if d == day)
    return max(0, min(programme.offline_stored_value - today, known_balance(member, path)))


def provisional(day, invoice, number, amount, path=OFFLINE):
    with open(path, "a") as f:
        f.write("%d %d %s %d\n" % (day, invoice, number, amount))
