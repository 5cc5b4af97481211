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


def as_host_error(e, sent=True):
    """The one outcome rule: whatever raised on the host path once the request was built
    (codec, MAC, transport, key store, a bug) is a HostError; with sent=True the engine
    treats the outcome as unknown and reverses (the request may have reached the host)."""
    if isinstance(e, HostError):
        return e
    return BadReply("%s on the host path: %s" % (type(e).__name__, e), sent=sent)
