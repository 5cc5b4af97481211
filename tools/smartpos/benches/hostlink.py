"""Host-link benches, measured in the run that prints them.

iso8583-codec   encode+decode of one 0200 on the virtual board (firmware codec as
                .mpy, 192 KB heap; with and without the X9.19 MAC) vs pyiso8583 on
                CPython, in the same run: rounds of each alternating, the best
                round of each side compared
acquirer-load   authorizations per second of the acquirer host simulator (its
                own process) with 50 concurrent simulated terminals on
                127.0.0.1; bounded: 50 x 20 authorizations, 120 s at most
"""
import contextlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

PAN = "4761739001010119"     # TEST card

MP_SETUP = """
import time, binascii
from pos.iso8583 import codec, mac, spec
S = spec.get("iso87")
F = {2: "4761739001010119", 3: "000000", 4: "000000001234", 7: "1122113015", 11: "000017",
     12: "113015", 13: "1122", 14: "2812", 22: "051", 23: "001", 25: "00", 41: "TERM0001",
     42: "MERCHANT0000001", 49: "978", 55: binascii.unhexlify(%(f55)r), 62: "000042"}
K = binascii.unhexlify("0123456789ABCDEFFEDCBA9876543210")
N = %(n)d
NM = max(N // 20, 5)
for m in range(3):
    codec.decode(S, codec.encode(S, "0200", F))
def _round():
    t0 = time.ticks_us()
    for i in range(N):
        codec.decode(S, codec.encode(S, "0200", F))
    t1 = time.ticks_us()
    for i in range(NM):
        body = mac.encode(S, "0200", F, K)
        m, f = codec.decode(S, body)
        mac.verify(S, body, f, K)
    t2 = time.ticks_us()
    print("@@", time.ticks_diff(t1, t0) / N, time.ticks_diff(t2, t1) / NM, len(codec.encode(S, "0200", F)))
"""

F55 = ("9F2608A1B2C3D4E5F607189F2701809F100706010A03A000009F3704DEADBEEF950500000080009A03261122"
       "9C01005F2A02097882025C009F3602001C9F02060000000012349F0306000000000000")


@contextlib.contextmanager
def _board_with_firmware():
    """The virtual board (192 KB heap, firmware .mpy in its flash)."""
    import tempfile
    from host_sim.board import VirtualBoard
    from host_sim.hosts.acquirer.terminal import firmware_mpy
    d = tempfile.mkdtemp(prefix="smartpos-bench-")
    try:
        shutil.copytree(firmware_mpy(), d, dirs_exist_ok=True)
        with VirtualBoard(d, heap="192K", firmware=False, pty=False, devices=[]) as vb:
            yield vb
    finally:
        shutil.rmtree(d, ignore_errors=True)


