"""The firmware's QR encoder (run on real MicroPython) read back by a real decoder (zbar),
EMVCo MPM payloads built/parsed with CRC checks and bad input, CPM decode, and the
merchant-presented QR on the virtual board's display."""
import base64
import binascii
import os
import shutil
import subprocess

import pytest
from PIL import Image

from host_sim import mpy

ZBAR = shutil.which("zbarimg")


def _matrix(payload):
    out = mpy.run("from pos.qr import encoder\n"
                  "q = encoder.encode(%r)\n"
                  "print(q.version)\n"
                  "print(','.join(''.join('1' if q.get(x, y) else '0' for x in range(q.size)) for y in range(q.size)))"
                  % payload, heap="192K", timeout=120)
    v, rows = out.strip().splitlines()[-2:]
    return int(v), rows.split(",")


def _decode(rows, tmp_path, scale=4, quiet=4):
    s = len(rows)
    img = Image.new("1", ((s + 2 * quiet) * scale,) * 2, 1)
    px = img.load()
    for y, r in enumerate(rows):
        for x, c in enumerate(r):
            if c == "1":
                for dy in range(scale):
                    for dx in range(scale):
                        px[(x + quiet) * scale + dx, (y + quiet) * scale + dy] = 0
    p = str(tmp_path / "q.png")
    img.save(p)
    return subprocess.run([ZBAR, "--raw", "-q", p], capture_output=True, text=True).stdout.rstrip("\n")


@pytest.mark.skipif(ZBAR is None, reason="zbar-tools not installed")
@pytest.mark.parametrize("n,version", [(5, 1), (20, 2), (40, 3), (60, 4), (80, 5), (100, 6), (120, 7),
                                       (150, 8), (178, 9), (210, 10)])
def test_every_version_decodes(n, version, tmp_path):
    payload = ("SMARTPOS-%d-" % n + "0123456789ABCDEFGHIJ" * 20)[:n]
    v, rows = _matrix(payload)
    assert v == version and len(rows) == 17 + 4 * version
    assert _decode(rows, tmp_path) == payload


def test_too_long_is_refused():
    out = mpy.run("from pos.qr import encoder\ntry:\n encoder.encode('x' * 300)\nexcept encoder.QRError as e:\n print('QRError', e)")
    assert out.startswith("QRError 300 bytes do not fit a version-10")


_MPM = r"""
from pos.qr import emvco
p = emvco.build_mpm({"26": {"00": "com.smartpos.wallet", "01": "MERCHANT0000001"}}, "5812", "840", "US",
                    "SMARTPOS DEMO STORE", "SAN DIEGO", amount=%d, bill="000042", terminal="TERM0001")
print(p)
d = emvco.parse_mpm(p)
print(emvco.amount_minor(d), d["26"]["01"], d["62"]["07"])
for bad in %r:
    try:
        emvco.parse_mpm(bad)
        print("accepted")
    except emvco.MpmError as e:
        print("MpmError", e)
"""


def test_mpm_round_trip_crc_and_bad_payloads():
    good = mpy.run(_MPM % (1250, []), heap="192K").split("\n")[0]
    assert good[-8:-4] == "6304"
    assert "%04X" % binascii.crc_hqx(good[:-4].encode(), 0xFFFF) == good[-4:]   # CRC-16/CCITT-FALSE
    bads = [good[:-1] + ("0" if good[-1] != "0" else "1"),     # CRC
            good.replace("5204", "5299", 1),                  # length runs past the end
            "0002010102126304ABCD",                           # mandatory objects missing / CRC
            good[4:],                                         # 00 not first
            "00020101021" + "x" * 600]                        # oversized
    out = mpy.run(_MPM % (1250, bads), heap="192K").strip().split("\n")
    assert out[1] == "1250 MERCHANT0000001 TERM0001"
    assert out[2].startswith("MpmError 63 CRC")
    assert all(l.startswith("MpmError") for l in out[2:]), out


def _tlv(id_, value):
    return "%s%02d%s" % (id_, len(value), value)


def _with_crc(body):
    body += "6304"
    return body + "%04X" % binascii.crc_hqx(body.encode(), 0xFFFF)


