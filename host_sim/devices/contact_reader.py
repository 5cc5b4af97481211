"""Contact smart-card interface model: the card side of ISO/IEC 7816-3 as the board's
smart-card UART (USART1 in smart-card mode) and its RST / CMDVCC / card-detect pins see it.

Pins (wiring roles):
  vcc     board output, CMDVCC active low: 0 = card powered (as on a TDA8035-style
          interface); 1 = deactivated (the card loses its state).
  rst     board output: held low while VCC comes up, then released high = cold reset;
          low -> high again while powered = warm reset.  The ATR follows each reset.
  detect  model output (to the board): 1 while a card is in the slot.

Line: 9600 baud, 8 data bits, even parity, 2 stop bits (ISO 7816-3 default F=372 D=1 at
3.5712 MHz gives 9600 baud; the guard time makes the second stop bit).  The firmware
configures the UART so; the model records the configuration it got.  The bridge carries
bytes, not line levels, so the half-duplex echo of the I/O line and character repetition
on parity errors are not modelled: the firmware reads only what the card sends.

The card behind the slot is any object with ``atr`` (bytes) and ``transmit(apdu) ->
response data + SW1 SW2`` (host_sim.cards.CardSimulator, or a test card); the model does
the transmission protocol the ATR announces:

  T=0  (ISO 7816-3 10, EMV Book 1 9.2): 5-byte command header; procedure bytes INS (ACK),
       60 (NULL, more time), SW1 SW2; case 2 data after the ACK; case 3/4 data sent by the
       reader after the ACK; response data of a case 4 command announced with 61 La and
       fetched with GET RESPONSE; a case 2 command with the wrong Le answered 6C La.
  T=1  (ISO 7816-3 11, EMV Book 1 9.3): blocks NAD PCB LEN INF LRC; I-blocks with N(S) and
       chaining (M bit) in both directions within IFSC (from the ATR) and IFSD (from the
       reader's S(IFS request)); R-blocks acknowledging chains and reporting EDC/other
       errors; S(RESYNCH), S(WTX) request when the card is slow.

Faults (``inject``): "mute" (no ATR, no answer), "slow" (T=0: NULL bytes before the
answer; T=1: S(WTX request) first), "noise" (the next block/byte sent to the reader is
corrupted once), "no_detect" (card detect stuck low).
``exchange`` records every byte both ways: [(direction, bytes)] with "c" = to the card,
"r" = to the reader.
"""
from host_sim.devices.base import UartDevice

T0_OUTGOING = frozenset((0xB0, 0xB2, 0xC0, 0xCA, 0x84, 0xCB))   # case 2 (data from the card)


def lrc(data):
    x = 0
    for b in data:
        x ^= b
    return x


def atr_protocol(atr):
    """(protocol, IFSC) announced by an ATR (first TD's T, TA3 for T=1)."""
    if len(atr) < 2:
        return 0, 32
    y = atr[1] >> 4
    i = 2
    proto = None
    ifsc = 32
    level = 1
    while True:
        ta = tb = tc = td = None
        if y & 1:
            ta = atr[i]; i += 1
        if y & 2:
            tb = atr[i]; i += 1
        if y & 4:
            tc = atr[i]; i += 1
        if y & 8:
            td = atr[i]; i += 1
        if level >= 3 and ta is not None and proto == 1:
            ifsc = ta
        if td is None:
            break
        if proto is None:
            proto = td & 0x0F
        y = td >> 4
        level += 1
    return proto or 0, ifsc


class _Silent(Exception):
    """The card gave no answer to this command."""


