# Terminal management at run time: when config/cloud.json names a cloud (written at
# enrollment) and the key store holds the DDI TargetToken (secret "ddi"), a background task
# polls the cloud with the DDI client, sends the terminal's attributes when asked, and runs
# deployments through the handlers: "params" (signed parameter bundles, applied at the restart
# they cause: pos.tms.staging), "keys" (TR-31 working keys), "os" (firmware images: staged here
# by pos.tms.update_stage, installed by at_boot into the inactive ROMFS slot with
# pos.tms.osupdate, then booted on trial, self-tested, confirmed or reverted, and reported),
# "diag" (log lines and a screenshot for the operator's console), "bApp" (signed app packages:
# pos.tms.appdeploy).  Without a cloud the task
# idles: the counter never depends on it.
#
#     asyncio.gather(..., service.task(counter_attributes=lambda: {"paper": "ok"}))
#
# Between polls the task holds only its configuration and token: the DDI client's module is
# loaded for each poll and unloaded after it, the handlers' modules for their deployment.
import asyncio
import gc
import json
import os

from pos import log, modules
from pos.tms import installed_params_version
from pos.tms.pending import UPDATE_NOTE     # loaded by main.py already on enrolled terminals

CONFIG = "config/cloud.json"
CRASH_LOG = "appcrash.log"     # pos.platform.crashlog.PATH

last_transaction = None        # set by the counter after each completed sale (attribute)


def _config():
    try:
        with open(CONFIG) as f:
            c = json.load(f)
        return c["url"], c["tenant"], c["controller_id"], c.get("mqtt")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def target_token():
    """The DDI TargetToken (hex) from the key store, or None (logged)."""
    from pos.store.keystore import KeyStore, KeyStoreError
    try:
        return "".join("%02x" % b for b in KeyStore("keys.kld", ".").secret("ddi"))
    except (KeyStoreError, OSError, ValueError) as e:
        log.warning("tms", "no DDI token", err=str(e))
        return None


def attributes(counter_attributes=None):
    """DDI config data: what an operator sees of this terminal in the console;
    `counter_attributes()` adds what the counter knows (paper)."""
    import sys
    import machine
    import pos
    gc.collect()
    a = {"model": "smartpos " + sys.platform, "serial": "".join("%02X" % b for b in machine.unique_id()),
         "firmware": pos.VERSION, "micropython": ".".join(str(v) for v in sys.implementation.version[:3]),
         "heap_free": gc.mem_free()}
    try:
        st = os.statvfs(".")
        a["flash_free"] = st[0] * st[3]
    except (OSError, AttributeError):
        pass
    if counter_attributes is not None:
        a.update(counter_attributes())
    a["params_version"] = installed_params_version()
    if last_transaction is not None:
        a["last_transaction"] = last_transaction
    return a


def _keystore():
    from pos.store.keystore import KeyStore
    return KeyStore("keys.kld", ".")


def _drop_modules(before):
    """Unload the modules imported since `before` (a set of sys.modules names)."""
    import sys
    for m in list(sys.modules):
        if m not in before:
            del sys.modules[m]
            parent, _, name = m.rpartition(".")
            if parent in sys.modules:        # the package keeps its submodule as an attribute
                try:
                    delattr(sys.modules[parent], name)
                except AttributeError:
                    pass
    gc.collect()


class _OnDemand:
    """A handler whose module loads only when a deployment needs it (the heap stays free at Ready)."""

    def __init__(self, module, name, *args):
        self.module, self.name, self.args = module, name, args

    async def run(self, client, dep, chunk, report):
        before = modules.loaded()
        gc.collect()
        handler = getattr(__import__(self.module, None, None, (self.name,)), self.name)(*self.args)
        try:
            return await handler.run(client, dep, chunk, report)
        finally:
            del handler
            modules.unload_since(before)
            gc.collect()


def _handlers(engine):
    """`engine()`: the payment engine once the counter has built it, or None (an update waits
    for its transactions); the counter passes it in, as it does its attributes."""
    return {"params": _OnDemand("pos.tms.staging", "ParamsHandler"),
            "keys": _OnDemand("pos.tms.keyinject", "KeysHandler", _keystore),
            "diag": _OnDemand("pos.tms.diag", "DiagHandler", target_token),
            "os": _OnDemand("pos.tms.update_stage", "FirmwareStager", engine or (lambda: None)),
            "bApp": _OnDemand("pos.tms.appdeploy", "AppHandler")}


def make_client():
    """This terminal's DDI client, or None (with the reason logged) when it is not enrolled."""
    cfg = _config()
    if cfg is None:
        log.info("tms", "no cloud configured (config/cloud.json): terminal management off")
        return None
    token = target_token()
    if token is None:
        return None
    return _client(cfg, token)


