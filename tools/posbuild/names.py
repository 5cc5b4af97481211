"""The ROM image's names module: one .mpy whose qstr table holds every name the image's other
modules intern when they load, so that the board interns them all with one import at boot
(`pos.names_image`), the pools taking their full size while the heap is whole.

A .mpy file (MicroPython's persistent-code format, version 6) starts with its header (4 bytes:
'M', version, feature flags, small-int bits), then the number of qstrs and of constant objects
(each a variable-length unsigned integer: 7 bits a byte, most significant first, the top bit set
on every byte but the last), then the qstr table: for each entry `length << 1` followed by the
text and a NUL, or `index << 1 | 1` for a name the interpreter has built in (nothing to intern).
The module's code refers to qstrs by their place in that table, so entries appended after the
ones it uses change nothing it does: the names module is an empty module compiled by mpy-cross
with the image's names appended to its table.
"""
import os
import subprocess
import tempfile

from posbuild.toolchain import BuildError, mpy_cross_binary

MODULE = "pos._names"


def read_uint(buf, i):
    """(value, index after it) of the variable-length unsigned integer at buf[i]: the encoding
    of .mpy files and of ROMFS records alike."""
    v = 0
    while True:
        b = buf[i]
        i += 1
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            return v, i


def _put_uint(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def _table(data, what):
    """(offset after the counts, number of qstrs, number of objects, [(start, end, text or None)])
    of a .mpy's qstr table; text is None for a built-in name."""
    if len(data) < 4 or data[0] != ord("M") or data[1] != 6:
        raise BuildError("%s is not a version 6 .mpy file" % what)
    if data[2] >> 2:
        raise BuildError("%s carries native code; the names module is built from bytecode" % what)
    n_qstr, i = read_uint(data, 4)
    n_obj, i = read_uint(data, i)
    counts_end = i
    entries = []
    for _ in range(n_qstr):
        start = i
        v, i = read_uint(data, i)
        if v & 1:
            entries.append((start, i, None))
        else:
            n = v >> 1
            if data[i + n] != 0:
                raise BuildError("%s: a qstr of the table is not NUL-terminated" % what)
            entries.append((start, i + n + 1, bytes(data[i:i + n])))
            i += n + 1
    return counts_end, n_qstr, n_obj, entries


def mpy_names(data, what="module"):
    """The names a .mpy interns when it loads (its qstr table less the built-in names)."""
    return [text for _, _, text in _table(data, what)[3] if text is not None]


def names_mpy(mpy_files):
    """The names module's .mpy: every name of `mpy_files` (paths), each once, the names fewer
    modules use first.  The interpreter searches its pools newest first, so a module loading
    later finds a name many modules use after fewer comparisons (names used equally often
    keep the order they were first met in)."""
    uses = {}
    for path in mpy_files:
        with open(path, "rb") as f:
            for text in dict.fromkeys(mpy_names(f.read(), path)):    # once per module, in order
                uses[text] = uses.get(text, 0) + 1
    names = sorted(uses, key=lambda t: uses[t])       # stable: dict order is first met
    with tempfile.TemporaryDirectory(prefix="smartpos-names-") as d:
        src = os.path.join(d, "names.py")
        out = os.path.join(d, "names.mpy")
        with open(src, "w") as f:
            f.write("# the image's names, interned at boot (tools/posbuild/names.py)\n")
        r = subprocess.run([mpy_cross_binary(), "-s", MODULE, "-o", out, src], capture_output=True, text=True)
        if r.returncode:
            raise BuildError("the names module does not compile: %s" % r.stderr.strip())
        with open(out, "rb") as f:
            template = f.read()
    counts_end, n_qstr, n_obj, entries = _table(template, "the names module")
    own = {text for _, _, text in entries if text is not None}
    extra = [t for t in names if t not in own]
    table_end = entries[-1][1] if entries else counts_end
    added = b"".join(_put_uint(len(t) << 1) + t + b"\0" for t in extra)
    return (template[:4] + _put_uint(n_qstr + len(extra)) + _put_uint(n_obj)
            + template[counts_end:table_end] + added + template[table_end:])
