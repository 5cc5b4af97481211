# NXP PN532 NFC controller (PN532 User Manual UM0701-02).  The protocol lives in PN532;
# the HSU (UART) transport is the thin subclass Pn532Hsu (SPI/I2C would be others).
#
#   nfc = from_board(BOARD); nfc.begin()
#   t = nfc.list_target()            # Target(tg, uid, atqa, sak, ats) or None
#   nfc.transmit(apdu)               # ISO 14443-4 APDU through InDataExchange (chaining)
#
# Errors: NfcError, and only NfcError, whatever the chip sends, with .reason "timeout" (no
# answer), "frame" (corrupted frame after retries), "removed" (card left the field: status
# 01 time-out), "collision" (more than one card), "protocol" (status byte other than 00, or
# an answer shorter or otherwise not as UM0701 describes it), "auth" (MIFARE key refused).
# APDU bodies are never logged.
import time

from micropython import const

_TFI_OUT = const(0xD4)
_TFI_IN = const(0xD5)
_ACK = b"\x00\x00\xff\x00\xff\x00"
_NACK = b"\x00\x00\xff\xff\x00\x00"
ACK_MS = const(30)
RESP_MS = const(1000)
RETRIES = const(3)


class NfcError(Exception):
    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason


class Target:
    __slots__ = ("tg", "uid", "atqa", "sak", "ats")

    def __init__(self, tg, uid, atqa, sak, ats):
        self.tg, self.uid, self.atqa, self.sak, self.ats = tg, uid, atqa, sak, ats

    @property
    def iso14443_4(self):
        return bool(self.sak & 0x20)


