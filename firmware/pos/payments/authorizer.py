# The online-authorization interface between the card kernels and the host link.
#
# Agreed in the team brief (owner: host link).  The EMV kernel builds an
# AuthRequest, calls authorizer.authorize(req) and gets an AuthResponse; after
# the second GENERATE AC it calls authorizer.complete(req, resp, card_approved,
# icc_data) so the host link can confirm the sale or reverse it (card declined
# after host approval, ARPC failure: EMV Book 4 12.2.5 / ISO 8583 0400).
#
# authorize() never raises for host trouble: no connection, timeout, a bad MAC
# or a malformed reply come back as AuthResponse(unable_to_go_online=True) (and
# a reversal is queued when a request may have reached the host).  Bad requests
# (unknown kind, amount not an int) raise AuthError.

KINDS = ("sale", "preauth", "completion", "refund", "void", "balance")
ENTRY_MODES = ("chip", "contactless", "swipe", "fallback", "manual", "qr")


class AuthError(ValueError):
    """A request the host link cannot build (names the bad field)."""


class AuthRequest:
    __slots__ = ("kind", "amount", "currency", "pan", "expiry", "pan_seq", "track2",
                 "entry_mode", "icc_data", "pin_block", "scheme", "aid", "wallet",
                 "original")

    def __init__(self, kind, amount, currency, pan, expiry, pan_seq=None, track2=None,
                 entry_mode="chip", icc_data=b"", pin_block=None, scheme=None, aid=None,
                 wallet=None, original=None):
        if kind not in KINDS:
            raise AuthError("kind %r not one of %s" % (kind, ", ".join(KINDS)))
        if not isinstance(amount, int) or amount < 0:
            raise AuthError("amount must be a non-negative int in minor units")
        if entry_mode not in ENTRY_MODES:
            raise AuthError("entry_mode %r not one of %s" % (entry_mode, ", ".join(ENTRY_MODES)))
        self.kind = kind
        self.amount = amount
        # ISO 4217 numeric code as 3 digits ("978"); ints accepted
        self.currency = ("%03d" % currency) if isinstance(currency, int) else str(currency)
        self.pan = pan.decode() if isinstance(pan, (bytes, bytearray)) else pan
        self.expiry = expiry          # "YYMM"
        self.pan_seq = pan_seq        # "01" or int or None
        self.track2 = track2          # "PAN=YYMM..." (digits, '=' separator) or None
        self.entry_mode = entry_mode
        self.icc_data = bytes(icc_data or b"")   # field 55 TLVs from the card
        self.pin_block = pin_block    # enciphered online PIN block (bytes) or None
        self.scheme = scheme          # "visa", "mastercard", ... (routing)
        self.aid = aid
        self.wallet = wallet          # QR wallet type (routing) or None
        self.original = original      # for void/completion: the original's STAN/RRN dict

    def __repr__(self):
        from pos.log import mask_pan
        return "AuthRequest(%s %d %s %s %s)" % (self.kind, self.amount, self.currency,
                                               mask_pan(self.pan or ""), self.entry_mode)


class AuthResponse:
    __slots__ = ("approved", "response_code", "auth_code", "rrn", "icc_data", "text",
                 "unable_to_go_online", "stan", "acquirer", "amounts")

    def __init__(self, approved, response_code, auth_code="", rrn="", icc_data=b"", text="",
                 unable_to_go_online=False, stan="", acquirer="", amounts=""):
        self.approved = approved
        self.response_code = response_code      # ISO 8583 field 39, e.g. "00", "51"
        self.auth_code = auth_code              # field 38
        self.rrn = rrn                          # field 37
        self.icc_data = bytes(icc_data or b"")  # issuer TLVs 91/71/72/8A
        self.text = text                        # merchant-readable text
        self.unable_to_go_online = unable_to_go_online
        self.stan = stan                        # field 11 of the request
        self.acquirer = acquirer                # routing result (name)
        self.amounts = amounts                  # field 54 additional amounts (balance), as sent

    def __repr__(self):
        return "AuthResponse(%s rc=%s auth=%s rrn=%s%s)" % (
            "approved" if self.approved else "declined", self.response_code, self.auth_code,
            self.rrn, " unable-to-go-online" if self.unable_to_go_online else "")


def unable_to_go_online(text="host unavailable", acquirer=""):
    """The response for 'no host answer' (EMV Book 3 10.7: terminal decides)."""
    return AuthResponse(False, "", text=text, unable_to_go_online=True, acquirer=acquirer)


class Authorizer:
    """Base class: the synchronous interface the kernels call."""

    def authorize(self, req):
        raise NotImplementedError

    def complete(self, req, resp, card_approved, icc_data=b""):
        """After 2nd GENERATE AC: card_approved False after an approval -> reversal."""
        raise NotImplementedError
