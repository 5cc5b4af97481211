"""Run pos.tms.tr31 / pos.tms.keyinject on real MicroPython (the board's 192 KB heap) over many blocks.

Cases go to the board process as JSON lines in a file (one process for a whole batch);
each answer comes back as one JSON line: the opened block's fields, or the refusal.
"""
import json
import warnings

from host_sim import mpy
from host_sim.hosts.acquirer.terminal import device_key_code

warnings.filterwarnings("ignore", module="psec")
AES_BACKEND = None

_UNWRAP = r"""
import json, gc
gc.collect()
base = gc.mem_alloc()
from pos.tms import tr31
f = open("cases.jsonl")
while True:
    line = f.readline()
    if not line:
        break
    c = json.loads(line)
    line = None
    try:
        kb = tr31.unwrap(bytes.fromhex(c[0]), c[1], c[2])
        r = {"key": kb.key.hex(), "usage": kb.usage, "alg": kb.algorithm, "mode": kb.mode,
             "kv": kb.key_version, "exp": kb.exportability, "opt": kb.optional, "kcv": kb.kcv().hex(),
             "repr": repr(kb)}
    except tr31.KeyBlockError as e:
        r = {"err": type(e).__name__, "reason": e.reason, "msg": str(e)}
    c = None
    print(json.dumps(r))
r = kb = None
f.close()
gc.collect()
print("@@heap " + str(gc.mem_alloc() - base))
from pos import crypto
print("@@aes " + crypto.backend("aes_cmac"))
"""


def unwrap_many(tmp_path, cases, heap=mpy.DEFAULT_HEAP):
    """cases: [(kbpk bytes, block str, kbpk algorithm)] -> [answer dict], heap the firmware keeps
    after them (module, crypto tables, caches; after a collection).

    Sets AES_BACKEND to where the firmware's AES comes from ('pure': no AES-192)."""
    global AES_BACKEND
    with open(tmp_path / "cases.jsonl", "w") as f:
        for kbpk, block, alg in cases:
            f.write(json.dumps([kbpk.hex(), block, alg]) + "\n")
    out = mpy.run(_UNWRAP, heap=heap, cwd=str(tmp_path), timeout=600)
    answers, kept = [], None
    for line in out.splitlines():
        if line.startswith("@@aes "):
            AES_BACKEND = line[6:].strip()
        elif line.startswith("@@heap "):
            kept = int(line[7:])
        elif line.strip():
            answers.append(json.loads(line))
    assert len(answers) == len(cases), out[-2000:]
    return answers, kept


def run_on_flash(flash_dir, code, heap=mpy.DEFAULT_HEAP):
    """Run `code` with the key store of a flash folder open as `ks`; return the JSON of its '@@' lines."""
    prelude = ("DEVICE = %s\n" % device_key_code()) + ("import json\nfrom pos.store.keystore import KeyStore, KeyStoreError\n"
               "from pos.tms import keyinject, tr31\nks = KeyStore('keys.kld', '.', DEVICE)\n"
               "def answer(fn):\n"
               "    try:\n        r = fn()\n"
               "    except tr31.KeyBlockError as e:\n        r = {'err': type(e).__name__, 'reason': e.reason, 'msg': str(e)}\n"
               "    except KeyStoreError as e:\n        r = {'err': 'KeyStoreError', 'msg': str(e)}\n"
               "    print('@@' + json.dumps(r))\n")
    out = mpy.run(prelude + code, heap=heap, cwd=str(flash_dir), timeout=600)
    return [json.loads(l[2:]) for l in out.splitlines() if l.startswith("@@")]
