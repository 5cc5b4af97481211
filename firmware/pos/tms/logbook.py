# The terminal's recent log lines on flash, for an operator's diagnostics request.
#
# While the terminal is enrolled in a cloud, every log line (already redacted by pos.log:
# masked PANs, no PIN, track data or keys) is printed as before and appended to
# log/recent.txt; past 4 KB that file becomes log/recent.1 and a new one starts, so the book
# keeps the last 4 to 8 KB of lines.  The module holds no state and imports what it uses inside
# its function: only the module and its sink stay resident (docs/tms.md has the measured cost).
#
#     log.add_sink(logbook.append)          # pos.tms.service, once enrolled
#
# Reading the book back is pos.tms.diag's (loaded only for a request), so that only the sink
# is resident.
from micropython import const

_LIMIT = const(4096)


def append(line):
    """A log sink: print the line as pos.log does without sinks, then keep it on flash."""
    import os
    import time
    print("[%d] %s" % (time.ticks_ms(), line))
    try:
        try:
            size = os.stat("log/recent.txt")[6]
        except OSError:
            size = 0
            try:
                os.mkdir("log")
            except OSError:
                pass
        if size > _LIMIT:
            try:
                os.remove("log/recent.1")
            except OSError:
                pass
            os.rename("log/recent.txt", "log/recent.1")
        with open("log/recent.txt", "a") as f:
            f.write(line.replace("\n", " "))
            f.write("\n")
    except OSError:
        pass                # a full or failing flash costs the book, never the terminal

