# Card commands of EMV 4.4 Book 3 section 6.5 over a `transmit(apdu) -> rapdu`
# function (the ISO 7816 reader driver's, or a test harness's).  Transport
# faults become CardError with a reason the kernel maps to an outcome.
from micropython import const

from pos.emv.errors import CardError

SW_OK = const(0x9000)

_buf = bytearray(261)   # one C-APDU at a time: header + Lc + 255 data + Le


def _command(cla, ins, p1, p2, data=None, le=True):
    b = _buf
    b[0] = cla
    b[1] = ins
    b[2] = p1
    b[3] = p2
    n = 4
    if data is not None and len(data):
        ld = len(data)
        if ld > 255:
            raise CardError("data", "command data too long (%d bytes)" % ld)
        b[4] = ld
        b[5:5 + ld] = data
        n = 5 + ld
    if le:
        b[n] = 0
        n += 1
    return bytes(b[:n])


class Card:
    """The ICC as the kernel sees it: one method per EMV command."""

    def __init__(self, transmit):
        self._transmit = transmit
        self.exchanges = 0

    def exchange(self, apdu):
        """Send one C-APDU; return (data, sw).  Handles 61xx and 6Cxx (Book 1 9.3.1.3)."""
        for _ in range(8):
            try:
                r = self._transmit(apdu)
            except CardError:
                raise
            except Exception as exc:
                raise _transport_error(exc)
            self.exchanges += 1
            if r is None or len(r) < 2:
                raise CardError("mute", "card not responding (no status word)")
            sw1 = r[-2]
            if sw1 == 0x61:
                apdu = _command(0x00, 0xC0, 0, 0, None, False) + bytes((r[-1],))
                prefix = bytes(r[:-2])
                data, sw = self.exchange(apdu)
                return prefix + data, sw
            if sw1 == 0x6C:
                apdu = bytes(apdu[:-1]) + bytes((r[-1],)) if len(apdu) > 4 else bytes(apdu) + bytes((r[-1],))
                continue
            return bytes(r[:-2]), (sw1 << 8) | r[-1]
        raise CardError("status", "card keeps asking to resend the command")

    def select(self, name, next_occurrence=False):
        # Book 1 11.3.2: P1 04 by name, P2 00 first / 02 next occurrence
        return self.exchange(_command(0x00, 0xA4, 0x04, 0x02 if next_occurrence else 0x00, name))

    def read_record(self, sfi, record):
        # Book 3 6.5.11: P2 = SFI << 3 | 4
        return self.exchange(_command(0x00, 0xB2, record, (sfi << 3) | 4))

    def get_processing_options(self, pdol_data):
        # Book 3 6.5.8: data = tag 83 with the PDOL-related data
        n = len(pdol_data)
        d = bytearray(n + 2)
        d[0] = 0x83
        d[1] = n
        d[2:] = pdol_data
        return self.exchange(_command(0x80, 0xA8, 0, 0, d))

    def get_data(self, tag):
        # Book 3 6.5.7: tags 9F36, 9F13, 9F17, 9F4F
        return self.exchange(_command(0x80, 0xCA, tag >> 8, tag & 0xFF))

    def internal_authenticate(self, ddol_data):
        return self.exchange(_command(0x00, 0x88, 0, 0, ddol_data))

    def generate_ac(self, p1, cdol_data):
        # Book 3 6.5.5: P1 b8-b7 = AAC 00 / TC 40 / ARQC 80, b5 = CDA requested
        return self.exchange(_command(0x80, 0xAE, p1, 0, cdol_data))

    def external_authenticate(self, issuer_auth_data):
        return self.exchange(_command(0x00, 0x82, 0, 0, issuer_auth_data, False))

    def get_challenge(self):
        return self.exchange(_command(0x00, 0x84, 0, 0))

    def verify(self, qualifier, pin_data):
        # Book 3 6.5.12: P2 80 plaintext PIN, 88 enciphered PIN
        return self.exchange(_command(0x00, 0x20, 0, qualifier, pin_data, False))

    def raw(self, apdu):
        """An issuer script command, sent as received (Book 3 10.10)."""
        return self.exchange(apdu)


def _transport_error(exc):
    reason = getattr(exc, "reason", None)
    text = str(exc)
    if reason in ("removed", "mute"):
        return CardError(reason, "card %s: %s" % ("removed" if reason == "removed" else "not responding", text))
    low = text.lower()
    if "remov" in low or "absent" in low or "no card" in low:
        return CardError("removed", "card removed: %s" % text)
    return CardError("mute", "card not responding: %s" % (text or type(exc).__name__))
