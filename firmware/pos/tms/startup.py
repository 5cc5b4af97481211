# Terminal management's work at startup, before the counter loads (main.py, enrolled
# terminals): a firmware update the DDI agent staged is installed, a trial boot is settled
# (self-test: confirm, or revert and reset), an update's result is reported.  The heap is
# still in one piece here, which the installer's signature checks and modules need.  A boot
# with none of these to do reads two small files and loads nothing else.
#
#     from pos.tms import startup
#     if startup.run():              # it loaded the installer: the counter starts from a soft
#         machine.soft_reset()       # reset, in a fresh heap (this boot has nothing left to do)
from pos.tms.pending import STAGED, UPDATE_NOTE, load


def due():
    """(staged, note) when this boot has work to do before the counter, else None."""
    staged = load(STAGED)
    note = load(UPDATE_NOTE)
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
