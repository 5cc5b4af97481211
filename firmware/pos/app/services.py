# The payment services the flows share, built on first use (after the display's
# buffers and the UI exist, so their big blocks are not fragmented by these).
import gc
import sys
import time

from pos import log, modules
from pos.app import status

_engine = None
_emv = None


class ServiceError(Exception):
    """A payment service cannot start (config or key file missing/invalid)."""


# The same firmware takes 1.69-1.78 times the heap on a 64-bit build (8-byte words: the virtual
# board's unix port) that it takes on a 32-bit one (the board's Cortex-M4), measured on both
# (docs/performance.md, "The board's heap on a 32-bit build"): a threshold in bytes is per port.
_WIDE = sys.maxsize > 0x7FFFFFFF

# Heap the preload needs to leave the terminal usable: the services (~130 KB on the 64-bit
# unix port, ~75 KB on the board), the UI (~40 KB) and one card transaction (~30 KB).
PRELOAD_MIN_FREE = 200000 if _WIDE else 118000


def preload(tender=None):
    """At boot, before the UI's modules: the EMV configuration, the kernel's modules, the
    module `tender` (the card tender and its modal screens, named by the caller) and the
    engine (journal recovery only; main.py signs on once the host answers), while the heap
    is still in one piece.  Skipped (the services then load at the first card) when the heap
    is too small; never stops the boot.  Returns an error text or None."""
    global _engine, _emv
    gc.collect()
    if gc.mem_free() < PRELOAD_MIN_FREE:
        log.warning("app", "payment services load on first use", heap_free=gc.mem_free())
        # the key store (TEST KEYS / KEY STORE REFUSED on Ready) opens with the engine at the
        # first card: opening it now and dropping its modules fragments what the UI needs
        return "heap too small to preload"
    try:
        emv_config()
        import pos.emv.kernel      # noqa: F401  (its modules, before the heap fragments)
        if tender:
            __import__(tender)
        from pos import hw
        hw.contact_reader()        # the reader driver and its buffers
        _engine = _make_engine()
        _engine.recover()
        import pos.payments.wallet  # noqa: F401  (its answer buffer, made once)
    except Exception as exc:       # MemoryError included: give the heap back to the UI
        _engine = None
        _emv = None
        modules.unload([m for m in sys.modules
                        if m.startswith(("pos.emv", "pos.payments", "pos.iso8583", "pos.app.card", "pos.app.modal",
                                         "pos.app.qr_pay", "pos.qr", "pos.app.flows", "pos.app.reports"))])
        log.error("app", "payment services not started", err=repr(exc))
        gc.collect()
        return str(exc)
    gc.collect()
    return None


def _make_engine():
    from pos.payments import config as pcfg
    from pos.payments.engine import PaymentEngine
    from pos.store.journal import Journal
    try:
        e = PaymentEngine(pcfg.load("config/acquirers.json"), _open_keys(), Journal("journal.bin"))
    except (OSError, ValueError) as exc:
        raise ServiceError("payments not configured: %s" % exc)
    status.test_keys = bool(e.keystore.test_keys())
    return e


def _open_keys():
    """The key store; a refusal (altered, foreign, no KEK) is kept for the Ready screen."""
    from pos.store.keystore import KeyStore, KeyStoreError
    try:
        ks = KeyStore("keys.kld", ".")
    except KeyStoreError as exc:
        status.keys_error = str(exc)
        raise
    status.keys_error = None
    return ks


def key_status():
    """Open the key store for the Ready screen alone (TEST KEYS, KEY STORE REFUSED) when the
    engine waits for the first card; a key-loading file on flash is sealed now too.  The
    modules it loads are dropped again: the heap goes to the UI, the engine loads them later."""
    before = modules.loaded()
    try:
        status.test_keys = bool(_open_keys().test_keys())
    except MemoryError:                      # the engine opens it at the first card anyway
        status.keys_error = None
    except (OSError, ValueError) as exc:
        try:
            log.error("app", "key store", err=str(exc)[:100])
        except MemoryError:
            pass
    if status.keys_error is None and not status.test_keys:
        try:
            log.warning("app", "key store status deferred to the first card")
        except MemoryError:
            pass
    modules.unload_since(before)
    gc.collect()


