# Cloud enrollment at the counter (Settings > Cloud enrollment, supervisor PIN): the merchant
# types the 12-digit activation code on the keypad or scans its QR from the operator console
# with the terminal's scanner; the terminal enrolls itself (pos.tms.enroll), the management
# result is shown: ENROLLED with the controller id (ENTER restarts the terminal, and the
# management agent starts at boot), or why not (code refused, too many tries, cloud
# unreachable, certificate refused), nothing stored.
import asyncio

from pos import hw, log
from pos.tms import enroll
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import wrap

_ENTRY, _WORKING, _DONE = 0, 1, 2


def _grouped(digits):
    return "-".join(digits[i:i + 4] for i in range(0, len(digits), 4))


class EnrollScreen(Screen):
    """Code entry (keys or scanner), then the enrollment's outcome."""
    timeout_ms = 120000

    def __init__(self):
        self.digits = ""
        self.state = _ENTRY
        self.error = ""
        self.result = None
        self.task = None
        sc = hw.scanner()
        if sc is not None:
            sc.flush()            # a code scanned before the terminal asked is not this enrollment

    def draw(self, c):
        c.title(t("enroll_title"))
        if self.state == _DONE:
            c.center(t("enrolled"), 1, scale=2)
            c.center(self.result["controller_id"][:28], 4)
            c.center(t("tms_on"), 6)
            c.footer(t("enter_restart"))
            return
        c.text(t("enroll_prompt"), 0)
        c.text(t("enroll_prompt2"), 1)
        c.center(_grouped(self.digits) or "_", 3, scale=2)
        if self.state == _WORKING:
            c.center(t("enroll_working"), 6)
        elif self.error:
            for i, line in enumerate(wrap(self.error, 28)[:4]):
                c.text(line, 6 + i)
        c.footer("ENTER ok  CLEAR  CANCEL")

    def _start(self):
        self.state = _WORKING
        self.error = ""
        self.task = asyncio.create_task(self._run(self.digits))
        return "redraw"

    async def _run(self, digits):
        try:
            self.result = await enroll.enroll(digits)
        except enroll.EnrollError as e:
            self.error = str(e)
            log.warning("tms", "enrollment failed", err=self.error)
        except Exception as e:              # the screen shows it; the counter stays up
            self.error = "%s: %s" % (type(e).__name__, e)
            log.error("tms", "enrollment failed", err=self.error)
        else:
            log.info("tms", "enrolled", controller=self.result["controller_id"])

    def tick(self, c):
        if self.state == _WORKING:
            if self.task is None or not self.task.done():
                return False
            self.task = None
            self.state = _DONE if self.result is not None else _ENTRY
            if self.state == _ENTRY:
                self.digits = ""
            return "redraw"
        if self.state != _ENTRY:
            return False
        sc = hw.scanner()
        if sc is None:
            return False
        try:
            code = sc.poll()
        except Exception as e:              # ScannerError: a code cut short or unreadable, scan again
            self.error = str(e)
            return "redraw"
        if code is None:
            return False
        digits = enroll.code_digits(code)
        if digits is None:
            self.error = t("not_an_activation_code")
            return "redraw"
        self.digits = digits
        return self._start()

    def on_key(self, key):
        if self.state == _WORKING:
            return None                     # the request runs to its answer or its timeout
        if self.state == _DONE:
            if key in ("ENTER", "CANCEL"):
                # the agent starts on the heap a boot leaves (pos.net.tls: the TLS arena), not on
                # the one this enrollment fragmented
                import machine
                machine.reset()
            return None
        if key == "CANCEL":
            return ("pop",)
        if key == "CLEAR":
            self.digits = self.digits[:-1]
            return "redraw"
        if len(key) == 1 and "0" <= key <= "9" and len(self.digits) < enroll.CODE_DIGITS:
            self.digits += key
            self.error = ""
            return "redraw"
        if key == "ENTER":
            if len(self.digits) != enroll.CODE_DIGITS:
                self.error = t("code_12_digits")
                return "redraw"
            return self._start()
        return None
