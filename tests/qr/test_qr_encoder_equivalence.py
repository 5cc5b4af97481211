"""The firmware's QR encoder (run on MicroPython) against two references: the encoder it
replaced (tests/qr/reference_encoder.py, on the same MicroPython: same version, same mask
choice, same penalty score, same modules) and python-qrcode (an independent encoder, given
the version and mask ours chose: same modules); and the merchant payload read back by zbar."""
import json
import os
import random
import string
import shutil
import subprocess

import pytest
import qrcode
import qrcode.util
from PIL import Image

from host_sim import mpy

HERE = os.path.dirname(os.path.abspath(__file__))
ZBAR = shutil.which("zbarimg")

# the qr-merchant demo's payload (EMVCo MPM, 159 characters: version 9)
MERCHANT = ("00020101021226420019com.smartpos.wallet0115MERCHANT0000001520458125303840540512.50"
            "5802US5919SMARTPOS DEMO STORE6009SAN DIEGO62230107W0001230708TERM00016304C45D")
PAYLOADS = [MERCHANT, "", "A", "y" * 10, "y" * 213, "0" * 178, bytes(range(200)).hex()[:120]] + \
    [("SMARTPOS-%d-" % n + "0123456789ABCDEFGHIJ" * 20)[:n] for n in (5, 20, 40, 60, 80, 100, 120, 150, 178, 210)] + \
    ["MASK-5"]                                     # the one mask the others leave unchosen
# seeded random payloads of every length class (digits, upper-case alphanumerics, any printable
# text, text with 2- and 3-byte UTF-8 characters), byte mode all: many symbols, masks and scores
_RNG = random.Random(17)
_ALPHABETS = ("0123456789", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", string.printable,
              "abc\u00e9\u00fc\u20ac\u00df123")
RANDOM_PAYLOADS = ["".join(_RNG.choice(_ALPHABETS[i % 4]) for _ in range(_RNG.randint(1, 70 if i % 4 == 3 else 213)))
                   for i in range(48)]

_RUN = r"""
import json
import reference_encoder as before
from pos.qr import encoder
def rows(q):
    return ["".join("1" if q.get(x, y) else "0" for x in range(q.size)) for y in range(q.size)]
for data, min_version in CASES:
    a = encoder.encode(data, min_version)
    b = before.encode(data, min_version)
    print(json.dumps([a.version, a.mask, a.mask_score, rows(a), b.version, b.mask_score, rows(b)]))
"""


def _encode_all(cases):
    code = "import json\nCASES = json.loads(%r)\n" % json.dumps(cases) + _RUN
    out = mpy.run(code, heap="2M", extra_path=(HERE,), timeout=300)
    return [json.loads(line) for line in out.strip().splitlines()]


def _python_qrcode(data, version, mask):
    q = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M,
                      mask_pattern=mask, border=0)
    raw = data.encode() if isinstance(data, str) else data
    q.add_data(qrcode.util.QRData(raw, mode=qrcode.util.MODE_8BIT_BYTE))   # byte mode, as ours
    q.make(fit=False)
    return ["".join("1" if m else "0" for m in row) for row in q.get_matrix()]


def test_same_symbol_as_the_encoder_it_replaced_and_as_python_qrcode():
    cases = [[p, 1] for p in PAYLOADS + RANDOM_PAYLOADS] + [["hello", v] for v in range(1, 11)]
    results = _encode_all(cases)
    assert len(results) == len(cases)
    versions = set()
    masks = set()
    for (data, min_version), (v, mask, score, rows, v0, score0, rows0) in zip(cases, results):
        assert (v, score, rows) == (v0, score0, rows0), (data, min_version)
        assert 0 <= mask <= 7 and len(rows) == 17 + 4 * v
        if data:                                   # python-qrcode writes no segment for no data
            assert rows == _python_qrcode(data, v, mask), (data, v, mask)
        versions.add(v)
        masks.add(mask)
    assert versions == set(range(1, 11))
    assert masks == set(range(8))                  # every mask's pattern and format information
    assert results[0][0] == 9                      # the merchant payload is a version-9 symbol


@pytest.mark.skipif(ZBAR is None, reason="zbar-tools not installed")
def test_merchant_payload_decodes(tmp_path):
    (v, mask, score, rows, *_), = _encode_all([[MERCHANT, 1]])
    scale, quiet = 4, 4
    img = Image.new("1", ((len(rows) + 2 * quiet) * scale,) * 2, 1)
    for y, row in enumerate(rows):
        for x, c in enumerate(row):
            if c == "1":
                img.paste(0, ((x + quiet) * scale, (y + quiet) * scale, (x + quiet + 1) * scale, (y + quiet + 1) * scale))
    path = str(tmp_path / "merchant.png")
    img.save(path)
    out = subprocess.run([ZBAR, "--raw", "-q", path], capture_output=True, text=True).stdout
    assert out.rstrip("\n") == MERCHANT


def test_a_2000_character_payload_is_refused_cleanly():
    out = mpy.run("import gc\nfrom pos.qr import encoder\n"
                  "gc.collect()\na = gc.mem_alloc()\n"
                  "try:\n encoder.encode('x' * 2000)\nexcept encoder.QRError as e:\n print('QRError', e)\n"
                  "print(encoder.encode('after').version)\n")
    lines = out.strip().splitlines()
    assert lines[0] == "QRError 2000 bytes do not fit a version-10 QR code at level M (at most 213)"
    assert lines[1] == "1"                          # the encoder still works after the refusal
