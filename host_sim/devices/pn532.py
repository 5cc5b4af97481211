"""NXP PN532 NFC controller on its HSU (UART, 115200 8N1) interface, frame for frame
(PN532 User Manual UM0701-02): information frames 00 00 FF LEN LCS TFI PD0..PDn DCS 00
(extended frames 00 00 FF FF FF LENm LENl LCS ... for long data), ACK 00 00 FF 00 FF 00,
NACK 00 00 FF FF 00 00 (the chip then sends its last response again), error frame
00 00 FF 01 FF 7F 81 00 for a frame it cannot take (bad checksum).

Commands: GetFirmwareVersion (02), SAMConfiguration (14), RFConfiguration (32: item 01 RF
field, item 05 MaxRetries), InListPassiveTarget (4A: 106 kbps type A and type B),
InDataExchange (40: ISO 14443-4 APDUs, MI chaining both ways), InRelease (52), InDeselect
(44).  Status byte errors as the chip reports them: 01 time-out (no/removed card), 02 CRC,
27 command not acceptable in this context.

InListPassiveTarget with no card in the field waits as the chip does (UM0701 7.3.1, CfgItem
05): MxRtyPassiveActivation + 1 activation attempts, then the answer "0 targets"; 0xFF (the
power-on value) means try forever, so the answer comes only when a card enters the field.
An ACK frame from the host aborts the waiting command without an answer (UM0701 6.2.1.3);
so does any new command frame, which is then executed.  One activation attempt with no card
takes ATTEMPT_S in this model (a figure of the model, not of the datasheet).

The field: tap(card), tap(card, other) (two cards at once), remove(); a card is any object
with uid, atqa, sak, ats and transmit(apdu) -> response.  Faults: "corrupt" (next response frame with a bad
DCS), "no_ack" (next command not acknowledged), "leave" (the card leaves at the next APDU).

Whatever bytes the host sends, uart_rx() raises nothing: a frame the chip cannot take (bad
length or data checksum, no TFI D4, no command code) is answered with the error frame.
"""
import threading

from host_sim.devices.base import UartDevice

