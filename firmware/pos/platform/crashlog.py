# The runtime's crash log: one JSON line per app it stopped (raised, out of memory, held the
# counter, over its heap budget), sent to the cloud's app store before each poll
# (pos.tms.appdeploy.report_crashes) and removed once the cloud has it.  Bounded: when full,
# later crashes are not noted until it was sent.
import json
import os
import time

PATH = "appcrash.log"
MAX = 4096


def note(app_id, version, why):
    try:
        if os.stat(PATH)[6] > MAX:
            return
    except OSError:
        pass
    try:
        with open(PATH, "a") as f:
            f.write(json.dumps({"app": app_id, "version": version, "why": why[:80], "at": int(time.time())}))
            f.write("\n")
    except OSError:
        pass