def _client(cfg, token):
    """The DDI client for the cloud of `cfg` (config/cloud.json); https only with the cloud's
    CA pinned on flash (pos.net.tls)."""
    from pos.tms.ddi import DdiClient
    pin = None
    if cfg[0].startswith("https://"):
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    return DdiClient(cfg[0], cfg[1], cfg[2], token, ssl_context=pin)


async def _report_update(client):
    """A firmware update settled at startup whose result did not reach the cloud then: sent
    before each poll until the cloud has it."""
    try:
        os.stat(UPDATE_NOTE)
    except OSError:
        return
    from pos.tms import pending
    note = pending.noted_result()
    if note is not None:
        await pending.report_noted(client, note, log)


async def _report_crashes(client):
    """Apps the runtime stopped since the last poll (appcrash.log), sent before each poll
    until the cloud has them."""
    try:
        os.stat(CRASH_LOG)
    except OSError:
        return
    from pos.tms import appdeploy
    await appdeploy.report_crashes(client, CRASH_LOG)


def _subscriber(cfg, wake):
    """An MQTT subscription that wakes the agent ("host:port" in config/cloud.json), or None."""
    if not cfg[3]:
        return None
    host, _, port = cfg[3].rpartition(":")
    from pos.net.mqtt import Subscriber
    return Subscriber(host or "127.0.0.1", int(port or 1883), cfg[2], "smartpos/%s/%s/wake" % (cfg[1], cfg[2]),
                      lambda topic, payload: wake.set())


async def _poll(cfg, token, engine, counter_attributes, busy, retries, sleep_s, backoff):
    """One poll: the DDI agent built, one step run.  Returns (seconds to wait, the polling
    interval, the back-off).  A frame of its own, gone once it returns: what a failed poll
    leaves in its frame (the exception, the DDI module's class it was matched against) goes
    with it.  In the loop's own frame such a reference stayed behind in a slot of the frame's
    value stack after the handler, and kept the unloaded pos.tms.ddi module and the failure
    alive for the rest of the day: the idle heap was 7.4 KB lower after the first failed poll
    (docs/offline.md, "Memory")."""
    gc.collect()                        # what a poll keeps for its length packs low in the heap
    from pos.tms.ddi import Agent, DdiError
    agent = Agent(_client(cfg, token), handlers=_handlers(engine), log=log,
                  attributes=lambda: attributes(counter_attributes), busy=busy, retries=retries)
    agent.sleep_s = sleep_s
    try:
        await _report_update(agent.client)
        await _report_crashes(agent.client)
        sleep_s = await agent.step()
        return sleep_s, sleep_s, 5
    except Exception as e:              # never let management take the counter down
        log.info("ddi", "poll failed", err="%s: %s" % (type(e).__name__, e))
        if isinstance(e, DdiError) and e.retry_s:
            return e.retry_s, sleep_s, backoff      # an overloaded cloud said when (503/429 Retry-After)
        return backoff, sleep_s, min(backoff * 2, sleep_s)


async def task(counter_attributes=None, engine=None, counter_busy=None):
    """The terminal-management loop (idles when not enrolled).  Each poll builds the DDI agent,
    runs one step and lets the client's module go (_poll); the polling interval the server gave
    and the back-off after a failure carry over (hawkBit DDI: config.polling.sleep).
    `counter_busy()`: None while the counter is free, else why a deployment must wait (soft
    ones are deferred)."""
    cfg = _config()
    token = None
    if cfg is None:
        log.info("tms", "no cloud configured (config/cloud.json): terminal management off")
    else:
        token = target_token()
    if token is None:
        while True:
            await asyncio.sleep(3600)
    from pos.tms import logbook
    log.add_sink(logbook.append)          # recent lines on flash for diagnostics requests
    wake = asyncio.Event()
    try:
        sub = _subscriber(cfg, wake)
    except (ValueError, ImportError) as e:
        log.warning("tms", "push off", err=str(e))
        sub = None
    if sub is not None:
        asyncio.create_task(sub.run())
    sleep_s, backoff = 300, 5
    idle_logged = False
    retries = {}                            # actions whose handler ran out of heap (Agent)
    while True:
        before = None
        try:                                # out of heap anywhere in a poll: the poll is skipped,
            before = modules.loaded()       # never the counter taken down with it
            sleep, sleep_s, backoff = await _poll(cfg, token, engine, counter_attributes, counter_busy, retries,
                                                  sleep_s, backoff)
            modules.unload_since(before)
            gc.collect()
            if not idle_logged:                 # what the agent leaves between polls (smartpos bench tms-terminal)
                log.info("tms", "agent idle", heap_free=gc.mem_free())
                idle_logged = True
            try:
                await asyncio.wait_for(wake.wait(), sleep)
            except asyncio.TimeoutError:
                pass
            wake.clear()
        except MemoryError as e:            # a poll's own failures are handled in _poll
            try:
                log.warning("tms", "poll skipped", err=repr(e))
            except MemoryError:
                pass
            if before is not None:
                modules.unload_since(before)
            gc.collect()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, sleep_s)
