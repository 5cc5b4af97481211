"""What is wired where on the virtual board: the host-side twin of firmware/boards/sim.py.

Each entry names the device model (``module:Class``, imported lazily so a
model that does not exist yet is skipped with a warning), the bus it sits on
and the board pins it is wired to, by the role the model knows the pin as.
tests/board/test_wiring.py checks that every bus number, address and pin
here is the one firmware/boards/sim.py gives the firmware.
"""
import importlib
import warnings

WIRING = {
    "display": {"model": "host_sim.devices.st7789:ST7789", "spi": 1,
                "pins": {"cs": "PD14", "dc": "PD15", "rst": "PF12", "bl": "PE9"}},
    "keypad": {"model": "host_sim.devices.tca8418:TCA8418", "i2c": 1, "address": 0x34,
               "pins": {"int": "PE11"}},
    "pn532": {"model": "host_sim.devices.pn532:PN532", "uart": 2, "pins": {"rst": "PG2"}},
    "printer": {"model": "host_sim.devices.escpos:EscPosPrinter", "uart": 6},
    "scanner": {"model": "host_sim.devices.scanner:Scanner2D", "uart": 4},
    "msr": {"model": "host_sim.devices.msr:MagstripeReader", "uart": 5},
    "contact": {"model": "host_sim.devices.contact_reader:ContactReader", "uart": 1,
                "pins": {"rst": "PF13", "vcc": "PF14", "detect": "PF15"}},
    "leds": {"model": "host_sim.devices.leds:StatusLEDs",
             "pins": {"led1": "PE2", "led2": "PE3", "led3": "PE4", "led4": "PE6"}},
    "buzzer": {"model": "host_sim.devices.buzzer:Buzzer", "pins": {"out": "PE5"}},
}

# firmware/boards/sim.py constant for each wiring fact (checked by the tests)
BOARD_CONSTANTS = {
    ("display", "spi"): "DISPLAY_SPI", ("display", "cs"): "DISPLAY_CS", ("display", "dc"): "DISPLAY_DC",
    ("display", "rst"): "DISPLAY_RST", ("display", "bl"): "DISPLAY_BL",
    ("keypad", "i2c"): "KEYPAD_I2C", ("keypad", "address"): "KEYPAD_ADDR", ("keypad", "int"): "KEYPAD_INT",
    ("pn532", "uart"): "PN532_UART", ("pn532", "rst"): "PN532_RST",
    ("printer", "uart"): "PRINTER_UART", ("scanner", "uart"): "SCANNER_UART", ("msr", "uart"): "MSR_UART",
    ("contact", "uart"): "CARD_UART", ("contact", "rst"): "CARD_RST", ("contact", "vcc"): "CARD_VCC",
    ("contact", "detect"): "CARD_DETECT",
    ("leds", "led1"): ("LED_PINS", 0), ("leds", "led2"): ("LED_PINS", 1), ("leds", "led3"): ("LED_PINS", 2),
    ("leds", "led4"): ("LED_PINS", 3),
    ("buzzer", "out"): "BUZZER_PIN",
}


_warned = set()


def load_model(path):
    """'pkg.mod:Class' -> the class, or None (with a warning) if it does not exist yet."""
    mod_name, _, cls_name = path.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as exc:
        if getattr(exc, "name", None) and not mod_name.startswith(exc.name) and exc.name != mod_name:
            raise      # the model exists but one of its own imports is broken: say so
        if path not in _warned:        # once per process, not once per board
            _warned.add(path)
            warnings.warn("virtual board: no model %s yet; %s not wired" % (mod_name, path), stacklevel=2)
        return None
    return getattr(mod, cls_name)


def build_devices(wiring=None, only=None):
    """Instantiate the models of `wiring`: {name: (device, spec)} (missing models skipped)."""
    out = {}
    for name, spec in (wiring or WIRING).items():
        if only is not None and name not in only:
            continue
        model = spec["model"]
        cls = load_model(model) if isinstance(model, str) else model
        if cls is None:
            continue
        dev = cls()
        out[name] = (dev, spec)
    return out
