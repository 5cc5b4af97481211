# Terminal management's update work that waits across boots, on flash: the firmware
# deployment staged for the next start (STAGED) and the note of the update under way or
# settled (UPDATE_NOTE).  Read at startup (pos.tms.startup), by the installer at boot
# (pos.tms.osupdate) and by the DDI agent (pos.tms.service, pos.tms.update_stage): small and
# with no imports of its own, so none of them has to load another to know what waits.
import json

STAGED = "tms/staged.json"        # {"action", "href", "forced"}: an "os" deployment to install
UPDATE_NOTE = "tms/action.json"   # the firmware update under way: action, version, "armed", times


def load(path):
    """The JSON document at `path`, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def noted_result():
    """The settled update whose result the cloud has not had yet (the DDI agent sends it), or None."""
    note = load(UPDATE_NOTE)
    return note if note and "result" in note else None


async def report_noted(client, note, log=None):
    """Close the noted action with its settled result; True once the cloud has it (or no
    longer wants it: the action is gone or closed), False to try again later."""
    import os
    from pos.tms.ddi import CLOSED, FAILURE, SUCCESS, DdiError
    ok, details = note["result"]
    try:
        await client.feedback(note["action"], CLOSED, SUCCESS if ok else FAILURE, details)
    except DdiError as e:
        if e.status not in (404, 410):
            return False
    try:
        os.remove(UPDATE_NOTE)
    except OSError:
        pass
    if log is not None:
        log.info("tms", "update reported", action=note["action"], ok=ok)
    return True
