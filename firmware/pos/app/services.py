# The payment services the flows share, built on first use (after the display's
# buffers and the UI exist, so their big blocks are not fragmented by these).
import gc

from pos import log

_engine = None
_emv = None


class ServiceError(Exception):
    """A payment service cannot start (config or key file missing/invalid)."""


def engine():
    """The transaction engine (ISO 8583 host link, journal, reversals, batch)."""
    global _engine
    if _engine is None:
        from pos.payments import config as pcfg
        from pos.payments.engine import PaymentEngine
        from pos.store.journal import Journal
        from pos.store.keystore import KeyStore
        try:
            e = PaymentEngine(pcfg.load("config/acquirers.json"), KeyStore("keys.kld", "."),
                              Journal("journal.bin"))
        except (OSError, ValueError) as exc:
            raise ServiceError("payments not configured: %s" % exc)
        try:
            e.start()
        except Exception as exc:      # no host now: sign-on is retried on the next transaction
            log.warning("app", "engine start", err=repr(exc))
        _engine = e
        gc.collect()
    return _engine


def emv_config():
    global _emv
    if _emv is None:
        from pos.emv import config
        try:
            _emv = config.load()
        except config.ConfigError as exc:
            raise ServiceError("EMV config: %s" % exc)
        gc.collect()
    return _emv


class Recorder:
    """The engine as the kernel's authorizer, keeping the last host exchange for the receipt."""

    def __init__(self, engine):
        self.engine = engine
        self.req = None
        self.resp = None
        self.advice_stan = None

    def authorize(self, req):
        self.req = req
        self.resp = self.engine.authorize(req)
        return self.resp

    def complete(self, req, resp, card_approved, icc_data=b""):
        return self.engine.complete(req, resp, card_approved, icc_data)

    def advise_offline(self, req, *a, **kw):
        self.req = req
        self.advice_stan = self.engine.advise_offline(req, *a, **kw)
        return self.advice_stan


def kernel(transmit, ui, recorder):
    from pos.emv.kernel import Kernel
    e = recorder.engine
    return Kernel(emv_config(), transmit, ui=ui, authorizer=recorder, keystore=e.pin_keys())


def terminal_ids(acq=None):
    """(merchant ID, terminal ID) of `acq` (default route's acquirer when None)."""
    try:
        cfg = engine().cfg
    except ServiceError:
        return "", ""
    if acq is None:
        acq = [r["acquirer"] for r in cfg["routes"] if r.get("default")][0]
    a = cfg["acquirers"].get(acq, {})
    return a.get("mid", ""), a.get("tid", "")
