"""Malformed and oversized card responses never crash the kernel (issue 4, 'Bad input').

One MicroPython process runs many transactions; in each, one response of the
TEST card is damaged (truncated, bit-flipped, length bytes changed, padded with
junk, status word replaced). Every transaction must end with an Outcome, and the
outcome must not be an approval when the damaged response was a cryptogram.
"""
import random

from cardkit import HostStub, MiniCard

N = 60


class DamagingCard:
    def __init__(self, card, seed):
        self.card = card
        self.rng = random.Random(seed)
        self.target = self.rng.randrange(1, 14)
        self.n = 0
        self.damaged = None
        self.how = None
        self.oda = card.oda

    def transmit(self, c):
        r = self.card.transmit(c)
        self.n += 1
        if self.n != self.target or r is None:
            return r
        data, sw = bytearray(r[:-2]), r[-2:]
        how = self.how = self.rng.randrange(6)
        if how == 0 and data:
            data = data[:self.rng.randrange(len(data))]
        elif how == 1 and data:
            i = self.rng.randrange(len(data))
            data[i] ^= 1 << self.rng.randrange(8)
        elif how == 2 and len(data) > 1:
            data[1] = self.rng.choice([0x00, 0x7F, 0x81, 0x82, 0x84, 0xFF])
        elif how == 3:
            data += bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 300)))
        elif how == 4:
            sw = bytes([self.rng.choice([0x6A, 0x69, 0x67, 0x6F, 0x62, 0x63]), self.rng.randrange(256)])
        else:
            data = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(0, 260)))
        self.damaged = c[1]
        return bytes(data) + sw


class Sequence:
    """A new damaged card for each transaction (the harness keeps one card object)."""

    def __init__(self, pki):
        self.pki = pki
        self.cards = []
        self.current = None

    def transmit(self, c):
        if c[1] == 0xA4 and c[5:5 + c[4]] == b"1PAY.SYS.DDF01":
            self.current = DamagingCard(MiniCard(self.pki, oda=["SDA", "DDA", "CDA"][len(self.cards) % 3]),
                                        seed=len(self.cards))
            self.cards.append(self.current)
        return self.current.transmit(c)


def test_damaged_responses_never_crash(pki, run):
    seq = Sequence(pki)
    results = run(seq, *[{"amount": 6000}] * N, pins=["1234"] * (3 * N), authorizer=HostStub())
    assert len(results) == N
    for card, r in zip(seq.cards, results):
        assert r.result in ("approved", "declined", "terminated", "not_accepted")
        assert r.message or r.result in ("approved", "declined")
        if card.oda == "CDA" and card.damaged == 0xAE and card.how in (1, 5):
            # a changed bit in a signed GENERATE AC response cannot pass CDA
            assert r.result != "approved", (card.target, card.how, r.trace)
    outcomes = {r.result for r in results}
    assert "terminated" in outcomes and "approved" in outcomes     # the damage mattered sometimes
