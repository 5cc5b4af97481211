# The terminal's recent log lines on flash, for an operator's diagnostics request.
#
# While the terminal is enrolled in a cloud, every log line (already redacted by pos.log:
# masked PANs, no PIN, track data or keys) is printed as before and appended to log/recent.txt;
# past LIMIT bytes that file becomes log/recent.1 and a new one starts, so the book keeps the
# last LIMIT to 2 x LIMIT bytes of lines.  Nothing stays in the heap: each line is written and
# the file closed.
#
#     log.add_sink(logbook.append)          # pos.tms.service, once enrolled
#     body = logbook.tail(100)              # pos.tms.diag: bytes of the last 100 lines
import os
import time

from micropython import const

DIR = "log"
CURRENT = "log/recent.txt"
PREVIOUS = "log/recent.1"
LIMIT = const(4096)

_size = -1                 # bytes in CURRENT; -1 until first looked at


def _length(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


def append(line):
    """A log sink: print the line as pos.log does without sinks, then keep it on flash."""
    global _size
    print("[%d] %s" % (time.ticks_ms(), line))
    try:
        if _size < 0:
            try:
                os.mkdir(DIR)
            except OSError:
                pass
            _size = _length(CURRENT)
        if _size > LIMIT:
            try:
                os.remove(PREVIOUS)
            except OSError:
                pass
            os.rename(CURRENT, PREVIOUS)
            _size = 0
        with open(CURRENT, "a") as f:
            _size += f.write(line.replace("\n", " "))
            _size += f.write("\n")
    except OSError:
        pass                # a full or failing flash costs the book, never the terminal


def tail(lines):
    """The last `lines` lines of the book as bytes (oldest first)."""
    a, b = _length(PREVIOUS), _length(CURRENT)
    buf = bytearray(a + b)
    mv = memoryview(buf)
    for path, start, n in ((PREVIOUS, 0, a), (CURRENT, a, b)):
        if n:
            try:
                with open(path, "rb") as f:
                    n = f.readinto(mv[start:start + n])
            except OSError:
                n = 0
    end = len(buf)
    i = end - 1 if end and buf[end - 1] == 10 else end
    while i > 0 and lines > 0:
        i -= 1
        if buf[i] == 10:
            lines -= 1
    start = i + 1 if lines == 0 else 0
    return bytes(mv[start:end])
