"""The C core's QR encoder (cffi) held equal to the firmware's pure one (on MicroPython):
same version, mask, penalty score and modules for every version, the qr-merchant payload and
binary data; the same refusal for data past version 10."""
import json
import os

import posnative
import pytest

from host_sim import mpy

MERCHANT = ("00020101021226420019com.smartpos.wallet0115MERCHANT0000001520458125303840540512.50"
            "5802US5919SMARTPOS DEMO STORE6009SAN DIEGO62230107W0001230708TERM00016304C45D")
CASES = [[MERCHANT, 1], ["", 1], ["A", 1], ["y" * 213, 1], ["\u00e9t\u00e9 \u20ac", 1]] + \
    [[("SMARTPOS-%d-" % n + "0123456789ABCDEFGHIJ" * 20)[:n], 1]
     for n in (5, 20, 40, 60, 80, 100, 120, 150, 178, 210)] + [["hello", v] for v in range(1, 11)]

_PURE = r"""
import json
import os
from pos.qr import encoder
for data, min_version in json.loads(%r):
    q = encoder.encode(data, min_version)
    print(json.dumps([q.version, q.mask, q.mask_score, "".join("%%02x" %% b for b in q.bits)]))
"""


def test_c_encoder_equals_the_pure_one():
    out = mpy.run(_PURE % json.dumps(CASES), heap="2M", timeout=300)
    pure = [json.loads(line) for line in out.strip().splitlines()]
    assert len(pure) == len(CASES)
    versions = set()
    for (data, min_version), (v, mask, score, bits) in zip(CASES, pure):
        cv, cmask, cscore, cbits = posnative.qr_encode(data.encode(), min_version)
        assert (cv, cmask, cscore, cbits.hex()) == (v, mask, score, bits), (data, min_version)
        versions.add(v)
    assert versions == set(range(1, 11))


def test_c_encoder_refuses_what_does_not_fit():
    with pytest.raises(posnative.NativeError) as e:
        posnative.qr_encode(b"x" * 2000)
    assert e.value.status == "PN_ERR_DATA_LENGTH"
    with pytest.raises(posnative.NativeError):
        posnative.qr_encode(b"x" * 214)
    assert posnative.qr_encode(b"x" * 213)[0] == 10


_NATIVE_MP = os.environ.get("SMARTPOS_MICROPYTHON_NATIVE") or os.path.join(
    mpy.REPO_ROOT, "native", "build", "micropython-smartpos")


@pytest.mark.skipif(not os.path.exists(_NATIVE_MP), reason="no MicroPython built with _posnative "
                    "(docs/native.md: native/build/micropython-smartpos)")
def test_the_firmware_takes_the_c_encoder_when_built_in(monkeypatch):
    code = _PURE % json.dumps(CASES[:6]) + "print(encoder.BACKEND)\n"
    pure = mpy.run(code, heap="2M").strip().splitlines()
    monkeypatch.setenv("SMARTPOS_MICROPYTHON", _NATIVE_MP)
    native = mpy.run(code, heap="2M").strip().splitlines()
    assert pure[-1] == "pure" and native[-1] == "native"
    assert native[:-1] == pure[:-1]
