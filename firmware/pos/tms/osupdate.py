# The DDI "os" part: a firmware image for the inactive ROMFS slot (docs/updates.md).
#
#     await at_boot(client, staged, note)     # from pos.tms.startup, before the counter loads
#
# The DDI agent checks that an "os" deployment may go now (not busy, in the maintenance window
# or forced), stages it on flash and restarts the terminal (pos.tms.service): the counter's
# heap has no blocks of a few KB in one piece left for the installer.  At boot, before the
# counter loads, this module runs the deployment: TUF metadata (artifacts timestamp.json,
# snapshot.json, targets.json and any N.root.json of a root rotation) checked by
# pos.tms.update; the image named by the signed target downloaded in 64 KB windows with HTTP
# Range into the inactive slot, resuming where a broken link or a power cut stopped it;
# SHA-256 over the slot; the trial armed; the action noted (tms/action.json); the reset.  The
# trial boot runs the self-test (pos.tms.selftest) and confirms, or reverts and resets into
# the old slot; whichever slot then runs closes the noted action on the DDI feedback channel.
# A server that carries only SWUpdate images (goosebit) gets the same release as one .swu
# (pos.tms.swurelease): its metadata members are read from the archive's head, its image
# member is ranged over in the same 64 KB windows.
# Everything here is loaded only at a boot that has an update to install, settle or report.
import asyncio
import gc
import json
import os
import time

from pos.tms.ddi import DOWNLOAD, DOWNLOADED, PROCEEDING, CLOSED, REJECTED, FAILURE, NONE, DdiError, Deferred
from pos.tms import pending, swurelease
from pos.tms.pending import STAGED, UPDATE_NOTE as PENDING
from pos.tms.update import Installer, UpdateDeferred, UpdateError

WINDOW = 64 * 1024                   # bytes per ranged request: one progress message each
CLOUD_TRIES = 3                      # the self-test's "cloud reachable": polls before giving up


def _load_pending():
    try:
        with open(PENDING) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _save_pending(d):
    tmp = PENDING + ".new"
    with open(tmp, "w") as f:
        f.write(json.dumps(d))
    os.rename(tmp, PENDING)


def _drop_pending():
    try:
        os.remove(PENDING)
    except OSError:
        pass


def _metadata_names(chunk):
    """Metadata artifacts in the order the TUF workflow reads them (roots first)."""
    out = []
    for a in chunk.artifacts:
        n = a.filename
        if n.endswith(".root.json") and n[:-10].isdigit():
            out.append(n)
    out.sort(key=lambda n: int(n[:-10]))
    return out + ["timestamp.json", "snapshot.json", "targets.json"]