def engine():
    """The transaction engine (ISO 8583 host link, journal, reversals, batch)."""
    global _engine
    if _engine is None:
        e = _make_engine()
        try:
            e.start()
        except Exception as exc:      # no host now: sign-on is retried on the next transaction
            log.warning("app", "engine start", err=repr(exc))
        _engine = e
        gc.collect()
    return _engine


def loaded_engine():
    """The engine if it is already built (None: payments load on first use)."""
    return _engine


_orders = None


def orders():
    """The wallet order ledger (pos.payments.orders), on flash."""
    global _orders
    if _orders is None:
        from pos.payments.orders import OrderLedger
        _orders = OrderLedger("orders.bin")
    return _orders


def orders_if_any():
    """The wallet order ledger if this terminal has one (None: no QR order ever opened)."""
    if _orders is None:
        import os
        try:
            os.stat("orders.bin")
        except OSError:
            return None
    return orders()


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
        self.host_us = 0           # time waiting for the host (for figures)

    def authorize(self, req):
        self.req = req
        t0 = time.ticks_us()
        self.resp = self.engine.authorize(req)
        self.host_us += time.ticks_diff(time.ticks_us(), t0)
        return self.resp

    def complete(self, req, resp, card_approved, icc_data=b""):
        t0 = time.ticks_us()
        try:
            return self.engine.complete(req, resp, card_approved, icc_data)
        finally:
            self.host_us += time.ticks_diff(time.ticks_us(), t0)

    def recorded(self, ok):
        """The terminal's outcome is final: a host approval the terminal did not record as
        approved (the kernel failed after the reply, the card left the field, the flow was
        cancelled) is reversed -- the one outcome rule, at the flow's end."""
        stan = self.advice_stan if self.advice_stan else (self.resp.stan if self.resp is not None else "")
        if ok or not stan:
            return False
        try:
            return self.engine.abandon(int(stan), "not-recorded")
        except Exception as exc:        # not journaled yet: the engine owes it (engine.owed())
            log.error("app", "reversal not journaled yet", err=repr(exc))
            return False

    def advise_offline(self, req, *a, **kw):
        self.req = req
        t0 = time.ticks_us()
        self.advice_stan = self.engine.advise_offline(req, *a, **kw)
        self.host_us += time.ticks_diff(time.ticks_us(), t0)
        return self.advice_stan


_kernel = None


def kernel(transmit, ui, recorder):
    """The EMV kernel, one per boot (its transaction log feeds the floor-limit check), set up
    for this card: reader, modal UI, the engine behind a Recorder."""
    global _kernel
    from pos.emv.kernel import Kernel
    from pos.emv.apdu import Card
    if _kernel is None:
        _kernel = Kernel(emv_config(), transmit, ui=ui, authorizer=recorder,
                         keystore=recorder.engine.pin_keys())
    k = _kernel
    k.card = Card(transmit)
    k.ui = ui
    k.authorizer = recorder
    return k


# Modules of the flows a day needs now and then, never at once: loaded for their transaction
# (from ROM: no bytecode in RAM, only their functions and globals) and let go at Ready, so
# what they take is the next transaction's headroom.  A chip sale with online authorization
# needs some 30 KB at its peak on the 64-bit unix port; kept loaded all day, these left it
# short of that after a few dozen transactions.
_FOR_ONE_TRANSACTION = ("pos.app.qr_pay", "pos.qr.encoder", "pos.qr.emvco", "pos.app.flows",
                        "pos.app.reports", "pos.emv.entry", "pos.payments.magstripe",
                        "pos.payments.adjust")


# a bank's card-linked offers (docs/bank-offers.md): loaded at boot only on a terminal that has
# a campaign file, at its first card again and let go at Ready like the flows above
_OFFERS = ("pos.offers", "pos.app.offer", "pos.offers.table")
offers_ready = False            # a campaign file, and the offers' names interned at boot


