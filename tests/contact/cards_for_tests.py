"""Small ISO 7816-4 cards for the reader tests (the EMV card simulator is host_sim.cards)."""

# 3B: direct convention; T0 = 0x65: TB1 = 00 and TC1 = FF follow, 5 historical bytes; no TD1: T=0
T0_ATR = bytes.fromhex("3B6500FF" + "0102030405")


def t1_atr(ifsc=0x20):
    # 3B E0 | TB1=00 TC1=FF TD1=81 (T=1, TD2 follows) | TD2=31 (TA3, TB3, T=1) | TA3=IFSC TB3=45 | TCK
    body = bytes([0xE0, 0x00, 0xFF, 0x81, 0x31, ifsc, 0x45])
    x = 0
    for b in body:
        x ^= b
    return bytes([0x3B]) + body + bytes([x])


class EchoCard:
    """Answers: SELECT (A4) -> FCI of `fci_len` bytes; READ RECORD (B2) -> record of P1*10
    bytes; GET DATA (CA) -> 2 bytes; ECHO (EE) -> its data reversed; anything else 6D00."""

    def __init__(self, atr=T0_ATR, fci_len=20):
        self.atr = atr
        self.fci_len = fci_len
        self.log = []
        self.resets = 0

    def reset(self):
        self.resets += 1

    def transmit(self, apdu):
        self.log.append(bytes(apdu))
        ins = apdu[1]
        if ins == 0xA4:
            return bytes(range(self.fci_len)) + b"\x90\x00"
        if ins == 0xB2:
            return bytes([apdu[2]]) * (apdu[2] * 10) + b"\x90\x00"
        if ins == 0xCA:
            return b"\x01\x02\x90\x00"
        if ins == 0xEE:
            lc = apdu[4]
            return bytes(reversed(apdu[5:5 + lc])) + b"\x90\x00"
        if ins == 0x20:
            return b"\x63\xC2"
        return b"\x6D\x00"
