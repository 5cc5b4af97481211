"""A real card in a PC/SC reader as the contact slot's card (`--contact-reader pcsc`):
the same atr / transmit / reset interface as CardSimulator, through pyscard."""


class PcscError(OSError):
    pass


class PcscCard:
    def __init__(self, reader=None):
        try:
            from smartcard.System import readers
            from smartcard.Exceptions import SmartcardException
        except ImportError:
            raise PcscError("pyscard is not installed (pip install pyscard; apt install pcscd)")
        try:
            found = readers()
        except SmartcardException as exc:
            raise PcscError("PC/SC not available: %s (is pcscd running?)" % exc)
        if not found:
            raise PcscError("no PC/SC reader attached")
        names = [str(r) for r in found]
        if reader is None:
            pick = found[0]
        else:
            matches = [r for r in found if reader in str(r)]
            if not matches:
                raise PcscError("no PC/SC reader matching %r (have: %s)" % (reader, ", ".join(names)))
            pick = matches[0]
        self.reader_name = str(pick)
        self.conn = pick.createConnection()
        try:
            self.conn.connect()
        except SmartcardException as exc:
            raise PcscError("no card in %s: %s" % (self.reader_name, exc))
        self.atr = bytes(self.conn.getATR())

    def reset(self):
        try:
            self.conn.reconnect(disposition=1)   # SCARD_RESET_CARD
        except Exception:
            pass

    def transmit(self, apdu):
        data, sw1, sw2 = self.conn.transmit(list(apdu))
        return bytes(data) + bytes([sw1, sw2])
