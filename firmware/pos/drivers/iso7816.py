# Contact smart-card reader: ISO/IEC 7816-3 over a UART in smart-card mode plus
# the interface chip's pins (TDA8035-style): CMDVCC (active low), RST, and the
# card-detect switch.  Activation, ATR, protocol T=0 or T=1, APDU exchange.
#
#   r = iso7816.from_board(BOARD)
#   if r.present():
#       atr = r.power_on()            # cold reset; T=1 negotiates IFSD
#       r.transmit(bytes.fromhex("00A404000E315041592E5359532E444446303100"))
#       r.power_off()
#
# References: ISO/IEC 7816-3:2006 (8 ATR, 10 T=0, 11 T=1), EMV 4.4 Book 1
# (8 ATR, 9.2 T=0, 9.3 T=1, 9.4 case handling).  Errors are CardError with
# .reason "removed", "mute", "atr" or "protocol"; the EMV kernel maps the
# first two to "card removed" / "card not responding".  Only APDU headers and
# status words are ever logged (APDUs carry PIN blocks and track data).
import time

from micropython import const

BAUD = const(9600)           # F=372, D=1 at 3.5712 MHz
ATR_WAIT_MS = const(120)     # 40 000 clocks (11 ms) on a real line; generous for the bridge
WWT_MS = const(1000)         # T=0 work waiting time (960 * WI * F clocks, WI=10): about 1 s
BWT_MS = const(1600)         # T=1 block waiting time for BWI=4 (EMV): about 1.6 s
CWT_MS = const(100)          # T=1 character waiting time (generous)
MAX_RETRIES = const(3)
IFSD = const(254)            # the reader's receive block size, asked of the card
_BUF = const(261)            # 256 data + SW + margin

REMOVED = "removed"
MUTE = "mute"


class CardError(Exception):
    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason


class Atr:
    """A parsed Answer To Reset (ISO 7816-3 8.2)."""
    __slots__ = ("raw", "inverse", "protocols", "ta1", "tc1", "ifsc", "bwi", "cwi", "historical",
                 "tck_ok", "specific")

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.inverse = False
        self.protocols = []
        self.ta1 = 0x11
        self.tc1 = 0
        self.ifsc = 32
        self.bwi = 4
        self.cwi = 13
        self.historical = b""
        self.tck_ok = True
        self.specific = None

    @property
    def protocol(self):
        return self.protocols[0] if self.protocols else 0


def parse_atr(raw):
    """Atr from complete ATR bytes; CardError("atr") names what is wrong."""
    raw = bytes(raw)
    if len(raw) < 2:
        raise CardError("atr", "ATR too short (%d bytes)" % len(raw))
    a = Atr(raw)
    if raw[0] == 0x3F:
        a.inverse = True
    elif raw[0] != 0x3B:
        raise CardError("atr", "TS %02X is neither direct (3B) nor inverse (3F) convention" % raw[0])
    t0 = raw[1]
    k = t0 & 0x0F
    y = t0 >> 4
    i = 2
    level = 1
    n = len(raw)
    while True:
        vals = [None, None, None, None]
        for j in range(4):
            if y & (1 << j):
                if i >= n:
                    raise CardError("atr", "ATR ends inside the interface bytes")
                vals[j] = raw[i]
                i += 1
        ta, tb, tc, td = vals
        if level == 1:
            if ta is not None:
                a.ta1 = ta
            if tc is not None:
                a.tc1 = tc
        elif level == 2:
            if ta is not None:
                a.specific = ta & 0x0F
        elif a.protocols and a.protocols[-1] == 1 and level >= 3:
            if ta is not None:
                if ta in (0x00, 0xFF):
                    raise CardError("atr", "IFSC %02X invalid" % ta)
                a.ifsc = ta
            if tb is not None:
                a.bwi, a.cwi = tb >> 4, tb & 0x0F
        if td is None:
            break
        t = td & 0x0F
        if t not in a.protocols:
            a.protocols.append(t)
        y = td >> 4
        level += 1
    if i + k > n:
        raise CardError("atr", "ATR announces %d historical bytes, has %d" % (k, n - i))
    a.historical = raw[i:i + k]
    i += k
    if any(p != 0 for p in a.protocols):
        # TCK present: XOR of T0..TCK is 0 (ISO 7816-3 8.2.5)
        if i >= n:
            raise CardError("atr", "TCK missing")
        x = 0
        for b in raw[1:i + 1]:
            x ^= b
        a.tck_ok = x == 0
        if not a.tck_ok:
            raise CardError("atr", "TCK check failed")
        i += 1
    if not a.protocols:
        a.protocols = [0]
    return a