class PN532:
    def __init__(self):
        self.buf = bytearray(300)
        self.target = None

    # transport hooks (subclasses)
    def _write(self, data):
        raise NotImplementedError

    def _read(self, n, timeout_ms):
        raise NotImplementedError

    def _wake(self):
        pass

    # -- frames ---------------------------------------------------------------
    def _frame(self, cmd, params):
        n = len(params) + 2
        f = bytearray(n + 7 if n <= 254 else n + 10)
        if n <= 254:
            f[0:5] = bytes((0, 0, 0xFF, n, (-n) & 0xFF))
            i = 5
        else:
            f[0:8] = bytes((0, 0, 0xFF, 0xFF, 0xFF, n >> 8, n & 0xFF, (-(n >> 8) - (n & 0xFF)) & 0xFF))
            i = 8
        f[i] = _TFI_OUT
        f[i + 1] = cmd
        f[i + 2:i + 2 + len(params)] = params
        s = _TFI_OUT + cmd
        for b in params:
            s += b
        f[i + n] = (-s) & 0xFF
        f[i + n + 1] = 0
        return f

    def _read_frame(self, timeout_ms):
        """TFI+PD bytes of the next information frame; None for ACK; NfcError('frame') if bad."""
        # find the start code 00 FF
        prev = -1
        t0 = time.ticks_ms()
        while True:
            b = self._read(1, timeout_ms)
            if not b:
                raise NfcError("timeout", "PN532 not answering")
            if prev == 0 and b[0] == 0xFF:
                break
            prev = b[0]
            if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
                raise NfcError("timeout", "PN532 not answering")
        hdr = self._read(2, timeout_ms)
        if len(hdr) < 2:
            raise NfcError("frame", "truncated frame")
        if hdr == b"\x00\xff":                   # ACK
            self._read(1, timeout_ms)
            return None
        if hdr == b"\xff\x00":
            self._read(1, timeout_ms)
            raise NfcError("frame", "PN532 sent NACK")
        n, lcs = hdr[0], hdr[1]
        if n == 0xFF and lcs == 0xFF:             # extended
            e = self._read(3, timeout_ms)
            if len(e) < 3 or (e[0] + e[1] + e[2]) & 0xFF:
                raise NfcError("frame", "bad extended length checksum")
            n = (e[0] << 8) | e[1]
        elif (n + lcs) & 0xFF:
            raise NfcError("frame", "bad length checksum")
        if n + 2 > len(self.buf):
            raise NfcError("frame", "frame longer than %d bytes" % len(self.buf))
        body = self._read(n + 2, timeout_ms)
        if len(body) < n + 2:
            raise NfcError("frame", "truncated frame")
        s = 0
        for b in body[:n + 1]:
            s += b
        if s & 0xFF:
            raise NfcError("frame", "bad data checksum")
        if n == 1 and body[0] == 0x7F:
            raise NfcError("frame", "PN532 error frame (our frame was damaged)")
        return body[:n]

    def command(self, cmd, params=b"", timeout_ms=RESP_MS):
        """Send a command, take ACK and the response; NACK and retry a corrupted answer.

        A command sent again after a slow ACK leaves a second ACK and answer behind: a late
        ACK or an answer to another command met while waiting for this one is skipped, never
        taken as its answer."""
        f = self._frame(cmd, params)
        for attempt in range(RETRIES):
            self._write(f)
            try:
                if self._read_frame(ACK_MS * 10) is not None:
                    raise NfcError("frame", "expected ACK")
                break
            except NfcError as e:
                if attempt == RETRIES - 1:
                    raise NfcError(e.reason, "no ACK from the PN532 (%s)" % e)
        t0 = time.ticks_ms()
        nacks = 0
        while True:
            left = timeout_ms - time.ticks_diff(time.ticks_ms(), t0)
            if left <= 0:
                raise NfcError("timeout", "PN532 not answering")
            try:
                r = self._read_frame(left)
            except NfcError as e:
                if e.reason != "frame" or nacks == RETRIES - 1:
                    raise
                nacks += 1
                self._write(_NACK)               # ask for the response again
                continue
            if r is None:                        # late ACK of a command sent twice
                continue
            if len(r) >= 2 and r[0] == _TFI_IN and r[1] != cmd + 1 and r[1] & 1:
                continue                         # answer to an earlier command
            if len(r) < 2 or r[0] != _TFI_IN or r[1] != cmd + 1:
                raise NfcError("protocol", "unexpected response to command %02X" % cmd)
            return r[2:]

    # -- commands ---------------------------------------------------------------
    def begin(self):
        self._wake()
        self.sam_config()
        ic, ver, rev, support = self.firmware_version()
        if ic != 0x32:
            raise NfcError("protocol", "not a PN532 (IC %02X)" % ic)
        return ver, rev

    def firmware_version(self):
        r = self.command(0x02)
        if len(r) < 4:
            raise NfcError("protocol", "GetFirmwareVersion answer of %d bytes (want 4)" % len(r))
        return r[0], r[1], r[2], r[3]

    def sam_config(self):
        self.command(0x14, b"\x01\x14\x01")     # normal mode, 1 s timeout, IRQ used

    def rf_field(self, on):
        self.command(0x32, bytes((0x01, 0x01 if on else 0x00)))

    def max_retries(self, passive=0x01):
        self.command(0x32, bytes((0x05, 0xFF, 0x01, passive)))

    def list_target(self, type_b=False, max_targets=2):
        """One card in the field as a Target, None when the field is empty; NfcError('collision')
        when two answer (EMV: present one card)."""
        r = self.command(0x4A, bytes((max_targets, 0x03 if type_b else 0x00)), timeout_ms=RESP_MS)
        if not r or r[0] == 0:
            self.target = None
            return None
        if r[0] > 1:
            raise NfcError("collision", "more than one card in the field")
        # UM0701 7.3.5: Tg, then SENS_RES (2), SEL_RES, NFCIDLength, NFCID1, [ATS] for type A;
        # Tg, ATQB (12), ATTRIB_RES length and bytes for type B
        if len(r) < (13 if type_b else 6) or (not type_b and len(r) < 6 + r[5]):
            raise NfcError("protocol", "InListPassiveTarget answer too short (%d bytes)" % len(r))
        if type_b:
            self.target = Target(r[1], bytes(r[3:7]), b"", 0x20, b"")
            return self.target
        tg, atqa, sak, ul = r[1], bytes(r[2:4]), r[4], r[5]
        uid = bytes(r[6:6 + ul])
        ats = b""
        if len(r) > 6 + ul:
            al = r[6 + ul]
            if al < 1 or len(r) < 6 + ul + al:
                raise NfcError("protocol", "ATS length %d does not match the answer" % al)
            ats = bytes(r[7 + ul:6 + ul + al])
        self.target = Target(tg, uid, atqa, sak, ats)
        return self.target

    def transmit(self, apdu):
        """ISO 14443-4 APDU exchange with the listed target (chaining both ways)."""
        if self.target is None:
            raise NfcError("removed", "no card listed")
        tg = self.target.tg
        out = bytearray()
        mv = memoryview(apdu)
        step = 250
        for off in range(0, max(len(apdu), 1), step):
            more = off + step < len(apdu)
            r = self._data_exchange(bytes((tg | (0x40 if more else 0),)) + bytes(mv[off:off + step]))
            if r[0] & 0x3F:
                self._status(r[0])
        out += r[1:]
        while r[0] & 0x40:                      # MI: the card's answer continues
            r = self._data_exchange(bytes((tg,)))
            if r[0] & 0x3F:
                self._status(r[0])
            out += r[1:]
        if len(out) < 2:
            raise NfcError("protocol", "answer without status word")
        return bytes(out)

    def _data_exchange(self, params):
        """InDataExchange; the answer starts with the status byte (UM0701 7.3.8)."""
        r = self.command(0x40, params)
        if not r:
            raise NfcError("protocol", "InDataExchange answer without status byte")
        return r

    def _status(self, st):
        code = st & 0x3F
        self.target = None if code == 0x01 else self.target
        if code == 0x01:
            raise NfcError("removed", "card left the field (time-out)")
        raise NfcError("protocol", "PN532 status %02X" % code)

    # -- membership cards (MIFARE Classic, NTAG21x) through InDataExchange ------------
    def _tag(self, data):
        if self.target is None:
            raise NfcError("removed", "no card listed")
        r = self._data_exchange(bytes((self.target.tg,)) + data)
        if r[0] & 0x3F:
            code = r[0] & 0x3F
            if code == 0x14:
                raise NfcError("auth", "MIFARE authentication failed (wrong key)")
            self._status(r[0])
        return r[1:]

    def mifare_auth(self, block, key, key_b=False):
        self._tag(bytes((0x61 if key_b else 0x60, block)) + bytes(key) + self.target.uid[:4])

    def mifare_read(self, block):
        return self._tag(bytes((0x30, block)))

    def mifare_write(self, block, data16):
        if len(data16) != 16:
            raise NfcError("protocol", "a MIFARE block is 16 bytes")
        self._tag(bytes((0xA0, block)) + bytes(data16))

    def ntag_version(self):
        return self._tag(b"\x60")

    def ntag_read(self, page):
        """Four pages (16 bytes) from `page`."""
        return self._tag(bytes((0x30, page)))

    def ntag_ndef_text(self):
        """The first NDEF Text record's text (membership number), or None."""
        data = bytearray()
        for p in range(4, 16, 4):
            data += self.ntag_read(p)
        if len(data) < 2 or data[0] != 0x03:
            return None
        ln = data[1]
        rec = data[2:2 + ln]
        if len(rec) < 5 or rec[3] != 0x54:
            return None
        lang = rec[4] & 0x3F
        try:
            return bytes(rec[5 + lang:4 + rec[2]]).decode()
        except UnicodeError:
            raise NfcError("protocol", "NDEF Text record is not UTF-8")

    def release(self):
        self.command(0x52, b"\x00")
        self.target = None


class Pn532Hsu(PN532):
    def __init__(self, uart):
        super().__init__()
        self.uart = uart

    def _write(self, data):
        self.uart.write(data)

    def _read(self, n, timeout_ms):
        out = bytearray()
        t0 = time.ticks_ms()
        while len(out) < n:
            if self.uart.any():
                b = self.uart.read(n - len(out))
                if b:
                    out += b
                    continue
            if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
                break
            time.sleep_ms(1)
        return bytes(out)

    def _wake(self):
        # HSU wake-up: a long 0x55 preamble, then SAMConfiguration (UM0701 7.2.11 / 6.3.2.3)
        self.uart.write(b"\x55\x55\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
        time.sleep_ms(2)


def from_board(board):
    from machine import UART, Pin
    if getattr(board, "PN532_RST", None) is not None:
        Pin(board.PN532_RST, Pin.OUT, value=1)
    return Pn532Hsu(UART(board.PN532_UART, 115200, bits=8, parity=None, stop=1, timeout=0))
