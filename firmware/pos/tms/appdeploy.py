# The DDI handler for apps (hawkBit's "bApp" part): an app the operator pushed to the
# terminal's group, or a merchant installed from the store, comes as one archive (the store's
# metadata, the developer's signature, the package); it is downloaded onto flash, checked and
# installed by pos.platform.install while the counter runs, and is in the Apps menu at once.
# Crash reports of the app runtime (appcrash.log) go up before each poll.
#
#     handlers["bApp"] = _OnDemand("pos.tms.appdeploy", "AppHandler")
import gc
import os
import time

STAGED = "app.staged"
MAX_ARCHIVE = 65536 + 6 * 4096      # the package (pos.platform.install.MAX_PACKAGE) and its metadata


class AppHandler:
    async def run(self, client, dep, chunk, report):
        art = None
        for a in chunk.artifacts:
            if a.filename.endswith(".swu"):
                art = a
        if art is None:
            return False, ["refused: no signed app archive (.swu) in the deployment"]
        if art.size > MAX_ARCHIVE:
            return False, ["refused: app archive of %d bytes is over %d" % (art.size, MAX_ARCHIVE)]
        from pos.tms import staging
        t0 = time.ticks_ms()
        try:
            await staging.download(client, art, STAGED)
        except ValueError as e:
            _remove(STAGED)
            return False, ["refused: %s" % e]
        got = time.ticks_diff(time.ticks_ms(), t0)
        await report("downloaded", ["%s: %d bytes in %d ms" % (art.filename, art.size, got)])
        gc.collect()
        from pos.platform import install
        t1 = time.ticks_ms()
        try:
            m = install.install(STAGED, time.time())
        except install.InstallError as e:
            return False, [str(e)]
        finally:
            _remove(STAGED)
        took = time.ticks_diff(time.ticks_ms(), t1)
        return True, ["installed %s %s in %d ms (store and developer signatures, %d bytes checked)"
                      % (m["id"], m["version"], took, art.size)]


def _remove(p):
    try:
        os.remove(p)
    except OSError:
        pass


async def report_crashes(client, path="appcrash.log"):
    """The runtime's crash log to the cloud; removed once the cloud has it."""
    import json
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return
    reports = []
    for ln in lines[:64]:
        try:
            reports.append(json.loads(ln))
        except ValueError:
            pass
    await client.report_app_crashes(reports)
    _remove(path)