def atr_length(buf, n):
    """Bytes the ATR in buf[:n] will have in all (or -1 while it cannot be known yet)."""
    if n < 2:
        return -1
    y = buf[1] >> 4
    k = buf[1] & 0x0F
    i = 2
    tck = False
    while True:
        cnt = ((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1) + ((y >> 3) & 1))
        if i + cnt > n:
            return -1
        td = buf[i + cnt - 1] if y & 8 else None
        i += cnt
        if td is None:
            break
        if td & 0x0F:
            tck = True
        y = td >> 4
    return i + k + (1 if tck else 0)


def _lrc(buf, n):
    x = 0
    for i in range(n):
        x ^= buf[i]
    return x


class Iso7816Reader:
    def __init__(self, uart, rst, vcc, detect=None):
        self.uart = uart
        self.rst = rst
        self.vcc = vcc
        self.detect = detect
        self.atr = None
        self.protocol = None
        self.buf = bytearray(_BUF)          # T=0 response data
        self.blk = bytearray(3 + 254 + 1)   # one T=1 block
        self.rsp = bytearray(_BUF + 2)      # T=1 assembled response
        self.ns = 0
        self.nr = 0
        self.ifsc = 32
        self.io_us = 0                      # time spent on the line (card latency), for figures
        self.vcc.value(1)                   # deactivated: CMDVCC high
        self.rst.value(0)

    # -- slot ---------------------------------------------------------
    def present(self):
        return self.detect is None or self.detect.value() == 1

    def irq(self, handler):
        """handler(pin) on insertion and removal (both edges of card detect)."""
        if self.detect is None:
            raise CardError("protocol", "no card-detect pin wired: poll present()")
        self.detect.irq(handler, trigger=self.detect.IRQ_RISING | self.detect.IRQ_FALLING)

    # -- activation ---------------------------------------------------
    def power_on(self):
        """Cold reset: VCC on with RST low, then RST high; the ATR; T=1 IFS negotiation."""
        if not self.present():
            raise CardError(REMOVED, "no card in the slot")
        self._drain()
        self.rst.value(0)
        self.vcc.value(0)                   # CMDVCC low: the interface powers the card
        time.sleep_ms(1)                    # VCC stable, clock running 400 clocks before RST
        self.rst.value(1)
        raw = self._read_atr()
        self.atr = parse_atr(raw)
        self.protocol = self.atr.protocol
        self.ns = self.nr = 0
        if self.protocol == 1:
            self.ifsc = self.atr.ifsc
            self._ifs_request()
        elif self.protocol != 0:
            offered = self.protocol
            self.power_off()                # (clears self.protocol)
            raise CardError("atr", "card offers T=%d only; this reader speaks T=0 and T=1" % offered)
        return self.atr

    def power_off(self):
        """Deactivation (ISO 7816-3 6.4): RST low, then VCC off."""
        self.rst.value(0)
        self.vcc.value(1)
        self.protocol = None

    def _drain(self):
        while self.uart.any():
            self.uart.read()

    def _read_atr(self):
        buf = self.buf
        n = 0
        want = -1
        t0 = time.ticks_ms()
        while want < 0 or n < want:
            if time.ticks_diff(time.ticks_ms(), t0) > ATR_WAIT_MS + (n * 20):
                self.power_off()
                if not self.present():
                    raise CardError(REMOVED, "card removed during reset")
                if n == 0:
                    raise CardError(MUTE, "no answer to reset (card mute or inserted the wrong way)")
                raise CardError("atr", "ATR incomplete (%d bytes)" % n)
            if self.uart.any():
                c = self.uart.read(1)
                if c:
                    if n >= 33:
                        raise CardError("atr", "ATR longer than 33 bytes")
                    buf[n] = c[0]
                    n += 1
                    want = atr_length(buf, n)
            else:
                time.sleep_ms(1)
        return bytes(buf[:n])

    # -- byte level ---------------------------------------------------
    def _read(self, dst, off, count, wait_ms):
        """Read exactly `count` bytes into dst[off:]; CardError when the card goes quiet."""
        got = 0
        mv = memoryview(dst)
        t0 = time.ticks_ms()
        while got < count:
            if self.uart.any():
                n = self.uart.readinto(mv[off + got:off + count])
                if n:
                    got += n
                    t0 = time.ticks_ms()
                    continue
            if time.ticks_diff(time.ticks_ms(), t0) > wait_ms:
                self._silence()
            time.sleep_ms(1)
        return got

    def _silence(self):
        if not self.present():
            self.power_off()
            raise CardError(REMOVED, "card removed")
        raise CardError(MUTE, "card not responding")

    def _byte(self, wait_ms=WWT_MS):
        b = self.blk
        self._read(b, 0, 1, wait_ms)
        return b[0]

    # -- APDU ---------------------------------------------------------
    def transmit(self, apdu):
        """Command APDU (bytes) -> response data + SW1 SW2 (bytes)."""
        t0 = time.ticks_us()
        try:
            return self._transmit(apdu)
        finally:
            self.io_us += time.ticks_diff(time.ticks_us(), t0)

    def _transmit(self, apdu):
        if self.protocol is None:
            raise CardError("protocol", "card not powered: power_on() first")
        if not self.present():
            self.power_off()
            raise CardError(REMOVED, "card removed")
        if len(apdu) < 4:
            raise CardError("protocol", "APDU shorter than 4 bytes")
        if self.protocol == 1:
            return self._t1_transmit(apdu)
        return self._t0_transmit(apdu)

    # -- T=0 (ISO 7816-3 10, EMV Book 1 9.2 and 9.4) -----------------------
    def _t0_transmit(self, apdu):
        n = len(apdu)
        lc = 0
        le = None
        if n == 5:
            le = apdu[4] or 256                     # case 2
        elif n > 5:
            lc = apdu[4]
            if n not in (5 + lc, 6 + lc):
                raise CardError("protocol", "APDU length %d does not match Lc %d" % (n, lc))
            if n == 6 + lc:
                le = apdu[5 + lc] or 256            # case 4: sent as case 3 (EMV 9.4.3)
        hdr = bytearray(5)
        hdr[:4] = apdu[:4]
        if lc:
            hdr[4] = lc
            sw1, sw2, got = self._t0_command(hdr, memoryview(apdu)[5:5 + lc], 0)
        elif le is not None and n == 5:
            hdr[4] = apdu[4]
            sw1, sw2, got = self._t0_command(hdr, None, le)
            if sw1 == 0x6C:                         # wrong Le: re-send with La (EMV 9.4.2)
                hdr[4] = sw2
                sw1, sw2, got = self._t0_command(hdr, None, sw2 or 256)
        else:
            hdr[4] = 0
            sw1, sw2, got = self._t0_command(hdr, None, 0)
        total = got
        # 61 La: response data waiting: GET RESPONSE (EMV 9.4.3), possibly several times
        while sw1 == 0x61:
            gr = bytearray(b"\x00\xC0\x00\x00\x00")
            gr[4] = sw2
            sw1, sw2, got = self._t0_command(gr, None, sw2 or 256, total)
            if sw1 == 0x6C:
                gr[4] = sw2
                sw1, sw2, got = self._t0_command(gr, None, sw2 or 256, total)
            total += got
        out = bytearray(total + 2)
        out[:total] = self.buf[:total]
        out[total] = sw1
        out[total + 1] = sw2
        return bytes(out)

    def _t0_command(self, hdr, data, le, at=0):
        """Send a header; follow procedure bytes.  (SW1, SW2, data bytes read into buf[at:])."""
        self.uart.write(hdr)
        ins = hdr[1]
        sent = 0
        got = 0
        while True:
            pb = self._byte()
            if pb == 0x60:                          # NULL: the card needs more time
                continue
            if (pb & 0xF0) in (0x60, 0x90):         # SW1
                return pb, self._byte(), got
            if pb == ins or pb == (ins ^ 0xFF):
                one = pb != ins                     # ~INS: one byte at a time
                if data is not None and sent < len(data):
                    k = 1 if one else len(data) - sent
                    self.uart.write(data[sent:sent + k])
                    sent += k
                    continue
                if le and got < le:
                    k = 1 if one else le - got
                    if at + got + k > _BUF - 2:
                        raise CardError("protocol", "response longer than %d bytes" % (_BUF - 2))
                    self._read(self.buf, at + got, k, WWT_MS)
                    got += k
                    continue
                continue
            raise CardError("protocol", "procedure byte %02X after INS %02X" % (pb, ins))

    # -- T=1 (ISO 7816-3 11, EMV Book 1 9.3) ------------------------------
    def _send_block(self, pcb, inf=None, n=0):
        b = self.blk
        b[0] = 0
        b[1] = pcb
        b[2] = n
        if n:
            b[3:3 + n] = inf
        b[3 + n] = _lrc(b, 3 + n)
        self.uart.write(memoryview(b)[:4 + n])

    def _recv_block(self, wait_ms=BWT_MS):
        """(pcb, length) of the next block, its INF in blk[3:]; None on a bad LRC/NAD/length."""
        b = self.blk
        self._read(b, 0, 3, wait_ms)
        n = b[2]
        if n == 0xFF:
            self._drain()
            return None
        self._read(b, 3, n + 1, CWT_MS)
        if b[0] != 0 or _lrc(b, 4 + n) != 0:
            return None
        return b[1], n

    def _exchange(self, pcb, inf, n):
        """Send a block, return the card's reply block (pcb, len), handling WTX and errors."""
        tries = 0
        wait = BWT_MS
        self._send_block(pcb, inf, n)
        while True:
            r = self._recv_block(wait)
            if r is None:
                tries += 1
                if tries > MAX_RETRIES:
                    self._resynch()
                    raise CardError("protocol", "T=1 transmission errors; resynchronised")
                self._send_block(0x80 | (self.nr << 4) | 0x01)     # R-block: EDC error
                continue
            rp, rn = r
            if rp & 0xC0 == 0xC0 and rp & 0x3F == 0x03 and not rp & 0x20:
                mult = self.blk[3] if rn else 1                       # S(WTX request)
                wait = BWT_MS * (mult or 1)
                self._send_block(0xE3, self.blk[3:4], 1)
                continue
            return rp, rn

    def _ifs_request(self):
        self._send_block(0xC1, bytes((IFSD,)), 1)
        r = self._recv_block()
        if r is None or r[0] != 0xE1:
            raise CardError("protocol", "card refused IFS request")

    def _resynch(self):
        self._send_block(0xC0)
        try:
            r = self._recv_block()
        except CardError:
            return
        if r is not None and r[0] == 0xE0:
            self.ns = self.nr = 0

    def _t1_transmit(self, apdu):
        mv = memoryview(apdu)
        n = len(apdu)
        off = 0
        # send the command, chained in IFSC-sized I-blocks
        while True:
            k = min(self.ifsc, n - off)
            more = off + k < n
            pcb = (self.ns << 6) | (0x20 if more else 0)
            rp, rn = self._exchange(pcb, mv[off:off + k], k)
            if more:
                if rp & 0xC0 == 0x80 and ((rp >> 4) & 1) != self.ns:
                    self.ns ^= 1
                    off += k
                    continue
                if rp & 0xC0 == 0x80:
                    continue                               # retransmit the same block
                raise CardError("protocol", "card broke the chain (PCB %02X)" % rp)
            if rp & 0xC0 == 0x80:                          # R-block: resend the last block
                if ((rp >> 4) & 1) == self.ns:
                    continue
                raise CardError("protocol", "unexpected R-block %02X" % rp)
            self.ns ^= 1
            break
        # receive the response, acknowledging chained blocks
        got = 0
        rsp = self.rsp
        while True:
            if rp & 0x80:
                raise CardError("protocol", "expected an I-block, got PCB %02X" % rp)
            if ((rp >> 6) & 1) != self.nr:
                raise CardError("protocol", "I-block out of sequence")
            if got + rn > len(rsp):
                raise CardError("protocol", "response longer than %d bytes" % len(rsp))
            rsp[got:got + rn] = self.blk[3:3 + rn]
            got += rn
            self.nr ^= 1
            if not rp & 0x20:
                break
            rp, rn = self._exchange(0x80 | (self.nr << 4), None, 0)
        if got < 2:
            raise CardError("protocol", "response without status word")
        return bytes(rsp[:got])


def from_board(board):
    from machine import UART, Pin
    uart = UART(board.CARD_UART, BAUD, bits=8, parity=0, stop=2, timeout=0)
    rst = Pin(board.CARD_RST, Pin.OUT, value=0)
    vcc = Pin(board.CARD_VCC, Pin.OUT, value=1)
    detect = Pin(board.CARD_DETECT, Pin.IN, Pin.PULL_DOWN)
    return Iso7816Reader(uart, rst, vcc, detect)
