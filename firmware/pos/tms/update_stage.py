# The DDI "os" part at run time (loaded by pos.tms.service only when a firmware deployment
# arrives): may the update go now (pos.tms.policy: not busy, in the maintenance window, or
# forced)?  If so, the deployment is staged on flash and the terminal restarts; the install
# itself runs at startup (pos.tms.startup, pos.tms.osupdate), in a heap still in one piece.
# A server that carries only SWUpdate images sends parameter bundles as "os" too (goosebit):
# a .swu that does not name itself a firmware release goes to pos.tms.staging instead.
#
#     await FirmwareStager(services.loaded_engine).run(client, dep, chunk, report)
import asyncio
import json
import os
import time

from pos.tms import policy, swurelease
from pos.tms.ddi import Deferred, PROCEEDING
from pos.tms.pending import STAGED


class FirmwareStager:
    """The "os" part at run time: the counter's heap has no room for the installer (its
    signature checks and modules need blocks of a few KB in one piece), so the agent checks
    that the update may go now, notes the deployment on flash and restarts the terminal; the
    install runs at boot before the counter loads (pos.tms.startup), then the trial boot follows."""

    def __init__(self, engine):
        self.engine = engine              # () -> the payment engine or None

    async def run(self, client, dep, chunk, report):
        art = swurelease.carrier(chunk)
        if art is not None and not await swurelease.names_release(client, art):
            from pos.tms.staging import ParamsHandler      # a parameter .swu (goosebit: every part is "os")
            return await ParamsHandler().run(client, dep, chunk, report)
        p = policy.load()
        why = p.busy(self.engine())
        if why and not dep.forced:
            raise Deferred("deferred while busy: " + why)
        if not dep.forced and (dep.maintenance_window == "unavailable" or not p.in_window(time.time())):
            raise Deferred("deferred: outside the maintenance window")
        try:
            os.mkdir(STAGED.rpartition("/")[0])
        except OSError:
            pass                                    # there already
        with open(STAGED + ".new", "w") as f:
            json.dump({"action": dep.action_id, "href": "%s/deploymentBase/%s" % (client.root, dep.action_id),
                       "forced": dep.forced}, f)
        os.rename(STAGED + ".new", STAGED)
        await report(PROCEEDING, ["firmware %s %s: restarting to install it" % (chunk.name, chunk.version)])
        while p.busy(self.engine(), batch=False):       # forced: never restart under a transaction
            await asyncio.sleep(1)
        import machine
        machine.reset()
        return True, None                           # the install reports from the next boot
