"""ISO/IEC 7811 bit encoding on the stripe: odd parity per character (LRC included) and
reverse swipes giving the same frame."""
from host_sim.devices import msr as model


def test_track2_bits_known_answer():
    # ";" = 0x3B - 0x30 = 0xB = 1011b -> LSB first 1,1,0,1 (three ones: parity 0)
    # "?" = 0xF -> 1,1,1,1 (four ones: parity 1); LRC = 0xB ^ 0xF = 0x4 -> 0,0,1,0 parity 0
    assert model.lrc(";?", 0x30) == chr(0x34)
    assert model.stripe_bits(";?", 2) == "11010" + "11111" + "00100"


def test_track1_bits_known_answer():
    # "%" = 0x25 - 0x20 = 0x05 -> 1,0,1,0,0,0 (two ones: parity 1)
    # "?" = 0x3F - 0x20 = 0x1F -> 1,1,1,1,1,0 (five ones: parity 0)
    # LRC = 0x05 ^ 0x1F = 0x1A -> 0,1,0,1,1,0 (three ones: parity 0)
    assert model.stripe_bits("%?", 1) == "1010001" + "1111100" + "0101100"


def test_every_character_has_odd_parity():
    t2 = ";4761739001010119=28122011234567890?"
    bits = model.stripe_bits(t2, 2)
    assert len(bits) == 5 * (len(t2) + 1)
    assert all(bits[i:i + 5].count("1") % 2 == 1 for i in range(0, len(bits), 5))


def test_reverse_swipe_same_frame_reversed_bits():
    card = {"pan": "4761739001010119", "expiry": "2812", "service_code": "201"}
    m = model.MagstripeReader()
    m.connect_uart(lambda b: None)
    f1 = m.swipe(card=card)
    fwd = dict(m.last_bits)
    f2 = m.swipe(card=card, direction="reverse")
    assert f1 == f2
    assert m.last_bits[2] == fwd[2][::-1] and m.last_bits[1] == fwd[1][::-1]
