# Structured, levelled logging with a redaction filter (MicroPython).
#
# Every log line passes through redact(): card numbers, track data, PIN
# blocks and keys never reach the console, a file or a trace.  Call sites log
# events with key=value fields:   log.info("emv", "gpo", aip="1980", sw="9000")
# Field names that carry secrets are masked or dropped by name as well as by
# content (a PAN-looking digit run in any value is masked).
import time
from micropython import const

DEBUG = const(10)
INFO = const(20)
WARNING = const(30)
ERROR = const(40)
_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARN", ERROR: "ERROR"}

level = INFO
_sinks = []          # callables taking one formatted line (str)

# Fields whose value is never shown, whatever it looks like.
_SECRET = ("pin", "pinblock", "pin_block", "key", "kek", "tmk", "tpk", "tak", "mk",
           "track1", "track2", "track", "cvv", "cvc", "password")
# Binary values longer than this are logged as their head and size.
_HEX_MAX = const(32)
# Fields shown masked (first 6, last 4).
_PAN_FIELDS = ("pan", "token_pan")


def mask_pan(pan):
    """First 6 and last 4 digits kept, the rest as '*' (PCI DSS display rule).  Masked in a
    bytearray: the one new string is the result (every new string is first looked for among
    the interpreter's interned names, thousands of them on the board)."""
    if isinstance(pan, str):
        pan = pan.encode()
    elif not isinstance(pan, (bytes, bytearray, memoryview)):
        pan = str(pan).encode()             # (bytearray(n) of a number would be n zero bytes)
    b = bytearray(pan)
    n = len(b)
    if n <= 10:
        return "*" * n
    b[6:n - 4] = _STARS[:n - 10] if n - 10 <= len(_STARS) else b"*" * (n - 10)
    return b.decode()


_STARS = b"*********"       # the masked middle of a 19-digit PAN, the longest


def _mask_digit_runs(s):
    # a PAN is a run of 13-19 digits: a shorter string has none, and the scan reads the
    # string's bytes (small integers) rather than one-character strings.  Any 13 bytes in a row
    # hold exactly one position k with k % 13 == 12 counted from where the scan (re)starts, so
    # only those are looked at until one is a digit; then its run is found both ways.  Digits
    # are ASCII, so every cut falls between whole UTF-8 characters.
    if len(s) < 13:
        return s
    b = s.encode()
    n = len(b)
    k = 12
    while k < n:                        # (a small frame for the common case: no digit found)
        c = b[k]
        if 0x30 <= c <= 0x39:
            return _mask_runs(s, b, k)
        k += 13
    return s


def _mask_runs(s, b, k):
    """_mask_digit_runs from the digit at b[k] on."""
    n = len(b)
    last = 0
    out = None
    while k < n:
        c = b[k]
        if c < 0x30 or c > 0x39:
            k += 13
            continue
        i = k
        while i > 0 and 0x30 <= b[i - 1] <= 0x39:
            i -= 1
        j = k + 1
        while j < n and 0x30 <= b[j] <= 0x39:
            j += 1
        if 13 <= j - i <= 19:
            if out is None:
                out = []
            out.append(b[last:i].decode())
            out.append(mask_pan(b[i:j]))
            last = j
        k = j + 13                      # b[j] is not a digit: the next run starts after it
    if out is None:
        return s
    out.append(b[last:].decode())
    return "".join(out)


def redact(name, value):
    """The loggable form of one field."""
    lname = name if name.islower() else name.lower()     # call sites' names are lower case
    if lname in _SECRET:
        return "<redacted>"
    if isinstance(value, str):
        pass                                # (str() of a str would copy it: one more new string)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        n = len(value)
        if n > _HEX_MAX:
            # a log line is not a dump: the head and the size are enough to act on
            value = "%s...(%d bytes)" % (bytes(value[:_HEX_MAX]).hex(), n)
        else:
            value = bytes(value).hex()
    else:
        value = str(value)
    if lname in _PAN_FIELDS:
        return mask_pan(value)
    return _mask_digit_runs(value)


def add_sink(fn):
    _sinks.append(fn)


def remove_sink(fn):
    if fn in _sinks:
        _sinks.remove(fn)


def _emit(lvl, area, event, fields):
    if lvl < level:
        return
    # the line's pieces joined once: no string made per field but its redacted value
    parts = [_NAMES.get(lvl) or str(lvl), " ", area, " ", _mask_digit_runs(event)]
    for k in sorted(fields):
        parts.append(" ")
        parts.append(k)
        parts.append("=")
        parts.append(redact(k, fields[k]))
    line = "".join(parts)
    if _sinks:
        for fn in _sinks:
            fn(line)
    else:
        print("[", time.ticks_ms(), "] ", line, sep="")     # printed in pieces: no new string


def debug(area, event, **fields):
    _emit(DEBUG, area, event, fields)


def info(area, event, **fields):
    _emit(INFO, area, event, fields)


def warning(area, event, **fields):
    _emit(WARNING, area, event, fields)


def error(area, event, **fields):
    _emit(ERROR, area, event, fields)
