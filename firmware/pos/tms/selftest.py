# The self-test a trial boot must pass before the new firmware is confirmed (MCUboot's
# "test" swap made permanent only by the image itself): display, keypad, payment readers,
# printer, cloud.  A trial that fails it records the reason and resets into the old slot.
#
#     from pos.tms import selftest
#     selftest.settle_trial(inst, cloud=lambda: ddi.ping())   # at boot, after pos.hw is up
#
# Each check returns None when the part answers, or a short reason.
import time

from micropython import const

from pos import hw

ATTEMPTS = const(3)        # each check, before it fails the trial
RETRY_MS = const(200)      # between two attempts

# Set only by `smartpos release build --fault TEXT` (a deliberately broken release for the
# rollback demonstration and tests): the self-test then fails with this reason.
INJECTED_FAULT = None


def _display():
    return None if hw.display() is not None else "display not answering"


def _keypad():
    kp = hw.keypad()
    if kp is None:
        return "keypad not answering"
    kp.pending()                   # reads the key event count over I2C
    return None


def _readers():
    nfc = hw.nfc()
    if nfc is None:
        return "NFC reader not answering"
    nfc.firmware_version()
    if hw.contact_reader() is None:
        return "contact reader not answering"
    hw.contact_reader().present()
    return None


def _printer():
    p = hw.printer()
    if p is None:
        return "printer not answering"
    p.status()                     # paper out is a state, not a fault: only the answer counts
    return None


CHECKS = (("display", _display), ("keypad", _keypad), ("readers", _readers), ("printer", _printer))


def _ask(name, fn, tries=ATTEMPTS):
    """None when the part answers within `tries` attempts, else the last reason: a part that
    missed one answer (a reply lost on the wire, a bus busy) is not a broken release."""
    for attempt in range(tries):
        try:
            why = fn()
        except Exception as e:
            why = "%s: %s" % (name, e)
        if why is None:
            return None
        if attempt < tries - 1:
            time.sleep_ms(RETRY_MS)
    return why


def _cloud_check(cloud):
    return None if cloud() is not False else "cloud not reachable"


def run(cloud=None):
    """[(name, None or reason)] for every check; `cloud` is a callable that raises or returns
    False when the cloud cannot be reached.  A check that fails is asked again (ATTEMPTS in
    all) before it counts: a trial is reverted for a part that does not answer, not for one
    missed answer."""
    out = []
    for name, fn in CHECKS:
        out.append((name, _ask(name, fn)))
    if cloud is not None:
        out.append(("cloud", _ask("cloud", lambda: _cloud_check(cloud))))
    if INJECTED_FAULT:
        out.append(("fault", INJECTED_FAULT))
    return out


def failures(results):
    return [(n, why) for n, why in results if why]


def settle_trial(inst, cloud=None, reset=None):
    """On a trial boot: confirm if the self-test passes, else record the failure and reset
    into the confirmed slot.  Returns None when no trial was pending, else the results."""
    version = inst.pending_trial()
    if version is None:
        return None
    results = run(cloud)
    bad = failures(results)
    if not bad:
        inst.confirm()
        return results
    name, why = bad[0]
    inst.revert("self-test %s: %s" % (name, why))
    if reset is None:
        import machine
        reset = machine.reset
    reset()
    return results