def iso8583_codec(rounds=9, n=300, m=1000):
    """Best per-0200 time of `rounds` rounds on each side, the rounds alternating (one on the
    virtual board, then one of pyiso8583), so that both sides meet the same spells of load
    and the best round of each is the undisturbed figure."""
    import iso8583
    from host_sim.hosts.acquirer import spec as hspec
    from host_sim.hosts.acquirer.terminal import PRELUDE
    hs = hspec.get("iso87")
    doc = {"t": "0200", "2": PAN, "3": "000000", "4": "000000001234", "7": "1122113015", "11": "000017",
           "12": "113015", "13": "1122", "14": "2812", "22": "051", "23": "001", "25": "00", "41": "TERM0001",
           "42": "MERCHANT0000001", "49": "978", "55": F55, "62": "000042"}
    for _ in range(30):                                 # warm-up
        r, _ = iso8583.encode(dict(doc), hs)
        iso8583.decode(r, hs)
    mp_best = mac_best = py_best = None
    ratios = []
    with _board_with_firmware() as vb:
        vb.exec(PRELUDE + MP_SETUP % {"f55": F55, "n": n}, timeout=300)
        for _round in range(rounds):
            out = vb.exec("_round()\n", timeout=300)
            line = [l for l in out.splitlines() if l.startswith("@@")][0].split()
            mp_us, mac_us, size = float(line[1]), float(line[2]), int(line[3])
            t0 = time.perf_counter()
            for _i in range(m):
                r, _ = iso8583.encode(dict(doc), hs)
                iso8583.decode(r, hs)
            py_us = (time.perf_counter() - t0) / m * 1e6
            ratios.append(mp_us / py_us)
            mp_best = mp_us if mp_best is None else min(mp_best, mp_us)
            mac_best = mac_us if mac_best is None else min(mac_best, mac_us)
            py_best = py_us if py_best is None else min(py_best, py_us)
    raw, _ = iso8583.encode(dict(doc), hs)
    assert len(raw) == size, "the two codecs disagree on the 0200 size"
    ratios.sort()
    return [("0200 size", size, "bytes"),
            ("rounds of each side, alternating (best of each below)", rounds, ""),
            ("virtual board encode+decode per 0200 (no MAC)", mp_best, "us"),
            ("virtual board encode+MAC+decode+verify per 0200", mac_best, "us"),
            ("pyiso8583 (CPython) encode+decode per 0200", py_best, "us"),
            ("virtual board / pyiso8583 time ratio", mp_best / py_best, "x"),
            ("ratio per round: lowest / median / highest",
             "%.3f / %.3f / %.3f" % (ratios[0], ratios[len(ratios) // 2], ratios[-1]), "x")]


def _frame(raw):
    return struct.pack(">H", len(raw)) + raw


def _recv(s):
    h = b""
    while len(h) < 2:
        c = s.recv(2 - len(h))
        if not c:
            raise OSError("closed")
        h += c
    n = struct.unpack(">H", h)[0]
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("closed")
        b += c
    return b


def _terminal(port, tid, count, deadline, results):
    """One simulated terminal (CPython, pyiso8583): sign-on, then `count` MACed sales."""
    import iso8583
    from host_sim.hosts.acquirer import hsm
    from host_sim.hosts.acquirer import spec as hspec
    spec = hspec.get("iso87")
    ok = fail = 0
    lat = []
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        raw, _ = iso8583.encode({"t": "0800", "7": "1122113015", "11": "000001", "41": tid,
                                 "42": "MERCHANT0000001", "70": "001", "128": "00" * 8}, spec)
        raw = bytes(raw[:-8]) + hsm.mac_x919(hsm.TEST_TMK["alpha"], bytes(raw[:-8]))   # sign-on MAC (TMK)
        s.sendall(_frame(raw))
        d, _ = iso8583.decode(bytearray(_recv(s)), spec)
        k = d["48"]
        i = k.index("TAK")
        tak = hsm.unwrap(hsm.TEST_TMK["alpha"], bytes.fromhex(k[i + 3:i + 35]))
        for n in range(count):
            if time.monotonic() > deadline:
                break
            doc = {"t": "0200", "2": PAN, "3": "000000", "4": "%012d" % 1, "7": "1122113015",
                   "11": "%06d" % (n + 2), "14": "2812", "22": "011", "25": "00", "41": tid,
                   "42": "MERCHANT0000001", "49": "978", "64": "00" * 8}
            raw, _ = iso8583.encode(doc, spec)
            raw = bytes(raw[:-8]) + hsm.mac_x919(tak, bytes(raw[:-8]))
            t0 = time.perf_counter()
            s.sendall(_frame(raw))
            d, _ = iso8583.decode(bytearray(_recv(s)), spec)
            lat.append(time.perf_counter() - t0)
            if d.get("39") == "00":
                ok += 1
            else:
                fail += 1
        s.close()
    except OSError:
        fail += 1
    results.append((ok, fail, lat))


def acquirer_load():
    terminals, per = 50, 20
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    p = subprocess.Popen([sys.executable, "-m", "smartpos.cli", "host", "acquirer", "--port", "0"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline()
        port = int(line.rsplit(":", 1)[1])
        results = []
        deadline = time.monotonic() + 120
        threads = [threading.Thread(target=_terminal, args=(port, "LOAD%04d" % i, per, deadline, results))
                   for i in range(terminals)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(130)
        dt = time.perf_counter() - t0
    finally:
        try:
            p.stdin.write("quit\n")
            p.stdin.flush()
            p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            p.kill()
            p.wait()
    ok = sum(r[0] for r in results)
    fail = sum(r[1] for r in results)
    lat = sorted(x for r in results for x in r[2])
    p95 = lat[int(len(lat) * 0.95)] * 1000 if lat else 0.0
    return [("concurrent terminals", terminals, ""),
            ("authorizations approved", ok, ""),
            ("authorizations failed", fail, ""),
            ("authorizations per second (wall time incl. 50 sign-ons)", ok / dt, "auth/s"),
            ("latency p95", p95, "ms")]


BENCHES = {"iso8583-codec": iso8583_codec, "acquirer-load": acquirer_load}
