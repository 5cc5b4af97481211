# Sign-on (ISO 8583:1987 0800/0810, DE 70 = 001): the acquirers' working keys (PIN key
# TPK, MAC key TAK) fetched before anything needs them -- at boot once the host answers
# (main.py, over asyncio streams so the keypad stays live) and before a PIN is asked for
# when no working key exists (pos.app.card), so that no PIN is keyed that the terminal
# could not encipher.
import gc

from pos import log
from pos.app import services


def sign_on_missing(notify=None):
    """Sign on (0800/0810, new working keys) to every acquirer that has no working keys: at
    boot once the host answers, and before a PIN is asked for (a PIN must never be keyed
    that the terminal cannot encipher).  notify() is called before the first 0800 is sent.
    Never raises; returns the acquirers still without keys."""
    try:
        e = services.engine()
    except services.ServiceError as exc:
        log.warning("app", "no sign-on", err=str(exc))
        return []
    missing = []
    for acq in e.acquirers:
        if e.keystore.has_working_keys(acq):
            continue
        if notify is not None:
            notify()                   # e.g. the screen says why the PIN prompt waits
            notify = None
        try:
            e.sign_on(acq)
        except Exception as exc:
            log.warning("app", "sign-on failed", acquirer=acq, err=str(exc))
            missing.append(acq)
    gc.collect()
    return missing


async def sign_on_missing_async():
    """sign_on_missing() for the boot: the same 0800/0810 over asyncio streams, so the
    keypad and the screen stay live while the host answers.  A transaction that signs on
    meanwhile wins: a late 0810 is then dropped, not stored over the newer keys."""
    try:
        e = services.engine()
    except services.ServiceError as exc:
        log.warning("app", "no sign-on", err=str(exc))
        return
    missing = [a for a in e.acquirers if not e.keystore.has_working_keys(a)]
    if not missing:
        return
    from pos.payments.aio import AsyncLink
    for acq in missing:
        link = AsyncLink(e.acquirers[acq])
        try:
            # as PaymentEngine.sign_on sends it: MACed under the terminal master key (the
            # acquirer refuses an unauthenticated sign-on)
            rf = await link.exchange("0800", e.sign_on_fields())
            if not e.keystore.has_working_keys(acq):
                e.signed_on(acq, rf)
        except Exception as exc:
            log.warning("app", "sign-on failed", acquirer=acq, err=str(exc))
        finally:
            await link.close()
    gc.collect()


def _host_answers(addr, timeout_s=1):
    """Does the acquirer at `addr` accept a connection now (a refusal comes at once)?"""
    import socket
    s = socket.socket()
    try:
        s.settimeout(timeout_s)
        s.connect(socket.getaddrinfo(addr[0], addr[1])[0][-1])
        return True
    except OSError:
        return False
    finally:
        s.close()


def at_boot(addr):
    """Sign on at boot when the default acquirer at `addr` ((host, port) or None) accepts a
    connection; a host that is down costs the boot nothing."""
    if addr is not None and _host_answers(addr):
        sign_on_missing()