class FirmwareHandler:
    """DDI handler for the "os" chunk: the signed image, installed into the inactive slot and
    booted on trial.  `engine()`: the payment engine or None (pos.app.services), which says
    whether a transaction is in progress or the batch is open past its limit (at boot there
    is none: the agent checked before it staged the install)."""

    def __init__(self, engine=None, reset=None):
        self.engine = engine
        self.reset = reset

    async def _fetch_metadata(self, client, chunk, inst):
        files = {}
        root_version = inst.root["version"]
        for name in _metadata_names(chunk):
            art = chunk.artifact(name)
            if art is None:
                raise UpdateError("deployment has no %s" % name)
            if name.endswith(".root.json") and int(name[:-10]) <= root_version:
                continue                 # a root the terminal already trusts
            if art.size > 16384:
                raise UpdateError("%s of %d bytes is over 16 KB" % (name, art.size))
            from pos.tms.tuf import Pieces  # in small blocks: the heap has holes, not room
            buf = Pieces(art.size)

            def take(mv, buf=buf, art=art):
                if len(buf) + len(mv) > art.size:
                    raise UpdateError("%s is longer than its announced %d bytes" % (art.filename, art.size))
                buf.take(mv)
            await client.download(art, take)
            files[name] = buf
        return files

    async def _verified_release(self, client, chunk, inst):
        """(target, artifact, offset of the image in the artifact): the metadata fetched and
        checked (UpdateError names the rule broken), the image's artifact matched to the signed
        target before a byte of it is fetched.  A chunk carries either the metadata and the
        image as artifacts of their own (the smartpos cloud), or the whole release as one .swu
        (goosebit: pos.tms.swurelease), whose image member is a byte range of the archive."""
        swu = swurelease.carrier(chunk)
        if swu is None:
            files = await self._fetch_metadata(client, chunk, inst)
        else:
            head = await swurelease.read_head(client, swu)
            files, head.files = head.files, None
            for name in list(files):
                if name.endswith(".root.json") and int(name[:-10]) <= inst.root["version"]:
                    del files[name]      # a root the terminal already trusts
        target = inst.verify_metadata(files)
        del files
        gc.collect()
        if swu is not None:
            name, base, size = head.image
            if name != target.name:
                raise UpdateError("%s holds image %s, the signed target is %s: refused before download"
                                  % (swu.filename, name, target.name))
            if size != target.length:
                raise UpdateError("image %s in %s is %d bytes, the signed target %d: refused before download"
                                  % (name, swu.filename, size, target.length))
            return target, swu, base
        art = chunk.artifact(target.name)
        if art is None:
            raise UpdateError("deployment has no artifact %s (the signed target)" % target.name)
        if art.size != target.length:
            raise UpdateError("artifact %s is %d bytes, the signed target %d: refused before download"
                              % (target.name, art.size, target.length))
        return target, art, 0

    async def run(self, client, dep, chunk, report):
        gc.collect()
        inst = Installer.from_board(activity=self.engine() if self.engine is not None else None)
        try:
            return await self._install(inst, client, dep, chunk, report)
        except UpdateDeferred as e:
            why = str(e)
            raise Deferred(("deferred: " if "window" in why else "deferred while busy: ") + why)
        finally:
            inst.close()

    async def _install(self, inst, client, dep, chunk, report):
        forced = dep.forced
        why = inst.busy()
        if why and not forced:
            raise Deferred("deferred while busy: %s" % why)
        t0 = time.ticks_ms()
        target, art, base = await self._verified_release(client, chunk, inst)
        t_meta = time.ticks_diff(time.ticks_ms(), t0)
        noted = _load_pending()
        if noted is None or noted.get("action") != dep.action_id:
            noted = {"action": dep.action_id, "version": target.version}
        off = inst.resume_offset(target)
        total = target.length
        slot = inst.inactive_slot()
        if off:
            msg = "resuming %s at byte %d of %d" % (target.name, off, total)
            if noted.get("interrupted"):
                msg += " (interrupted: %s)" % noted["interrupted"]
        else:
            msg = "downloading %s (%s, %d bytes) into slot %d" % (target.name, target.version, total, slot)
        await report(DOWNLOAD, [msg], (off, total))
        at = [off]

        def sink(mv):
            if len(mv) > total - at[0]:       # a server that ignored the Range: the rest is not the image
                mv = mv[:total - at[0]]
            if len(mv):
                inst.write(at[0], mv)
                at[0] += len(mv)
        while at[0] < total:
            before = at[0]
            try:
                await client.download(art, sink, base + before, base + min(total, before + WINDOW) - 1)
            except DdiError as e:       # the link broke: what is written stays, resumed later
                noted["interrupted"] = str(e)[:120]
                _save_pending(noted)
                raise
            if at[0] == before:
                raise UpdateError("download stopped at byte %d of %d: the server sent nothing more"
                                  % (before, total))
            await report(DOWNLOAD, [], (at[0], total))
        t_dl = time.ticks_diff(time.ticks_ms(), t0) - t_meta
        await report(DOWNLOADED, ["%d bytes in %d ms; metadata checked in %d ms" % (total - off, t_dl, t_meta)],
                     (total, total))
        t1 = time.ticks_ms()
        if not forced and dep.maintenance_window == "unavailable":
            raise UpdateDeferred("outside the maintenance window (cloud)")
        # noted before the record arms the trial: a power cut once it is armed still leaves the
        # note that makes the trial boot settle and report it; "record" tells at that boot
        # whether the arming ever reached the record (at_boot)
        noted.pop("interrupted", None)
        noted["download_ms"] = t_dl + t_meta
        noted["armed"] = True
        noted["record"] = inst.record_sequence()
        _save_pending(noted)
        try:
            inst.finish(target, force=forced)         # SHA-256 over the slot, then ARMED
        except UpdateError:
            _drop_pending()                            # nothing armed: refused, or deferred
            raise
        noted["install_ms"] = time.ticks_diff(time.ticks_ms(), t1)
        _save_pending(noted)
        t_inst = noted["install_ms"]
        await report(PROCEEDING, ["%s verified in slot %d (SHA-256 in %d ms); trial boot armed, restarting"
                                  % (target.version, slot, t_inst)])
        inst.close()
        reset = self.reset
        if reset is None:
            import machine
            reset = machine.reset
        reset()
        return True, None                              # reported after the restart (after_boot)


