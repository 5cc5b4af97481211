# Acquirer routing: the config's ordered route list maps a card or wallet to
# an acquirer; the first matching route wins.  A route matches on any of
#   "bin": ["510000", "559999"]   PAN prefix range (compared on the first
#                                  len(from) digits, inclusive)
#   "scheme": "visa"               card scheme from the kernel/entry point
#   "wallet": "alipay"             QR wallet type
#   "default": true                anything
# (all keys given in one route must match).
from pos.payments.errors import RoutingError


class Router:
    def __init__(self, routes, acquirers):
        for i, r in enumerate(routes):
            if r["acquirer"] not in acquirers:
                raise RoutingError("route %d names unknown acquirer %s" % (i, r["acquirer"]))
        self.routes = routes

    def route(self, pan=None, scheme=None, wallet=None):
        for r in self.routes:
            if self._match(r, pan, scheme, wallet):
                return r["acquirer"]
        raise RoutingError("no acquirer for scheme %s wallet %s BIN %s"
                           % (scheme, wallet, (pan or "")[:6]))

    @staticmethod
    def _match(r, pan, scheme, wallet):
        any_key = False
        b = r.get("bin")
        if b:
            any_key = True
            if not pan:
                return False
            lo, hi = b[0], b[1]
            p = pan[:len(lo)]
            if len(p) < len(lo) or not (lo <= p <= hi):
                return False
        s = r.get("scheme")
        if s:
            any_key = True
            if scheme is None or scheme.lower() != s.lower():
                return False
        w = r.get("wallet")
        if w:
            any_key = True
            if wallet is None or wallet.lower() != w.lower():
                return False
        if r.get("default"):
            return True
        return any_key