ACK = bytes.fromhex("0000FF00FF00")
NACK = bytes.fromhex("0000FFFF0000")
ERROR_FRAME = bytes.fromhex("0000FF01FF7F8100")
_MAX_FRAME_DATA = 262
RETRY_FOREVER = 0xFF
ATTEMPT_S = 0.005                 # one passive activation attempt with an empty field (model figure)


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
    FAULTS = ("corrupt", "no_ack", "leave", "leave_after")
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
        # RFConfiguration item 05 (UM0701 7.3.1): power-on values
        self.max_retries = {"atr": 0xFF, "psl": 0x01, "passive": RETRY_FOREVER}
        self.waiting_list = None      # InListPassiveTarget parameters while it waits for a card
        self._wait_timer = None

    # -- the field ------------------------------------------------------------
    def tap(self, card, *more):
        """Cards enter the field; several given at once arrive together (a collision for a
        reader that wants one), whereas two taps may be polled in between."""
        answer = None
        with self.lock:
            self.cards.append(card)
            self.cards.extend(more)
            if self.waiting_list is not None and self._matching(self.waiting_list):
                answer = self._end_wait(self._list(self.waiting_list))
        for c in (card,) + more:
            self.emit(event="tap", uid=bytes(getattr(c, "uid", b"")).hex())
        if answer:
            self.uart_tx(answer)

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
            self.max_retries = {"atr": 0xFF, "psl": 0x01, "passive": RETRY_FOREVER}
            self._cancel_wait()

    # -- InListPassiveTarget waiting for a card (MaxRetries) ------------------------
    def _matching(self, p):
        want = "A" if p[1] == 0 else "B"
        return any(getattr(c, "type", "A") == want for c in self.cards)

    def _start_wait(self, p):
        """No card: keep the command pending; with finite retries, answer 0 targets later."""
        self.waiting_list = bytes(p)
        retries = self.max_retries["passive"]
        if retries == RETRY_FOREVER:
            return
        timer = threading.Timer((retries + 1) * ATTEMPT_S, self._retries_used_up)
        timer.daemon = True
        self._wait_timer = timer
        timer.start()

    def _retries_used_up(self):
        with self.lock:
            if self.waiting_list is None or self._wait_timer is not threading.current_thread():
                return
            answer = self._end_wait(b"\x00")
        self.uart_tx(answer)

    def _cancel_wait(self):
        """An abort (ACK) or a new command: the waiting InListPassiveTarget ends unanswered."""
        self.waiting_list = None
        if self._wait_timer is not None:
            self._wait_timer.cancel()
            self._wait_timer = None

    def _end_wait(self, resp):
        self._cancel_wait()
        return self._respond(0x4A, resp)

    def _respond(self, cmd, resp):
        f = frame(bytes([0xD5, (cmd + 1) & 0xFF]) + resp)
        self.last = f
        if "corrupt" in self.faults:
            self.faults.pop("corrupt", None)
            f = f[:-2] + bytes([f[-2] ^ 0x5A]) + f[-1:]
        return f

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
            self._cancel_wait()
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
        if (sum(data) + dcs) & 0xFF or len(data) < 2 or data[0] != 0xD4:
            return [ERROR_FRAME]
        self._cancel_wait()                         # a new command ends a waiting one
        if "no_ack" in self.faults:
            self.faults.pop("no_ack", None)
            return []
        resp = self._command(data[1], data[2:])
        if resp is None:                            # InListPassiveTarget waits for a card
            return [ACK]
        return [ACK, self._respond(data[1], resp)]

    # -- commands ---------------------------------------------------------------
    def _command(self, cmd, p):
        self.commands.append(cmd)
        if cmd == 0x02:
            return self.FIRMWARE
        if cmd == 0x14:                              # SAMConfiguration
            self.sam_normal = bool(p) and p[0] == 0x01
            return b""
        if cmd == 0x32:                              # RFConfiguration (UM0701 7.3.1)
            if p[:1] == b"\x01" and len(p) >= 2:
                self.field = bool(p[1] & 1)
                if not self.field:
                    self.targets = {}
            elif p[:1] == b"\x05":                  # MaxRetries: MxRtyATR, MxRtyPSL, MxRtyPassiveActivation
                if len(p) != 4:
                    return b"\x27"
                self.max_retries = {"atr": p[1], "psl": p[2], "passive": p[3]}
            return b""
        if cmd == 0x4A:                              # InListPassiveTarget
            if len(p) >= 2 and self.field and self.sam_normal and not self._matching(p):
                self._start_wait(p)
                return None
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

    def _leaving(self, fault, p):
        """Fault `fault` is on and this APDU (after the Tg byte in p) is the one it waits for."""
        f = self.faults.get(fault)
        if f is None:
            return False
        ins = f.get("ins") if isinstance(f, dict) else None
        if ins is not None and (len(p) < 3 or p[2] != ins):
            return False
        self.faults.pop(fault, None)
        return True

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
        if self._leaving("leave", p):
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
        if self._leaving("leave_after", b"\x00" + apdu):
            self.remove(card)
            return b"\x01"                           # carried out, the answer never came back
        self.emit(event="apdu", ins=apdu[1] if len(apdu) > 1 else 0, sw=r[-2:].hex(),
                  header=bytes(apdu[:4]).hex(), lc=max(0, len(apdu) - 5), rlen=len(r) - 2,
                  aid=bytes(apdu[5:5 + apdu[4]]).hex() if apdu[1:2] == b"\xa4" and len(apdu) > 5 else "")
        if len(r) > _MAX_FRAME_DATA - 3:
            self.chain_out = r[_MAX_FRAME_DATA - 3:]
            return b"\x40" + r[:_MAX_FRAME_DATA - 3]
        return b"\x00" + r
