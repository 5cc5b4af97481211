# The payments layer's exception family (host link and engine).


class HostError(Exception):
    """Talking to the acquirer host failed; `sent` tells whether the request
    may have reached the host (then a reversal is due)."""

    def __init__(self, msg, sent=False):
        super().__init__(msg)
        self.sent = sent


class ConnectError(HostError):
    """No TCP (or TLS) connection to the primary nor the secondary host."""


class NoResponse(HostError):
    """The request went out but no (matching) reply came within the timeout."""


class BadReply(HostError):
    """A reply arrived but is unusable: malformed, unknown MTI, bad MAC."""


class RoutingError(ValueError):
    """No acquirer in the routing table takes this card/wallet."""
