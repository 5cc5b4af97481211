# The terminal's clock (RTC): Unix time for the hosts and the cloud, and the ISO 8583:1987
# date/time data elements.
import time

# seconds from 1970-01-01 to the port's epoch (2000-01-01 on ports built that way)
_UNIX_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0


def unix_time():
    """Whole seconds since 1970-01-01 on the terminal's clock (the store's time)."""
    return int(time.time()) + _UNIX_OFFSET


def now_fields():
    """(DE 7 MMDDhhmmss, DE 12 hhmmss, DE 13 MMDD) for the current local time."""
    t = time.localtime()
    return ("%02d%02d%02d%02d%02d" % (t[1], t[2], t[3], t[4], t[5]),
            "%02d%02d%02d" % (t[3], t[4], t[5]), "%02d%02d" % (t[1], t[2]))
