"""NXP PN532 NFC controller on its HSU (UART, 115200 8N1) interface, frame for frame
(PN532 User Manual UM0701-02): information frames 00 00 FF LEN LCS TFI PD0..PDn DCS 00
(extended frames 00 00 FF FF FF LENm LENl LCS ... for long data), ACK 00 00 FF 00 FF 00,
NACK 00 00 FF FF 00 00 (the chip then sends its last response again), error frame
00 00 FF 01 FF 7F 81 00 for a frame it cannot take (bad checksum).

Commands: GetFirmwareVersion (02), SAMConfiguration (14), RFConfiguration (32: RF field,
MaxRetries), InListPassiveTarget (4A: 106 kbps type A and type B), InDataExchange (40: ISO
14443-4 APDUs, MI chaining both ways), InRelease (52), InDeselect (44).  Status byte errors
as the chip reports them: 01 time-out (no/removed card), 02 CRC, 27 command not acceptable
in this context.

The field: tap(card) / remove() / two cards at once (tap(card1, card2)); a card is any
object with uid, atqa, sak, ats and transmit(apdu) -> response.  Faults: "corrupt" (next
response frame with a bad DCS), "no_ack" (next command not acknowledged), "leave" (the card
leaves at the next APDU).
"""
from host_sim.devices.base import UartDevice

ACK = bytes.fromhex("0000FF00FF00")
NACK = bytes.fromhex("0000FFFF0000")
ERROR_FRAME = bytes.fromhex("0000FF01FF7F8100")
_MAX_FRAME_DATA = 262


def frame(data):
    """An information frame (normal or extended) around TFI+PD bytes."""
    n = len(data)
    dcs = (-sum(data)) & 0xFF
    if n <= 254:
        return bytes([0, 0, 0xFF, n, (-n) & 0xFF]) + bytes(data) + bytes([dcs, 0])
    return bytes([0, 0, 0xFF, 0xFF, 0xFF, n >> 8, n & 0xFF, (-(n >> 8) - (n & 0xFF)) & 0xFF]) + bytes(data) + \
        bytes([dcs, 0])


