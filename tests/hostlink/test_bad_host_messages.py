"""Malformed host messages: unknown MTI, bad length header, field/bitmap mismatch, garbage.
Each ends in a logged (masked) error, a reversal or decline, and a readable journal."""
import socket
import struct
import threading

import iso8583
import pytest

from host_sim.hosts.acquirer import hsm
from host_sim.hosts.acquirer import spec as hspec
from hostlink.terminal import Terminal

PAN = "4761739001010119"


class RogueHost:
    """Answers sign-on like a real host (keys under the TEST TMK), then answers
    financial requests with `reply(request_fields, tak) -> raw frame bytes`."""

    def __init__(self, reply):
        self.reply = reply
        self.seen = []
        self.tak = hsm.new_key()
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.spec_name = "iso87"
        self.stop = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        spec = hspec.get("iso87")
        try:
            while True:
                h = c.recv(2)
                if len(h) < 2:
                    return
                n = struct.unpack(">H", h)[0]
                body = b""
                while len(body) < n:
                    body += c.recv(n - len(body))
                doc, _ = iso8583.decode(bytearray(body), spec)
                self.seen.append(doc["t"])
                if doc["t"] == "0800":
                    cg, cv = hsm.wrap(hsm.TEST_TMK["alpha"], self.tak)
                    r = {"t": "0810", "11": doc["11"], "39": "00", "41": doc["41"], "70": "001",
                         "48": "TAK" + cg.hex().upper() + cv.hex().upper()}
                    r["128"] = "00" * 8                              # the 0810 is MACed under the TMK
                    raw, _ = iso8583.encode(r, spec)
                    raw = bytes(raw[:-8]) + hsm.mac_x919(hsm.TEST_TMK["alpha"], bytes(raw[:-8]))
                    c.sendall(struct.pack(">H", len(raw)) + raw)
                elif doc["t"] == "0400":
                    r = {"t": "0410", "11": doc["11"], "39": "00", "41": doc["41"], "64": "00" * 8}
                    raw, _ = iso8583.encode(r, spec)
                    raw = bytes(raw[:-8]) + hsm.mac_x919(self.tak, bytes(raw[:-8]))
                    c.sendall(struct.pack(">H", len(raw)) + raw)
                else:
                    out = self.reply(doc, self.tak)
                    if out is None:
                        c.close()
                        return
                    c.sendall(out)
        except OSError:
            return

    def close(self):
        self.stop = True
        self.s.close()


def _framed(doc, tak=None):
    spec = hspec.get("iso87")
    if tak is not None:
        doc = dict(doc, **{"64": "00" * 8})
    raw, _ = iso8583.encode(doc, spec)
    raw = bytes(raw)
    if tak is not None:
        raw = raw[:-8] + hsm.mac_x919(tak, raw[:-8])
    return struct.pack(">H", len(raw)) + raw


def _ok_reply(doc, tak, **over):
    r = {"t": "0210", "11": doc["11"], "37": "000000000001", "38": "123456", "39": "00", "41": doc["41"]}
    r.update(over)
    return r


BAD = {
    "unknown MTI": lambda d, k: _framed(dict(_ok_reply(d, k), t="0999"), k),
    "wrong STAN only": lambda d, k: _framed(_ok_reply(d, k, **{"11": "999999"}), k),
    "length header zero": lambda d, k: b"\x00\x00",
    "length header past the end": lambda d, k: b"\x0f\xff" + _framed(_ok_reply(d, k), k)[2:],
    "bitmap/field mismatch": lambda d, k: (lambda f: f[:8] + bytes([f[8] | 0x01]) + f[9:])(
        _framed(_ok_reply(d, k), k)),
    "truncated field": lambda d, k: (lambda f: struct.pack(">H", len(f) - 12) + f[2:-10])(
        _framed(_ok_reply(d, k), k)),
    "no MAC on approval": lambda d, k: _framed(_ok_reply(d, k)),
    "garbage": lambda d, k: b"\x00\x10" + b"\xff" * 16,
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_host_message_ends_in_reversal_or_decline_and_journal_stays_readable(tmp_path, case):
    host = RogueHost(BAD[case])
    try:
        t = Terminal(tmp_path, {"alpha": host}, timeout_ms=700, drop_missing=True)
        r, st, logs = t.run("""
req, r = sale(4200)
out(resp_dict(r)); out(state()); out(_LOG)
""")
        assert not r["approved"]
        assert "0400" in host.seen, host.seen                 # the request may have been charged: reversed
        assert st["pending"] == [] and st["net"] == 0
        assert list(st["states"].values()) == ["reversed"]
        text = "\n".join(logs)
        assert "ERROR" in text and PAN not in text
        # the journal reads back whole after a reboot
        (st2,) = t.run("out(state())")
        assert st2["states"] == st["states"] and st2["discarded"] == 0
    finally:
        host.close()
