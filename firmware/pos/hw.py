# The board's peripherals as drivers, built from the board file on first use.
# A peripheral that does not answer is reported once and left as None: the
# terminal still boots (e.g. without a printer) and says what is missing.
from pos import log
from pos.board import BOARD

_made = {}


def _make(name, module):
    if name in _made:
        return _made[name]
    drv = None
    try:
        mod = __import__("pos.drivers." + module, None, None, ("from_board",))
        drv = mod.from_board(BOARD)
    except Exception as e:  # a missing or broken peripheral must not stop the boot
        log.error("hw", "peripheral unavailable", name=name, error=repr(e))
    _made[name] = drv
    return drv


def display():
    return _make("display", "st7789")


def keypad():
    return _make("keypad", "tca8418")


def leds():
    return _make("leds", "leds")


def buzzer():
    return _make("buzzer", "buzzer")


def printer():
    return _make("printer", "escpos")


def contact_reader():
    return _make("contact", "iso7816")


def msr():
    return _make("msr", "msr")


def scanner():
    return _make("scanner", "scanner")


def nfc():
    if "nfc" not in _made:
        drv = _make("nfc", "pn532")
        if drv is not None:
            try:
                drv.begin()
                drv.max_retries(0x01)   # InListPassiveTarget returns at once when the field is empty
            except Exception as e:
                log.error("hw", "NFC reader not answering", error=repr(e))
                _made["nfc"] = None
    return _made["nfc"]


def payment_readers():
    """The magstripe reader, the scanner and the NFC reader, opened (once) so that nothing
    they send is lost; the card tender calls this too when the boot could not."""
    msr()
    scanner()
    nfc()