class ContactReader(UartDevice):
    kind = "contact"
    FAULTS = ("mute", "slow", "noise", "no_detect")

    def __init__(self, name=None):
        super().__init__(name)
        self.card = None
        self.powered = False
        self.rst = 0
        self.config = None
        self.exchange = []
        self.apdus = []            # [(command APDU, response APDU)] as the card saw them
        self._reset_state()

    # --- slot -------------------------------------------------------------
    def insert(self, card):
        with self.lock:
            self.card = card
            self._reset_state()
            self.powered = False
            self.set_pin("detect", 0 if "no_detect" in self.faults else 1)
        self.emit(event="card_inserted", atr=bytes(getattr(card, "atr", b"")).hex())

    def remove(self):
        with self.lock:
            self.card = None
            self.powered = False
            self._reset_state()
            self.set_pin("detect", 0)
        self.emit(event="card_removed")

    def present(self):
        return self.card is not None

    def power_on_reset(self):
        with self.lock:
            self.powered = False
            self._reset_state()
            self.set_pin("detect", 1 if self.card is not None and "no_detect" not in self.faults else 0)

    def status(self):
        st = super().status()
        st.update(card=self.card is not None, powered=self.powered, protocol=self.protocol,
                  apdus=len(self.apdus))
        return st

    def uart_config(self, baudrate, bits=8, parity=None, stop=1):
        self.baudrate = baudrate
        self.config = (baudrate, bits, parity, stop)

    # --- pins -------------------------------------------------------------
    def pin_changed(self, role, value):
        super().pin_changed(role, value)
        atr = None
        with self.lock:
            if role == "vcc":
                on = value == 0                 # CMDVCC is active low
                if on and not self.powered:
                    self.powered = True
                    self._reset_state()
                    if self.rst and self.card is not None:
                        atr = self._answer_to_reset()   # RST already high: reset on power-up
                elif not on and self.powered:
                    self.powered = False        # deactivation: the card forgets its session
                    self._reset_state()
                    if self.card is not None and hasattr(self.card, "reset"):
                        self.card.reset()
            elif role == "rst":
                rising = value and not self.rst
                self.rst = value
                if rising and self.powered and self.card is not None:
                    atr = self._answer_to_reset()
        if atr:
            self._send(atr)

    def _reset_state(self):
        self.protocol = 0
        self.ifsc = 32
        self.ifsd = 32
        self.rx = bytearray()
        # T=0
        self.t0_header = None
        self.t0_pending = b""        # response data waiting for GET RESPONSE
        # T=1
        self.ns = 0                  # N(S) of the card's next I-block
        self.nr = 0                  # N(S) expected in the reader's next I-block
        self.chain_in = bytearray()
        self.chain_out = []          # blocks of a chained response still to send
        self.last_block = None
        self.wtx_pending = None
        self.active = False

    def _answer_to_reset(self):
        if "mute" in self.faults:
            return None
        atr = bytes(self.card.atr)
        if hasattr(self.card, "reset"):
            self.card.reset()
        self.protocol, self.ifsc = atr_protocol(atr)
        self.active = True
        self.emit(event="atr", atr=atr.hex(), protocol=self.protocol)
        return atr

    def _send(self, data):
        data = bytes(data)
        if "noise" in self.faults and data:
            self.faults.pop("noise", None)
            data = data[:-1] + bytes([data[-1] ^ 0x55])
        self.exchange.append(("r", data))
        self.uart_tx(data)

    # --- bytes from the reader --------------------------------------------
    def uart_rx(self, data):
        out = []
        with self.lock:
            self.exchange.append(("c", bytes(data)))
            if not (self.powered and self.active and self.card is not None) or "mute" in self.faults:
                return                          # nobody answers
            self.rx += data
            try:
                if self.protocol == 1:
                    out = self._t1_rx()
                else:
                    out = self._t0_rx()
            except _Silent:
                self.rx = bytearray()
                self.t0_header = None
                out = []
        for chunk in out:
            self._send(chunk)

    # --- T=0 --------------------------------------------------------------
    def _t0_rx(self):
        out = []
        while True:
            if self.t0_header is None:
                if len(self.rx) < 5:
                    return out
                hdr = bytes(self.rx[:5])
                del self.rx[:5]
                cla, ins, p1, p2, p3 = hdr
                if "slow" in self.faults:
                    out.append(b"\x60\x60")     # NULL procedure bytes: the card needs more time
                if ins in T0_OUTGOING:
                    out += self._t0_outgoing(hdr)
                    continue
                if p3 == 0:                     # case 1
                    out.append(self._t0_apdu(hdr[:4], b""))
                    continue
                self.t0_header = hdr
                out.append(bytes([ins]))        # ACK: send all the data
            else:
                n = self.t0_header[4]
                if len(self.rx) < n:
                    return out
                data = bytes(self.rx[:n])
                del self.rx[:n]
                hdr = self.t0_header
                self.t0_header = None
                out.append(self._t0_apdu(hdr[:4], bytes([n]) + data))

    def _t0_apdu(self, head, body):
        """Case 1/3 (and case 4 sent as case 3): SW, or 61 La with the data kept."""
        r = self._card_apdu(head + body)
        data, sw = r[:-2], r[-2:]
        if data and sw[0] in (0x90, 0x62, 0x63):
            self.t0_pending = data
            return bytes([0x61, len(data) & 0xFF])
        self.t0_pending = b""
        return sw

    def _t0_outgoing(self, hdr):
        cla, ins, p1, p2, p3 = hdr
        le = p3 or 256
        if ins == 0xC0:                          # GET RESPONSE
            data = self.t0_pending
            if not data:
                return [b"\x6F\x00"]
            if le != len(data) and le > len(data):
                return [bytes([0x6C, len(data) & 0xFF])]
            part, rest = data[:le], data[le:]
            self.t0_pending = rest
            sw = bytes([0x61, len(rest) & 0xFF]) if rest else b"\x90\x00"
            return [bytes([ins]) + part + sw]
        r = self._card_apdu(hdr)
        data, sw = r[:-2], r[-2:]
        if not data:
            return [sw]
        if len(data) != le:
            self.t0_pending = b""
            return [bytes([0x6C, len(data) & 0xFF])]    # wrong Le: the reader re-sends with La
        return [bytes([ins]) + data + sw]

    def _card_apdu(self, apdu):
        try:
            r = self.card.transmit(bytes(apdu))
        except Exception as exc:
            if getattr(exc, "reason", None) in ("mute", "removed"):
                raise _Silent()                  # a mute card: the reader hears nothing
            # the card model broke: status 6F00 (no precise diagnosis), as a confused card would
            self.emit(event="card_fault", error=str(exc))
            return b"\x6F\x00"
        if r is None:
            raise _Silent()
        r = bytes(r)
        if len(r) < 2:
            r = b"\x6F\x00"
        self.apdus.append((bytes(apdu), r))
        self.emit(event="apdu", ins=apdu[1] if len(apdu) > 1 else 0, sw=r[-2:].hex(),
                  header=bytes(apdu[:4]).hex(), lc=max(0, len(apdu) - 5), rlen=len(r) - 2,
                  aid=bytes(apdu[5:5 + apdu[4]]).hex() if apdu[1:2] == b"\xa4" and len(apdu) > 5 else "")
        return r

    # --- T=1 --------------------------------------------------------------
    def _block(self, pcb, inf=b""):
        b = bytes([0x00, pcb, len(inf)]) + bytes(inf)
        return b + bytes([lrc(b)])

    def _t1_rx(self):
        out = []
        while len(self.rx) >= 4:
            n = self.rx[2]
            if len(self.rx) < n + 4:
                break
            blk = bytes(self.rx[:n + 4])
            del self.rx[:n + 4]
            out += self._t1_block(blk)
        return out

    def _t1_block(self, blk):
        nad, pcb, n = blk[0], blk[1], blk[2]
        inf = blk[3:3 + n]
        if lrc(blk[:-1]) != blk[-1] or nad != 0:
            return [self._r(0x01)]              # EDC error: N(R) = the block expected
        if pcb & 0x80 == 0:                      # I-block
            ns, more = (pcb >> 6) & 1, (pcb >> 5) & 1
            if ns != self.nr:
                return [self._r(0x02)]
            self.nr ^= 1
            self.chain_in += inf
            if more:
                return [self._r(0)]
            apdu = bytes(self.chain_in)
            self.chain_in = bytearray()
            r = self._card_apdu(apdu)
            blocks = []
            for i in range(0, len(r), self.ifsd):
                blocks.append(r[i:i + self.ifsd])
            self.chain_out = blocks
            if "slow" in self.faults:
                self.wtx_pending = True
                return [self._keep(self._block(0xC3, b"\x02"))]   # S(WTX request): twice the BWT
            return [self._next_out()]
        if pcb & 0xC0 == 0x80:                   # R-block
            nr = (pcb >> 4) & 1
            if self.chain_out and nr == self.ns:
                return [self._next_out()]         # chain acknowledged: the next block
            return [self.last_block] if self.last_block else []
        # S-block
        kind = pcb & 0x1F
        if pcb & 0x20:                           # a response from the reader
            if kind == 0x03 and self.wtx_pending:
                self.wtx_pending = None
                return [self._next_out()]
            return []
        if kind == 0x01 and n == 1 and 0 < inf[0] < 0xFF:     # IFS request
            self.ifsd = inf[0]
            return [self._keep(self._block(0xE1, inf))]
        if kind == 0x00:                                      # RESYNCH request
            self.ns = self.nr = 0
            self.chain_in = bytearray()
            self.chain_out = []
            return [self._keep(self._block(0xE0))]
        if kind == 0x02:                                      # ABORT
            self.chain_in = bytearray()
            self.chain_out = []
            return [self._keep(self._block(0xE2))]
        return [self._r(0x02)]

    def _next_out(self):
        part = self.chain_out.pop(0)
        pcb = (self.ns << 6) | (0x20 if self.chain_out else 0)
        self.ns ^= 1
        return self._keep(self._block(pcb, part))

    def _r(self, err):
        return self._block(0x80 | (self.nr << 4) | err)

    def _keep(self, blk):
        self.last_block = blk
        return blk
