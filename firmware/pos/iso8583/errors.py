# The ISO 8583 layer's one exception family.


class Iso8583Error(ValueError):
    """A message that cannot be encoded or decoded.

    `field` is the data element number concerned (None for MTI/bitmap/framing);
    the message names it and never carries field contents (PAN, track data).
    """

    def __init__(self, msg, field=None):
        super().__init__(msg)
        self.field = field


class MacError(Iso8583Error):
    """Field 64/128 missing or not matching the message (ISO 9797-1 alg 3)."""