# loaded by the first transaction that needs them and kept from then on
_KEPT_AFTER_FIRST_USE = ("pos.crypto.pure", "pos.crypto.emv", "pos.iso8583.icc", "pos.payments.aio",
                         "pos.payments.orders")


def idle():
    """Back at Ready: the services that live all day let go of the last transaction (the
    kernel's card link, cardholder UI and authorizer with its request and reply, PAN and
    ICC data included), and the modules of one transaction's flow are unloaded."""
    if _kernel is not None:
        _kernel.detach()
    modules.unload(_FOR_ONE_TRANSACTION)
    modules.unload(_OFFERS)


# Heap the boot interning needs: its own peak (every occasional flow's module loaded at once,
# some 35 KB on this 64-bit port, half on the board) and, after it, the UI's modules and buffers
# (some 45 KB).  Below it (the 192 KB budget on this port: about 47 KB free at this point) the
# step is skipped and the flows load at first use: trying and rolling back fragmented the
# heap the UI still needed and the board stopped at boot.
INTERN_MIN_FREE = 80000 if _WIDE else 47000


def intern_flow_names():
    """At boot: load the modules of the occasional flows once and unload them again, so the
    names and strings they carry are interned now.  Interned strings (qstrs) live for ever
    in pools that double in size as they fill; a pool that fills mid-day asks for one
    block of tens of KB (2560 entries on this firmware), which a heap fragmented by a day
    of transactions does not have: the import then fails with a MemoryError.  Interning
    everything at boot, while the heap is in one piece, means no transaction ever grows a
    pool.  The modules a transaction loads and then keeps (the online host link's pieces,
    the wallet order ledger, the contactless buzzer) are loaded now for the same reason.
    On a heap too small to hold them all at once (the 192 KB board, where the services load
    at the first card) what was loaded is dropped again and the flows load at first use.
    Never stops the boot."""
    global offers_ready
    import pos
    from pos import hw
    if not pos.__file__.startswith("/rom/"):
        # only a firmware run from a ROMFS image interns its names in RAM with its bytecode
        # outside the heap; frozen in, its names are in flash; as .mpy files on flash, the
        # flows' bytecode loaded all at once does not fit beside the UI (MemoryError at boot)
        return
    gc.collect()
    if gc.mem_free() < INTERN_MIN_FREE:
        log.warning("app", "flow modules load at first use", heap_free=gc.mem_free())
        return
    before = modules.loaded()
    failed = None
    try:
        for name in _KEPT_AFTER_FIRST_USE:
            __import__(name)
        for name in _FOR_ONE_TRANSACTION:
            __import__(name)
        import pos.offers
        if pos.offers.installed():
            for name in _OFFERS:
                __import__(name)
            offers_ready = True
    except Exception as exc:            # MemoryError included: they load at first use
        failed = repr(exc)
    modules.unload(_FOR_ONE_TRANSACTION)
    modules.unload(_OFFERS)
    if failed:                          # a heap too small for them all: back as it was
        gc.collect()
        try:
            modules.unload_since(before)
        except MemoryError:             # what stays loaded is used at the first card anyway
            pass
    else:
        hw.buzzer()
    gc.collect()
    if failed:
        try:
            log.warning("app", "modules not all loaded at boot", err=failed)
        except MemoryError:
            pass
    else:                               # the pools as the boot left them, for the engineer's console
        import micropython
        micropython.qstr_info()


def terminal_ids(acq=None):
    """(merchant ID, terminal ID) of `acq` (default route's acquirer when None), from the
    acquirer configuration: the engine's when it runs, else the file (a cash receipt never
    starts the host link)."""
    if _engine is not None:
        cfg = _engine.cfg
    else:
        from pos.payments import config as pcfg
        try:
            cfg = pcfg.load("config/acquirers.json")
        except (OSError, ValueError):
            return "", ""
    if acq is None:
        acq = [r["acquirer"] for r in cfg["routes"] if r.get("default")][0]
    a = cfg["acquirers"].get(acq, {})
    return a.get("mid", ""), a.get("tid", "")
