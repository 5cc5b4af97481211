# Terminal management at run time: when config/cloud.json names a cloud (written at
# enrollment) and the key store holds the DDI TargetToken (secret "ddi"), a background task
# polls the cloud with the DDI client, sends the terminal's attributes when asked, and runs
# deployments through the handlers: "params" (parameter bundles), "keys" (TR-31 working keys),
# "os" (firmware images, where the updater is built in).  Without a cloud the task idles:
# the counter never depends on it.
#
#     asyncio.gather(..., service.task(busy=lambda: None))
import asyncio
import gc
import json
import os

from pos import log

CONFIG = "config/cloud.json"
FIRMWARE_VERSION = "0.1.0"

last_transaction = None        # set by the counter after each completed sale (attribute)
busy_reason = None             # set by the counter while a transaction runs


def _config():
    try:
        with open(CONFIG) as f:
            c = json.load(f)
        return c["url"], c["tenant"], c["controller_id"], c.get("mqtt")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _token():
    from pos.store.keystore import KeyStore, KeyStoreError
    try:
        return "".join("%02x" % b for b in KeyStore("keys.kld", ".").secret("ddi"))
    except (KeyStoreError, OSError, ValueError) as e:
        log.warning("tms", "no DDI token", err=str(e))
        return None


def attributes():
    """DDI config data: what an operator sees of this terminal in the console."""
    import sys
    import machine
    gc.collect()
    a = {"model": "smartpos " + sys.platform, "serial": "".join("%02X" % b for b in machine.unique_id()),
         "firmware": FIRMWARE_VERSION, "micropython": ".".join(str(v) for v in sys.implementation.version[:3]),
         "heap_free": gc.mem_free()}
    try:
        st = os.statvfs(".")
        a["flash_free"] = st[0] * st[3]
    except (OSError, AttributeError):
        pass
    try:
        from pos.app import status
        a["paper"] = status.paper or "unknown"
    except ImportError:
        pass
    try:
        from pos.tms import params
        a["params_version"] = params.installed_version()
    except ImportError:
        pass
    if last_transaction is not None:
        a["last_transaction"] = last_transaction
    return a


def _keystore():
    from pos.store.keystore import KeyStore
    return KeyStore("keys.kld", ".")


class _OnDemand:
    """A handler whose module loads only when a deployment needs it (the heap stays free at Ready)."""

    def __init__(self, module, name, *args):
        self.module, self.name, self.args = module, name, args

    async def run(self, client, dep, chunk, report):
        import sys
        before = set(sys.modules)
        handler = getattr(__import__(self.module, None, None, (self.name,)), self.name)(*self.args)
        try:
            return await handler.run(client, dep, chunk, report)
        finally:
            del handler
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


def _handlers():
    return {"params": _OnDemand("pos.tms.params", "ParamsHandler"),
            "keys": _OnDemand("pos.tms.keyinject", "KeysHandler", _keystore)}


def make_agent():
    """The DDI agent, or None (with the reason logged) when this terminal is not enrolled."""
    cfg = _config()
    if cfg is None:
        log.info("tms", "no cloud configured (config/cloud.json): terminal management off")
        return None
    token = _token()
    if token is None:
        return None
    from pos.tms.ddi import Agent, DdiClient
    pin = None
    if cfg[0].startswith("https://"):               # the cloud's CA pinned on flash (pos.net.tls)
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    return Agent(DdiClient(cfg[0], cfg[1], cfg[2], token, ssl_context=pin), attributes=attributes,
                 handlers=_handlers(), busy=lambda: busy_reason, log=log)


def _subscriber(cfg, wake):
    """An MQTT subscription that wakes the agent ("host:port" in config/cloud.json), or None."""
    if not cfg[3]:
        return None
    host, _, port = cfg[3].rpartition(":")
    from pos.net.mqtt import Subscriber
    return Subscriber(host or "127.0.0.1", int(port or 1883), cfg[2], "smartpos/%s/%s/wake" % (cfg[1], cfg[2]),
                      lambda topic, payload: wake.set())


async def task():
    """The terminal-management loop (idles when not enrolled)."""
    agent = make_agent()
    gc.collect()
    if agent is None:
        while True:
            await asyncio.sleep(3600)
    wake = asyncio.Event()
    try:
        sub = _subscriber(_config(), wake)
    except (ValueError, ImportError) as e:
        log.warning("tms", "push off", err=str(e))
        sub = None
    if sub is not None:
        asyncio.create_task(sub.run())
    await agent.run(wake)
