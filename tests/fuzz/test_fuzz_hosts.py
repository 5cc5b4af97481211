"""The hosts' request parsers (CPython): the wallet host's HTTP/JSON requests and the
acquirer host's ISO 8583 requests.

  wallet host     every request gets an HTTP answer: JSON with 200/201 (done), 400 (malformed:
                  bad Content-Length, body not a JSON object, bad amount), 401 (signature),
                  404, 409, 413 (too large) or 503; http.server's own 400/501 for a request line
                  or method it does not take.  The connection is never dropped unanswered.
  acquirer host   handle() answers a request (response code 30 "format error" when a field is
                  not of its type) or returns None for bytes that are not an ISO 8583 message;
                  it never raises and no handler fails (which would answer 96).
"""
import itertools
import json
import time
import logging
import socket

import iso8583
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import fuzz_settings, mutated, record, reached
from host_sim.hosts.acquirer import hsm
from host_sim.hosts.acquirer import spec as hspec
from host_sim.hosts.acquirer.server import AcquirerHost
from host_sim.hosts.wallet import WalletHost, sign, terminal_key
from hostlink.messages import SAMPLES

# -- wallet host ------------------------------------------------------------------------------
_PATHS = ("/v1/orders", "/v1/pay", "/v1/pay/query", "/v1/pay/reverse", "/v1/orders/W000001",
          "/v1/orders/W000001/cancel", "/sim/pay/W000001", "/", "/v1/orders/")
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 12), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(("WALLET-OK-1", "WALLET-NOFUNDS-2", "978", "k1")))
_VALUE = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=2), st.dictionaries(st.text(max_size=3), _SCALAR, max_size=2))
_JSON = st.one_of(
    st.fixed_dictionaries({}, optional={"amount": _VALUE, "currency": _VALUE, "reference": _VALUE,
                                        "code": _VALUE, "idempotency_key": _VALUE}),
    st.lists(_SCALAR, max_size=3), _SCALAR)


@st.composite
def _wallet_request(draw):
    if draw(st.integers(0, 3)) == 0:          # a well-formed request now and then: the paths past the checks
        method, path = "POST", draw(st.sampled_from(("/v1/pay", "/v1/orders")))
        body = json.dumps({"amount": draw(st.integers(1, 10 ** 6)), "currency": "978", "reference": "R1",
                           "code": draw(st.sampled_from(("WALLET-OK-1", "WALLET-NOFUNDS-2", "OTHER"))),
                           "idempotency_key": draw(st.text("abc123", max_size=4) | _VALUE)}).encode()
        term, ts, rid = "TERM0001", str(int(time.time())), _request_id()
        return (_http(method, path, body, term, ts, sign(terminal_key(term), method, path, ts, rid, body),
                      str(len(body)), rid), str(len(body)))
    method = draw(st.sampled_from(("GET", "POST", "POST", "PUT", "DELETE")))
    path = draw(st.sampled_from(_PATHS) | st.text(alphabet="abcdefW0123456789/._-%", max_size=24).map(lambda s: "/" + s))
    body = draw(_JSON.map(lambda o: json.dumps(o).encode()) | st.binary(max_size=40))
    term = draw(st.sampled_from(("TERM0001", "TERM0001", "TERM0002", "NOPE", "")))
    ts = draw(st.sampled_from((str(int(time.time())),) * 3 + ("1700000000", "x", "")))
    rid = draw(st.sampled_from((_request_id(),) * 3 + ("", "r" * 80)))
    sig = (sign(terminal_key(term), method, path, ts, rid, body) if draw(st.integers(0, 4))
           else draw(st.text("0123456789abcdef", max_size=64)))
    length = draw(st.sampled_from((str(len(body)),) * 4 + ("-1", "-100", "abc", "99999", "1e3", " 5", "", None)))
    return _http(method, path, body, term, ts, sig, length, rid), length


_ids = itertools.count()


def _request_id():
    return "fuzz-%d" % next(_ids)


def _http(method, path, body, term, ts, sig, length, rid=""):
    head = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "X-Terminal: " + term, "X-Timestamp: " + ts,
            "X-Request-Id: " + rid, "X-Signature: " + sig]
    if length is not None:
        head.append("Content-Length: " + length)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _exchange(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)              # the client sent all it will send
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.fixture(scope="module")
def wallet():
    w = WalletHost(port=0).start()
    yield w
    w.stop()


