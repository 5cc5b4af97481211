"""Run many pos.crypto / pos.emv.tlv calls in one MicroPython process (192 KB heap).

Calls are (function name, [args]) with bytes as {"h": hex}; results come back
the same way, or {"err": "ClassName: message"} when the call raised.
"""
import json

from host_sim import mpy

_RUNNER = r"""
import json, binascii
from pos import crypto
from pos.emv import tlv, dol
MODS = (crypto, tlv, dol)
def dec(v):
    if isinstance(v, dict):
        return binascii.unhexlify(v["h"])
    if isinstance(v, list):
        return [dec(x) for x in v]
    return v
def enc(v):
    if isinstance(v, (bytes, bytearray)):
        return {"h": binascii.hexlify(v).decode()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    return v
def fn(name):
    for m in MODS:
        f = getattr(m, name, None)
        if f:
            return f
    raise KeyError(name)
calls = json.loads(CALLS)
CALLS = None
for name, args in calls:
    try:
        r = fn(name)(*dec(args))
        if name == "tlv_iter":
            r = list(r)
        r = enc(r)
    except Exception as e:
        r = {"err": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(r))
"""


def enc(v):
    if isinstance(v, (bytes, bytearray)):
        return {"h": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    return v


def dec(v):
    if isinstance(v, dict) and "h" in v:
        return bytes.fromhex(v["h"])
    if isinstance(v, list):
        return [dec(x) for x in v]
    return v


def _chunks(calls, budget=4000):
    chunk, size = [], 0
    for name, args in calls:
        item = [name, enc(list(args))]
        n = len(json.dumps(item))
        if chunk and size + n > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += n
    if chunk:
        yield chunk


def call_many(calls, heap="192K"):
    """Results in order; the calls run in as few MicroPython processes as fit the heap."""
    results = []
    for chunk in _chunks(calls):
        out = mpy.run("CALLS = %r\n" % json.dumps(chunk) + _RUNNER, heap=heap, timeout=300)
        for line in out.strip().splitlines():
            r = json.loads(line)
            results.append(r if isinstance(r, dict) and "err" in r else dec(r))
    return results