def _payload_with_language_and_unreserved(bill):
    """A payload as another acquirer's terminal would print it: 64 (alternate language) and
    80/99 (unreserved templates) next to the usual objects; built here, not by the firmware."""
    return _with_crc(_tlv("00", "01") + _tlv("01", "12")
                     + _tlv("26", _tlv("00", "com.smartpos.wallet") + _tlv("01", "MERCHANT0000001"))
                     + _tlv("52", "5812") + _tlv("53", "840") + _tlv("54", "12.50") + _tlv("58", "US")
                     + _tlv("59", "SMARTPOS DEMO STORE") + _tlv("60", "SAN DIEGO")
                     + _tlv("62", _tlv("01", bill))
                     + _tlv("64", _tlv("00", "ZH") + _tlv("01", "智能收银") + _tlv("02", "圣地亚哥"))
                     + _tlv("80", _tlv("00", "com.example.loyalty") + _tlv("01", "MEMBER-77"))
                     + _tlv("99", _tlv("00", "A000000999") + _tlv("05", "X")))


_PARSE = r"""
from pos.qr import emvco
for p in %r:
    try:
        d = emvco.parse_mpm(p)
        print("ok", *("%%s=%%s" %% (t, ",".join(k + ":" + d[t][k] for k in sorted(d[t]))) for t in ("64", "80", "99", "62")))
    except emvco.MpmError as e:
        print("MpmError", e)
"""


def test_mpm_language_and_unreserved_templates_split_into_sub_fields():
    p = _payload_with_language_and_unreserved("000042")
    out = mpy.run(_PARSE % ([p],), heap="192K").strip().split("\n")
    assert out == ["ok 64=00:ZH,01:智能收银,02:圣地亚哥 80=00:com.example.loyalty,01:MEMBER-77 "
                   "99=00:A000000999,05:X 62=01:000042"], out


def test_mpm_bad_sub_fields_in_the_new_templates_are_refused():
    good = _payload_with_language_and_unreserved("000042")
    broken_64 = _with_crc(good[:-8].replace(_tlv("00", "ZH"), "0009ZH", 1))         # runs past 64's end
    broken_80 = _with_crc(good[:-8].replace(_tlv("01", "MEMBER-77"), "0199MEMBER-77", 1))  # runs past 80's end
    out = mpy.run(_PARSE % ([broken_64, broken_80],), heap="192K").strip().split("\n")
    assert out[0].startswith("MpmError template 64"), out
    assert out[1].startswith("MpmError template 80"), out


def test_mpm_lowercase_crc_is_refused():
    # a bill number whose CRC has a letter in it, so lowercase differs from uppercase
    p = next(q for q in (_payload_with_language_and_unreserved("%06d" % n) for n in range(100))
             if any(c in "ABCDEF" for c in q[-4:]))
    lower = p[:-4] + p[-4:].lower()
    out = mpy.run(_PARSE % ([p, lower],), heap="192K").strip().split("\n")
    assert out[0].startswith("ok "), out
    assert out[1] == "MpmError 63 CRC %s must be uppercase hexadecimal (%s)" % (lower[-4:], p[-4:]), out


def test_cpm_decode():
    body = bytes.fromhex("4F07A0000000031010" "5A084761739001010010" "5F2403281231")
    payload = bytes.fromhex("8505") + b"CPV01" + bytes([0x61, len(body)]) + body
    text = base64.b64encode(payload).decode()
    out = mpy.run("from pos.qr import emvco\n"
                  "d = emvco.decode_cpm(%r)\n"
                  "print(d[0x85], d[0x4F].hex(), d[0x5F24].hex())\n"
                  "try:\n emvco.decode_cpm('!!not base64')\nexcept emvco.MpmError as e:\n print('MpmError', e)" % text)
    lines = out.strip().split("\n")
    assert lines[0] == "b'CPV01' a0000000031010 281231"
    assert lines[1].startswith("MpmError")


@pytest.mark.skipif(ZBAR is None, reason="zbar-tools not installed")
def test_merchant_qr_on_the_display_decodes_to_the_payload(tmp_path, capsys):
    from smartpos.demos import qr

    class Args:
        save_display = str(tmp_path / "qr.png")
    ok, outcome = qr.SCENARIOS["qr-merchant"](Args())
    assert ok, outcome
    decoded = subprocess.run([ZBAR, "--raw", "-q", Args.save_display], capture_output=True, text=True).stdout.strip()
    assert decoded.startswith("000201010212") and "540512.50" in decoded
    assert "%04X" % binascii.crc_hqx(decoded[:-4].encode(), 0xFFFF) == decoded[-4:]
