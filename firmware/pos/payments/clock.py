# ISO 8583:1987 date/time data elements from the terminal's clock (RTC).
import time


def now_fields():
    """(DE 7 MMDDhhmmss, DE 12 hhmmss, DE 13 MMDD) for the current local time."""
    t = time.localtime()
    return ("%02d%02d%02d%02d%02d" % (t[1], t[2], t[3], t[4], t[5]),
            "%02d%02d%02d" % (t[3], t[4], t[5]), "%02d%02d" % (t[1], t[2]))