class PN532(UartDevice):
    kind = "pn532"
    FAULTS = ("corrupt", "no_ack", "leave")
    FIRMWARE = bytes([0x32, 0x01, 0x06, 0x07])     # IC PN532, version 1.6, supports 14443A/B + 18092

    def __init__(self, name=None):
        super().__init__(name)
        self.cards = []
        self.rx = bytearray()
        self.awake = False
        self.sam_normal = False
        self.field = True
        self.targets = {}            # Tg -> card
        self.last = None             # last response frame (for NACK)
        self.chain_in = bytearray()
        self.chain_out = b""
        self.commands = []

    # -- the field ------------------------------------------------------------
    def tap(self, *cards):
        """Cards enter the field; several given at once enter together (a collision for the
        next InListPassiveTarget, never one of them alone)."""
        with self.lock:
            self.cards.extend(cards)
        for card in cards:
            self.emit(event="tap", uid=bytes(getattr(card, "uid", b"")).hex())

    def remove(self, card=None):
        with self.lock:
            if card is None:
                self.cards = []
            elif card in self.cards:
                self.cards.remove(card)
            self.targets = {t: c for t, c in self.targets.items() if c in self.cards}
        self.emit(event="remove")

    def power_on_reset(self):
        with self.lock:
            self.awake = False
            self.sam_normal = False
            self.field = True
            self.targets = {}
            self.rx = bytearray()

    # -- bytes from the host ------------------------------------------------------
    def uart_rx(self, data):
        out = []
        with self.lock:
            self.rx += data
            self.awake = True                       # any byte (0x55 preamble) wakes the HSU
            while True:
                r = self._take_frame()
                if r is None:
                    break
                out += r
        for chunk in out:
            self.uart_tx(chunk)

    def _take_frame(self):
        buf = self.rx
        i = buf.find(b"\x00\xff")
        if i < 0:
            if len(buf) > 1:
                del buf[:-1]
            return None
        del buf[:i]                                 # drop wake-up bytes / noise before the start code
        if len(buf) < 4:
            return None
        if buf[2:4] == b"\x00\xff":                 # ACK from the host: abort the running command
            del buf[:5]
            return []
        if buf[2:4] == b"\xff\x00":                 # NACK from the host: say the last answer again
            del buf[:5]
            return [self.last] if self.last else []
        n = buf[2]
        if n == 0xFF and buf[3] == 0xFF:            # extended frame
            if len(buf) < 7:
                return None
            n = (buf[4] << 8) | buf[5]
            if (buf[4] + buf[5] + buf[6]) & 0xFF:
                del buf[:7]
                return [ERROR_FRAME]
            start = 7
        else:
            if (n + buf[3]) & 0xFF:
                del buf[:4]
                return [ERROR_FRAME]
            start = 4
        if len(buf) < start + n + 2:
            return None
        data = bytes(buf[start:start + n])
        dcs = buf[start + n]
        del buf[:start + n + 2]
        if (sum(data) + dcs) & 0xFF or not data or data[0] != 0xD4:
            return [ERROR_FRAME]
        if "no_ack" in self.faults:
            self.faults.pop("no_ack", None)
            return []
        resp = self._command(data[1], data[2:])
        f = frame(bytes([0xD5, data[1] + 1]) + resp)
        self.last = f
        if "corrupt" in self.faults:
            self.faults.pop("corrupt", None)
            f = f[:-2] + bytes([f[-2] ^ 0x5A]) + f[-1:]
        return [ACK, f]

    # -- commands ---------------------------------------------------------------
    def _command(self, cmd, p):
        self.commands.append(cmd)
        if cmd == 0x02:
            return self.FIRMWARE
        if cmd == 0x14:                              # SAMConfiguration
            self.sam_normal = bool(p) and p[0] == 0x01
            return b""
        if cmd == 0x32:                              # RFConfiguration
            if p[:1] == b"\x01" and len(p) >= 2:
                self.field = bool(p[1] & 1)
                if not self.field:
                    self.targets = {}
            return b""
        if cmd == 0x4A:                              # InListPassiveTarget
            return self._list(p)
        if cmd == 0x40:
            return self._exchange(p)
        if cmd in (0x52, 0x44):                      # InRelease / InDeselect
            tg = p[0] if p else 0
            if tg == 0:
                self.targets = {}
            else:
                self.targets.pop(tg, None)
            return b"\x00"
        return b"\x27"

    def _list(self, p):
        if len(p) < 2 or not self.field or not self.sam_normal:
            return b"\x00"
        max_tg, brty = p[0], p[1]
        present = [c for c in self.cards if getattr(c, "type", "A") == ("A" if brty == 0 else "B")]
        present = present[:max(1, min(max_tg, 2))]
        out = bytearray([len(present)])
        self.targets = {}
        for i, c in enumerate(present, 1):
            self.targets[i] = c
            if brty == 0:
                uid = bytes(c.uid)
                ats = bytes(getattr(c, "ats", b"") or b"")
                out += bytes([i]) + bytes(c.atqa) + bytes([c.sak, len(uid)]) + uid
                if ats:
                    out += bytes([len(ats) + 1]) + ats
            else:
                atqb = bytes(getattr(c, "atqb", b"\x50" + bytes(11)))
                out += bytes([i]) + atqb + b"\x01\x00"
        return bytes(out)

    def _exchange(self, p):
        if not p:
            return b"\x27"
        tg, more = p[0] & 0x3F, p[0] & 0x40
        card = self.targets.get(tg)
        if self.chain_out and len(p) == 1:           # the host asks for the rest of a long answer
            part, self.chain_out = self.chain_out[:_MAX_FRAME_DATA - 3], self.chain_out[_MAX_FRAME_DATA - 3:]
            return bytes([0x40 if self.chain_out else 0x00]) + part
        if card is None or card not in self.cards:
            return b"\x01"                           # time-out: no card there (removed)
        if "leave" in self.faults:
            self.faults.pop("leave", None)
            self.remove(card)
            return b"\x01"
        if hasattr(card, "tag_command"):           # MIFARE / NTAG: commands, not APDUs
            st, data = card.tag_command(bytes(p[1:]))
            return bytes([st]) + data
        self.chain_in += p[1:]
        if more:
            return b"\x00"                           # more to come (host chaining)
        apdu = bytes(self.chain_in)
        self.chain_in = bytearray()
        try:
            r = bytes(card.transmit(apdu))
        except Exception:
            return b"\x01"
        self.emit(event="apdu", ins=apdu[1] if len(apdu) > 1 else 0, sw=r[-2:].hex())
        if len(r) > _MAX_FRAME_DATA - 3:
            self.chain_out = r[_MAX_FRAME_DATA - 3:]
            return b"\x40" + r[:_MAX_FRAME_DATA - 3]
        return b"\x00" + r
