"""The log's PAN filter on real MicroPython: every maximal run of 13-19 ASCII digits in a logged
string is masked (first 6, last 4), nothing else changes; held against a regular expression over
strings built to put runs at every offset, next to letters, other runs and multi-byte text."""
import json
import random
import re

from host_sim import mpy

_RUN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")


def reference(s):
    return _RUN.sub(lambda m: m.group(0)[:6] + "*" * (len(m.group(0)) - 10) + m.group(0)[-4:], s)


def cases():
    rnd = random.Random(17)
    out = ["", "1234567890123", "A0000000031010", "4761739001010010 exp 2512",
           "pan=4761739001010010&x=5413330089010434", "12345678901234567890", "1" * 12, "1" * 13,
           "1" * 19, "1" * 20, "x" * 12 + "4761739001010010", "€" + "4" * 16 + "日本" + "5" * 13]
    for _ in range(400):
        parts = []
        for _ in range(rnd.randrange(1, 6)):
            kind = rnd.randrange(4)
            if kind == 0:
                parts.append("".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 24))))
            elif kind == 1:
                parts.append("".join(rnd.choice("abc XYZ=-,.") for _ in range(rnd.randrange(1, 15))))
            elif kind == 2:
                parts.append(rnd.choice(["€", "日", "ü", "字节"]))
            else:
                parts.append(" ")
        out.append("".join(parts))
    return out


def test_digit_runs_masked_as_the_reference_does():
    strings = cases()
    code = ("import json\nfrom pos.log import _mask_digit_runs\n"
            "print(json.dumps([_mask_digit_runs(s) for s in json.loads(%r)]))" % json.dumps(strings))
    got = json.loads(mpy.run(code).strip().splitlines()[-1])
    assert len(got) == len(strings)
    for s, g in zip(strings, got):
        assert g == reference(s), s
    assert got[1] == "123456***0123" and got[2] == "A000000***1010"   # a 13-digit run in an AID too
    assert sum(1 for s, g in zip(strings, got) if s != g) > 40          # the cases do hold PANs


def test_mask_pan_keeps_first_six_and_last_four_of_whatever_it_is_given():
    code = ("from pos.log import mask_pan, redact\n"
            "for v in ('4761739001010119', b'4761739001010119', bytearray(b'5413330089010434'),\n"
            "          memoryview(b'4761739001010119'), 4761739001010119, '1234567890123456789', '12345'):\n"
            "    print(mask_pan(v))\n"
            "print(redact('pan', '4761739001010119'), redact('msg', 'card 4761739001010119'), redact('n', 12))\n")
    got = mpy.run(code).split()
    assert got == ["476173******0119", "476173******0119", "541333******0434", "476173******0119",
                   "476173******0119", "123456*********6789", "*****",
                   "476173******0119", "card", "476173******0119", "12"]