def test_wallet_host_requests(wallet):
    @fuzz_settings(250)
    @given(_wallet_request())
    def prop(req):
        raw, length = req
        out = _exchange(wallet.port, raw)
        assert out.startswith(b"HTTP/1."), "connection dropped without an answer: %r" % out[:80]
        status = int(out.split(b" ", 2)[1])
        head, _, body = out.partition(b"\r\n\r\n")
        if b"application/json" in head:
            json.loads(body)
            assert status in (200, 201, 400, 401, 404, 409, 413, 503), status
        else:                                   # http.server's own refusals (request line, method)
            assert status in (400, 501), status
        if length is not None and not length.strip().isdigit() and status != 501:   # (leading space: folded)
            assert status == 400, "Content-Length %r answered %d" % (length, status)
        record("wallet host requests", "%d" % status)
    prop()
    reached("wallet host requests", "200", "400", "401")


# -- acquirer host ----------------------------------------------------------------------------
TID = "TERM0001"
_REQUESTS = [(m, f) for m, f in SAMPLES if m[2] in "02"]     # requests (0100, 0200, 0220, 0320, 0400, 0500, 0800)


class _Failures(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _signed_on(spec):
    host = AcquirerHost(port=0, name="alpha", spec=spec)
    doc = hspec.to_host(spec, {3: "990000", 11: "000001", 41: TID, 70: "001", 128: bytes(8)})
    doc["t"] = "0800"
    raw = bytes(iso8583.encode(doc, host.spec)[0])
    raw = raw[:-8] + hsm.mac_x919(host.tmk_for(TID), raw[:-8])      # sign-on is MACed under the TMK
    r = host.handle(raw)
    assert r is not None and host.terminal_keys[TID]["tak"], "sign-on failed"
    return host


@st.composite
def _field_value(draw, spec, n):
    """A value pyiso8583 can put in field n of `spec`, often not of the field's type
    (letters in a numeric field, a separator in the wrong place)."""
    f = spec[str(n)]
    size = f["max_len"] if f["len_type"] == 0 else draw(st.integers(0, min(f["max_len"], 24)))
    if f["data_enc"] == "b" and f.get("len_count") == "nibbles":
        alphabet = "0123456789" if draw(st.integers(0, 2)) else "0123456789ABCDEF"
        size -= size % 2 if n not in hspec.NUMERIC + hspec.TRACK2 else 0
    else:
        alphabet = "0123456789" if draw(st.integers(0, 2)) else "0123456789 -.=DAZaz/"
    return draw(st.text(alphabet=alphabet, min_size=size, max_size=size))


@st.composite
def _acquirer_request(draw, host, name):
    mti, fields = draw(st.sampled_from(_REQUESTS))
    f = {**fields, 41: TID}
    for _ in range(draw(st.integers(0, 3))):
        n = draw(st.sampled_from((2, 3, 4, 7, 11, 14, 22, 23, 35, 49, 60, 63, 70, 90)))
        f[n] = draw(_field_value(host.spec, n))
    if draw(st.integers(0, 5)) == 0:
        mti = draw(st.sampled_from(("0800", "0100", "9999", "0x00", "02a0", "0620")))
    body = None
    for m, fs in ((mti, f), (fields and mti, {**fields, 41: TID}), (_REQUESTS[0][0], {**fields, 41: TID})):
        doc = hspec.to_host(name, {**fs, 64: bytes(8)})
        doc["t"] = m
        try:
            body = bytes(iso8583.encode(doc, host.spec)[0])
            break
        except iso8583.EncodeError:
            continue                          # not even pyiso8583 can send that: take less damage
    body = body[:-8] + hsm.mac_x919(host.terminal_keys[TID]["tak"], body[:-8])   # MAC right: handlers run
    if draw(st.integers(0, 3)) == 0:
        body = draw(mutated(st.just(body), max_ops=2))
    return body


@pytest.mark.parametrize("name", ["iso87", "iso87bcd"])
def test_acquirer_host_requests(name):
    host = _signed_on(name)
    failures = _Failures()
    log = logging.getLogger("smartpos.host.acquirer")
    log.addHandler(failures)
    parser = "acquirer host requests %s" % name
    try:
        @fuzz_settings(200)
        @given(_acquirer_request(host, name))
        def prop(body):
            n = len(failures.records)
            r = host.handle(body)
            assert len(failures.records) == n, "handler failed on %s: %s" % (body.hex(), failures.records[-1].getMessage())
            if r is None:
                record(parser, "no reply")
                return
            rmti, rbody = r
            doc, _ = iso8583.decode(bytearray(rbody), host.spec)
            assert doc["t"] == rmti
            record(parser, "rc %s" % doc.get("39"))
        prop()
    finally:
        log.removeHandler(failures)
    reached(parser, "rc 00", "no reply")
