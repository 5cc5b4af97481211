# Exception family of the EMV layer (MicroPython).
#
#   EmvError            anything the kernel reports
#   +- CardError        the card: removed, mute, wrong status word, malformed data
#   +- ConfigError      the terminal EMV configuration (names the offending key)
#
# The kernel never lets these escape a transaction: Kernel.process() turns them
# into an Outcome carrying a message a merchant can act on.


class EmvError(ValueError):
    pass


class CardError(EmvError):
    """The card failed: `reason` is one of 'removed', 'mute', 'status', 'data'."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


class ConfigError(EmvError):
    """Terminal configuration is missing or invalid; `key` names the item."""

    def __init__(self, key, message):
        super().__init__("EMV config %s: %s" % (key, message))
        self.key = key
