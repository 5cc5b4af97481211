# Terminal management's work at startup, before the counter loads (main.py, enrolled
# terminals): a firmware update the DDI agent staged is installed, a trial boot is settled
# (self-test: confirm, or revert and reset), an update's result is reported.  The heap is
# still in one piece here, which the installer's signature checks and modules need.  A boot
# with none of these to do reads two small files and loads nothing else.
#
#     from pos.tms import startup
#     if startup.run():              # it loaded the installer: the counter starts from a soft
#         machine.soft_reset()       # reset, in a fresh heap (this boot has nothing left to do)
import json

STAGED = "tms/staged.json"        # {"action", "href", "forced"}: an "os" deployment to install
UPDATE_NOTE = "tms/action.json"   # the firmware update under way: action, version, "armed", times


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def due():
    """(staged, note) when this boot has work to do before the counter, else None."""
    staged = _load(STAGED)
    note = _load(UPDATE_NOTE)
    if staged is None and not (note and note.get("armed") and "result" not in note):
        return None
    return staged, note


def run():
    """True when it ran (the counter should then start from a soft reset); False when there
    was nothing to do.  A failed trial and an armed install reset the board from inside."""
    work = due()
    if work is None:
        return False
    staged, note = work
    import gc
    from pos import log, modules
    before = modules.loaded()
    try:
        import asyncio
        from pos.tms import service
        client = service.make_client()
        if client is not None:
            from pos.tms import osupdate
            asyncio.run(osupdate.at_boot(client, staged, note, log))
    except Exception as e:          # a broken update state never stops the counter
        log.error("tms", "firmware update at startup", err="%s: %s" % (type(e).__name__, e))
    finally:
        modules.unload_since(before)
        gc.collect()
    return True


def noted_result():
    """The settled update whose result the cloud has not had yet (the DDI agent sends it), or None."""
    note = _load(UPDATE_NOTE)
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
