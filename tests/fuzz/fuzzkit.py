"""Property-based fuzzing kit (hypothesis) for the firmware and the host parsers.

Firmware parsers run on real MicroPython: one unix-port process with the board's heap
(host_sim/mpy.py) serves every case of a session (tests/fuzz/mp/fuzz_targets.py), so a
case costs a pipe round trip, not a process start, and hypothesis still shrinks a
failing input to a small one.  Host parsers run in this process.

The property is the same everywhere: a parser answers, or raises its documented error
family, and nothing else.

Example counts are bounded so that the whole fuzz directory stays within a couple of
minutes on a loaded machine; SMARTPOS_FUZZ_EXAMPLES=N runs N examples per parser (and
then draws fresh random inputs instead of the fixed, derandomized sequence).
"""
import base64
import binascii
import collections
import os
import select
import subprocess

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from host_sim import mpy

HERE = os.path.dirname(os.path.abspath(__file__))
MP_DIR = os.path.join(HERE, "mp")
LONG_RUN = int(os.environ.get("SMARTPOS_FUZZ_EXAMPLES", "0") or 0)

#: examples run per parser in this session: {parser: Counter(outcome -> count)}
RESULTS = collections.OrderedDict()


def fuzz_settings(default):
    """hypothesis settings for one parser: `default` examples (or SMARTPOS_FUZZ_EXAMPLES)."""
    return settings(max_examples=LONG_RUN or default, deadline=None, database=None,
                    derandomize=not LONG_RUN, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


def record(parser, outcome):
    RESULTS.setdefault(parser, collections.Counter())[outcome] += 1


def reached(parser, *outcomes):
    """Assert the fuzzing took each of `outcomes` at least once (so the property was exercised
    on accepted inputs as well as on refused ones)."""
    seen = RESULTS.get(parser, {})
    for o in outcomes:
        assert seen.get(o), "%s: no input led to %r (seen: %s)" % (parser, o, dict(seen))


class MicroPythonWorker:
    """One MicroPython process answering fuzz cases (see mp/fuzz_targets.py)."""

    # the board's 192 KB plus room to compile this harness itself (fuzz_targets.py and the
    # parsers as source, not frozen: on the 64-bit port that compile no longer fits beside them)
    def __init__(self, heap="256K", timeout=30.0):
        self.heap = heap
        self.timeout = timeout
        self.proc = None
        self._start()

    def _start(self):
        env = dict(os.environ)
        env["MICROPYPATH"] = mpy.module_path([MP_DIR])
        self.proc = subprocess.Popen(
            [mpy.micropython_binary(), "-X", "heapsize=%s" % self.heap, "-c",
             "import fuzz_targets\nfuzz_targets.serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            cwd=mpy.REPO_ROOT, bufsize=0)
        self._pending = b""

    def _died(self, why):
        """The process is gone or stuck: report it and start a fresh one for the next case."""
        self.proc.kill()
        code = self.proc.wait()
        err = self.proc.stderr.read().decode("utf-8", "replace")
        out = self._pending.decode("utf-8", "replace")
        self.close()
        self._start()
        return AssertionError("MicroPython %s (exit %s): %s" % (why, code, (out + err)[-3000:]))

    def _readline(self):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            if not ready:
                raise self._died("gave no answer within %.0f s (parser hangs?)" % self.timeout)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._died("exited")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("utf-8", "replace")

    def call(self, target, *args):
        """(outcome, detail): outcome 'ok', 'family' or 'crash'."""
        args = [bytes(a) for a in args]
        msg = (" ".join([target] + [str(len(a)) for a in args]) + "\n").encode() + b"".join(args)
        try:
            self.proc.stdin.write(msg)
        except BrokenPipeError:
            raise self._died("exited") from None
        out = self._readline()
        kind, _, rest = out.partition(" ")
        rest = rest.replace("\\n", "\n").replace("\\\\", "\\")
        return kind, rest

    def check(self, target, *args, parser=None):
        """Run one case; fail unless the parser answered or raised its own family."""
        kind, detail = self.call(target, *args)
        record(parser or target, kind)
        if kind not in ("ok", "family"):
            raise AssertionError("%s raised outside its error family on input %s:\n%s"
                                 % (target, " ".join(bytes(a).hex() for a in args), detail))
        return kind, detail

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close() if not self.proc.stdin.closed else None
        self.proc.stdout.close()
        self.proc.stderr.close()


# -- input shapes ------------------------------------------------------------------------
@st.composite
def mutated(draw, seeds, max_ops=4):
    """A valid input from `seeds`, then a few byte-level damages (flip, set, cut, insert, drop,
    repeat) -- most inputs get past the first checks and fail (or pass) deeper."""
    data = bytearray(draw(seeds))
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(("flip", "set", "cut", "insert", "drop", "repeat")))
        n = len(data)
        if op == "insert" or not n:
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
            continue
        i = draw(st.integers(0, n - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from((0x00, 0x0A, 0x0D, 0x30, 0x3D, 0x7F, 0x80, 0x81, 0x82, 0x83,
                                            0x84, 0x9A, 0xA0, 0xD0, 0xFF, draw(st.integers(0, 255)))))
        elif op == "cut":
            del data[i:]
        elif op == "drop":
            del data[i:i + draw(st.integers(1, 4))]
        else:
            j = draw(st.integers(i, min(n, i + 16)))
            data[j:j] = data[i:j] * draw(st.integers(1, 3))
    return bytes(data)


def ber_length(n, extra=0):
    """BER length field of n (long form padded with `extra` leading zero bytes)."""
    if n < 0x80 and not extra:
        return bytes([n])
    b = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    b = bytes(extra) + b
    return bytes([0x80 | len(b)]) + b


TAGS_PRIMITIVE = (0x4F, 0x50, 0x57, 0x5A, 0x82, 0x84, 0x87, 0x88, 0x8A, 0x8C, 0x8D, 0x8F, 0x91, 0x94, 0x95,
                  0x9A, 0x9C, 0x5F20, 0x5F24, 0x5F2A, 0x5F34, 0x9F02, 0x9F10, 0x9F1A, 0x9F26, 0x9F27,
                  0x9F36, 0x9F37, 0x9F38, 0x9F4B, 0x9F6C, 0x9F66, 0xDF8101, 0x9F7F)
TAGS_CONSTRUCTED = (0x6F, 0x70, 0x77, 0x61, 0xA5, 0xBF0C, 0x73, 0xE1)


def tag_bytes(t):
    return t.to_bytes((t.bit_length() + 7) // 8 or 1, "big")


def ber_tlv(max_leaves=8):
    """BER-TLV data: EMV-like trees of primitive and constructed objects, valid encodings."""
    leaf = st.builds(lambda t, v, x: tag_bytes(t) + ber_length(len(v), x) + v,
                     st.sampled_from(TAGS_PRIMITIVE) | st.integers(1, 0xFFFFFF).filter(lambda t: t & 0x1F != 0x1F),
                     st.binary(max_size=40), st.sampled_from((0, 0, 0, 1)))

    def node(children):
        return st.builds(lambda t, kids, pad: tag_bytes(t) + ber_length(len(b"".join(kids))) + b"".join(kids) + pad,
                         st.sampled_from(TAGS_CONSTRUCTED), st.lists(children, max_size=4),
                         st.sampled_from((b"", b"", b"\x00", b"\xff\xff")))

    return st.lists(st.recursive(leaf, node, max_leaves=max_leaves), min_size=1, max_size=4).map(b"".join)


def dol_bytes():
    """A DOL: tags and one length byte each."""
    return st.lists(st.tuples(st.sampled_from(TAGS_PRIMITIVE), st.integers(0, 255)), max_size=12).map(
        lambda es: b"".join(tag_bytes(t) + bytes([n]) for t, n in es))


def crc16_ccitt_false(data):
    return binascii.crc_hqx(data, 0xFFFF)


def mpm_object(id_, value):
    return "%s%02d%s" % (id_, len(value), value)


_MPM_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30)


@st.composite
def mpm_payload(draw):
    """EMVCo MPM payload text: valid objects, then objects dropped, repeated or replaced,
    and (mostly) a correct CRC so the parser goes past the checksum."""
    account = mpm_object("00", "com.example.wallet") + mpm_object("01", draw(_MPM_TEXT))
    objs = [("00", "01"), ("01", draw(st.sampled_from(("11", "12")))),
            (draw(st.sampled_from(("02", "26", "29", "51", "52"))), draw(st.just(account) | _MPM_TEXT)),
            ("52", draw(st.sampled_from(("5812", "58a2", "")) | _MPM_TEXT)),
            ("53", "978"),
            ("54", draw(st.from_regex(r"\A[0-9]{0,10}(\.[0-9]{0,3})?\Z") | _MPM_TEXT)),
            ("58", "FR"), ("59", draw(_MPM_TEXT)), ("60", draw(_MPM_TEXT)),
            ("62", draw(st.just(mpm_object("05", "REF1")) | st.text(max_size=20)))]
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(("drop", "dup", "id", "value")))
        i = draw(st.integers(0, len(objs) - 1))
        if op == "drop":
            del objs[i]
        elif op == "dup":
            objs.insert(i, objs[i])
        elif op == "id":
            objs[i] = (draw(st.from_regex(r"\A[0-9]{2}\Z") | st.text(min_size=2, max_size=2)), objs[i][1])
        else:
            objs[i] = (objs[i][0], draw(st.text(max_size=30)))
        if not objs:
            break
    body = "".join(mpm_object(i, v) for i, v in objs)
    if draw(st.booleans()):
        body = body[:draw(st.integers(0, len(body)))]
    body += "6304"
    crc = "%04X" % crc16_ccitt_false(body.encode("utf-8"))
    tail = draw(st.sampled_from((crc, crc, crc, crc.lower(), "0000", crc[:3])))
    return (body + tail).encode("utf-8")


@st.composite
def cpm_payload(draw):
    """EMVCo CPM payload: base64 of 85 'CPV01' and a 61 application template (mutated)."""
    inner = b"".join(tag_bytes(t) + ber_length(len(v)) + v for t, v in [
        (0x4F, bytes.fromhex("A0000000031010")), (0x57, bytes.fromhex("4761739001010119D2812201000000000F")),
        (0x5F2D, b"en"), (0x9F26, bytes(8))])
    raw = b"\x85\x05CPV01" + b"\x61" + ber_length(len(inner)) + inner
    raw = draw(mutated(st.just(raw)) | ber_tlv())
    text = base64.b64encode(raw)
    if draw(st.integers(0, 4)) == 0:
        text = draw(mutated(st.just(text), max_ops=2))
    return text