async def _cloud_reachable(client):
    for i in range(CLOUD_TRIES):
        try:
            await client.poll()
            return True
        except DdiError:
            if i + 1 < CLOUD_TRIES:
                await asyncio.sleep(2)
    return False


def _result(inst, note):
    """(ok, details) of the noted update from the boot-control record's last result."""
    r = inst.last_result()
    if r["version"] != note.get("version"):
        return False, ["firmware %s never booted on trial (boot record: %s %s)"
                       % (note.get("version"), r["result"], r["version"])]
    if r["result"] == "confirmed":
        return True, ["firmware %s confirmed after its self-test; running slot %d"
                      % (r["version"], inst.booted_slot()),
                      "metadata and download %s ms, slot hash and arming %s ms"
                      % (note.get("download_ms"), note.get("install_ms"))]
    return False, ["firmware %s %s: %s; running %s" % (r["version"], r["result"],
                                                       r["reason"] or "no reason recorded", r["installed"])]


async def _install(client, staged, log, reset=None):
    """The staged deployment, run now in a whole heap: ends with the reset into the trial slot,
    or with its refusal reported (the counter then starts on the old firmware)."""
    action = staged["action"]

    async def report(execution, details=(), progress=None):
        await client.feedback(action, execution, NONE, details, progress)
    try:
        dep = await client.deployment(staged["href"])
        chunk = None
        for c in dep.chunks:
            if c.part == "os":
                chunk = c
        if chunk is None:
            raise UpdateError("deployment %s has no os chunk" % action)
        await FirmwareHandler(reset=reset).run(client, dep, chunk, report)
    except DdiError as e:              # the link broke: the agent stages it again at a later poll
        if log is not None:
            log.warning("tms", "firmware download interrupted", err=str(e))
    except Deferred as e:
        await client.feedback(action, REJECTED, NONE, [str(e)])
    except Exception as e:             # refused (UpdateError names the rule) or failed
        _drop_pending()
        await client.feedback(action, CLOSED, FAILURE, ["%s: %s" % (type(e).__name__, e)])


async def at_boot(client, staged, note, log=None, reset=None):
    """Before the counter loads (pos.tms.startup): settle a trial boot and the noted update's
    result, report it, then run a staged install."""
    if note is not None and note.get("armed") and "result" not in note:
        from pos.tms import selftest
        inst = Installer.from_board()
        try:
            if inst.pending_trial() is not None:
                reachable = await _cloud_reachable(client)
                results = selftest.settle_trial(inst, cloud=lambda: reachable, reset=reset)
                if log is not None:
                    log.info("tms", "trial self-test",
                             failed=",".join(n for n, why in selftest.failures(results)) or "none")
            elif inst.record_sequence() == note.get("record"):
                # the power went before the record armed the trial: nothing was armed, the
                # action stays open and the agent stages it again (the download resumes)
                _drop_pending()
                note = None
            if note is not None:
                note["result"] = _result(inst, note)
                _save_pending(note)        # settled: reported now or by the agent later
        finally:
            inst.close()
        if note is not None:
            await pending.report_noted(client, note, log)
    if staged is not None:
        try:
            os.remove(STAGED)         # tried once per staging: a crash here never loops the boot
        except OSError:
            pass
        gc.collect()
        try:
            await _install(client, staged, log, reset)
        except DdiError as e:
            if log is not None:
                log.warning("tms", "firmware update not reported", err=str(e))
