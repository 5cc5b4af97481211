"""A contactless stored-value transit card: the electronic purse (EP) of a PBOC-style
application (JR/T 0025 / PBOC 2.0 electronic deposit and purse), ISO 14443-4 type A, as the
PN532 model carries it (uid, atqa, sak, ats, transmit(apdu)).

    card = TransitCard(serial="3101000000001234", balance=150, keys=card_keys(serial))

Commands (CLA 00 / 80):
  SELECT 00 A4 04 00 by AID (A000000632010105): FCI with 9F0C, the public application data
      (issuer 8, type 1, version 1, application serial number 10, dates 4+4, 2 RFU).
  GET BALANCE 80 5C 00 02 04: the purse balance, 4 bytes.
  INITIALIZE FOR LOAD 80 50 00 02 0B: key index 1, amount 4, terminal number 6 -> old balance 4,
      online counter 2, key version 1, algorithm 1, random 4, MAC1 4.
  CREDIT FOR LOAD 80 52 00 00 0B: date 4, time 3, MAC2 4 -> TAC 4 (balance and counter move).
  GET TRANSACTION PROVE 80 5A 00 02 02 counter 2: MAC2 and TAC of the load with that online
      counter, or 9406 when it did not complete (the torn-load evidence).
Status words: 9302 MAC invalid, 9403 key index not supported, 9406 MAC/TAC not available,
6985 conditions of use not satisfied (no INITIALIZE before CREDIT), 6A82 application not
found, 6A84 the load would exceed the purse limit, 6D00 instruction not supported.

Keys: DLK (load key, 16 bytes) and DTK (TAC key, 16 bytes) of this card, diversified by the
operator from its master keys (host_sim.hosts.transit.keys).  The MAC algorithm (PBOC ED/EP
part 1, annex: padding 80 00.., single-DES CBC with a zero IV, first 4 bytes) is the one both
sides use; the session load key is 3DES_DLK(random 4 || online counter 2 || 80 00)."""
from pyemv import tools

AID = bytes.fromhex("A000000632010105")
LOAD = 0x02                       # transaction type: EP load
LIMIT = 100000                    # the purse holds at most 1,000.00


def des_mac(key8, data):
    """PBOC ED/EP MAC: 80 00.. padding always, single DES CBC (IV 0), leftmost 4 bytes."""
    d = bytes(data) + b"\x80"
    d += bytes((-len(d)) % 8)
    return tools.encrypt_tdes_cbc(key8 * 3, bytes(8), d)[-8:][:4]


def session_load_key(dlk, random4, counter2):
    return tools.encrypt_tdes_ecb(dlk + dlk[:8], random4 + counter2 + b"\x80\x00")


def tac_key(dtk):
    """TAC key: left and right halves of DTK exclusive-ored (single DES)."""
    return bytes(a ^ b for a, b in zip(dtk[:8], dtk[8:]))


class TransitCard:
    type = "A"
    atqa = bytes.fromhex("0004")
    sak = 0x20                                   # ISO 14443-4
    ats = bytes.fromhex("0578807002")

    def __init__(self, serial, balance, dlk, dtk, key_index=1, key_version=1, counter=0, random=None):
        self.serial = bytes.fromhex(serial.rjust(20, "0"))        # 10 bytes, BCD
        self.uid = self.serial[-4:]
        self.balance = balance
        self.counter = counter                   # online transaction counter (loads done)
        self.dlk, self.dtk = dlk, dtk
        self.key_index, self.key_version = key_index, key_version
        self.selected = False
        self.pending = None                      # the load INITIALIZE opened: (amount, terminal, session key)
        self.proofs = {}                         # online counter -> (MAC2, TAC) of each completed load
        self.apdus = []                          # INS of every command (the test's view of the wire)
        self._random = random or (lambda: __import__("os").urandom(4))

    def transmit(self, apdu):
        apdu = bytes(apdu)
        cla, ins, p1, p2 = apdu[:4]
        self.apdus.append(ins)
        body = apdu[5:5 + apdu[4]] if len(apdu) > 5 else b""
        if cla == 0x00 and ins == 0xA4:
            self.pending = None
            if p1 != 0x04 or body != AID:
                self.selected = False
                return b"\x6a\x82"
            self.selected = True
            pub = bytes.fromhex("3101000031010000") + b"\x02\x01" + self.serial + \
                bytes.fromhex("2026010120361231") + b"\x00\x00"
            a5 = b"\x9f\x0c" + bytes([len(pub)]) + pub
            fci = b"\x84" + bytes([len(AID)]) + AID + b"\xa5" + bytes([len(a5)]) + a5
            return b"\x6f" + bytes([len(fci)]) + fci + b"\x90\x00"
        if not self.selected:
            return b"\x69\x85"
        if cla != 0x80:
            return b"\x6e\x00"
        if ins == 0x5C and p2 == 0x02:
            return self.balance.to_bytes(4, "big") + b"\x90\x00"
        if ins == 0x50 and p1 == 0x00 and p2 == LOAD and len(body) == 11:
            self.pending = None
            if body[0] != self.key_index:
                return b"\x94\x03"
            amount = int.from_bytes(body[1:5], "big")
            if self.balance + amount > LIMIT:
                return b"\x6a\x84"
            rnd = self._random()
            ctr = self.counter.to_bytes(2, "big")
            sk = session_load_key(self.dlk, rnd, ctr)
            mac1 = des_mac(sk, self.balance.to_bytes(4, "big") + body[1:5] + bytes([LOAD]) + body[5:11])
            self.pending = (body[1:5], body[5:11], sk)
            return self.balance.to_bytes(4, "big") + ctr + bytes([self.key_version, 0x00]) + rnd + mac1 + \
                b"\x90\x00"
        if ins == 0x52 and len(body) == 11:
            if self.pending is None:
                return b"\x69\x85"
            amt, term, sk = self.pending
            self.pending = None                  # one try: a wrong MAC2 ends the load
            date_time, mac2 = body[:7], body[7:11]
            if des_mac(sk, amt + bytes([LOAD]) + term + date_time) != mac2:
                return b"\x93\x02"
            ctr = self.counter
            self.balance += int.from_bytes(amt, "big")
            self.counter += 1
            tac = des_mac(tac_key(self.dtk), self.balance.to_bytes(4, "big") + ctr.to_bytes(2, "big") + amt +
                          bytes([LOAD]) + term + date_time)
            self.proofs[ctr] = (mac2, tac)
            return tac + b"\x90\x00"
        if ins == 0x5A and p2 == LOAD and len(body) == 2:
            got = self.proofs.get(int.from_bytes(body, "big"))
            if got is None:
                return b"\x94\x06"
            return got[0] + got[1] + b"\x90\x00"
        return b"\x6d\x00"
