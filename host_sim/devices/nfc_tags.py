"""Membership cards for the PN532 model: MIFARE Classic 1K and NTAG213/215/216, answering the
commands a PN532 relays in InDataExchange (NXP MF1S50 / NTAG21x datasheets): MIFARE AUTH
(60 key A / 61 key B, block, key, UID) then READ (30 block, 16 bytes) and WRITE (A0 block +
16 bytes); NTAG READ (30 page -> 4 pages, 16 bytes), WRITE (A2 page + 4 bytes), GET_VERSION
(60).  Crypto1 itself is not modelled: authentication is checked at the command level (right
key for the sector: ok; wrong key: the PN532 reports status 14)."""


class MifareClassic1K:
    type = "A"
    atqa = bytes.fromhex("0004")
    sak = 0x08

    def __init__(self, uid=bytes.fromhex("DEADBEEF"), key_a=b"\xff" * 6, key_b=b"\xff" * 6):
        self.uid = uid
        self.blocks = [bytearray(16) for _ in range(64)]
        self.blocks[0][:4] = uid
        self.keys = {s: (key_a, key_b) for s in range(16)}
        for s in range(16):
            self.blocks[4 * s + 3][:6] = key_a
            self.blocks[4 * s + 3][6:10] = bytes.fromhex("FF078069")
            self.blocks[4 * s + 3][10:] = key_b
        self.authed = None

    def tag_command(self, data):
        """(status, answer): the PN532's InDataExchange status byte and data."""
        cmd = data[0]
        if cmd in (0x60, 0x61):
            block, key = data[1], bytes(data[2:8])
            if block >= 64 or bytes(data[8:12]) != self.uid[:4]:
                return 0x14, b""
            want = self.keys[block // 4][0 if cmd == 0x60 else 1]
            if key != want:
                self.authed = None
                return 0x14, b""                  # authentication error
            self.authed = block // 4
            return 0x00, b""
        if cmd == 0x30:
            b = data[1]
            if self.authed != b // 4:
                return 0x14, b""
            return 0x00, bytes(self.blocks[b])
        if cmd == 0xA0:
            b = data[1]
            if self.authed != b // 4 or b == 0 or len(data) != 18:
                return 0x14, b""
            self.blocks[b][:] = data[2:18]
            return 0x00, b""
        return 0x27, b""


class Ntag21x:
    type = "A"
    atqa = bytes.fromhex("0044")
    sak = 0x00
    # pages, GET_VERSION storage size byte, capability container data-area size byte (CC byte 2:
    # NDEF data area / 8) as NXP's NTAG213/215/216 datasheet gives them (section
    # "Capability Container"): 144, 496 and 872 bytes
    SIZES = {213: (45, 0x0F, 0x12), 215: (135, 0x11, 0x3E), 216: (231, 0x13, 0x6D)}

    def __init__(self, model=213, uid=bytes.fromhex("04112233445566"), ndef_text="MEMBER 0001"):
        self.uid = uid
        if model not in self.SIZES:
            raise ValueError("NTAG model must be one of %s" % ", ".join(str(m) for m in sorted(self.SIZES)))
        self.model = model
        n, size_code, cc_size = self.SIZES[model]
        self.pages = [bytearray(4) for _ in range(n)]
        self.version = bytes([0x00, 0x04, 0x04, 0x02, 0x01, 0x00, size_code, 0x03])
        self.pages[3][:] = bytes([0xE1, 0x10, cc_size, 0x00])   # capability container (NFC Forum T2T, v1.0, rw)
        text = ndef_text.encode()
        rec = bytes([0xD1, 0x01, len(text) + 3, 0x54, 0x02]) + b"en" + text     # NDEF Text record
        tlv_ = bytes([0x03, len(rec)]) + rec + b"\xfe"
        for i in range(0, len(tlv_), 4):
            self.pages[4 + i // 4][:len(tlv_[i:i + 4])] = tlv_[i:i + 4]

    def tag_command(self, data):
        cmd = data[0]
        if cmd == 0x60:
            return 0x00, self.version
        if cmd == 0x30:
            p = data[1]
            if p >= len(self.pages):
                return 0x27, b""
            return 0x00, b"".join(bytes(self.pages[(p + i) % len(self.pages)]) for i in range(4))
        if cmd == 0xA2 and len(data) == 6:
            p = data[1]
            if p < 4 or p >= len(self.pages):
                return 0x27, b""
            self.pages[p][:] = data[2:6]
            return 0x00, b""
        return 0x27, b""
