# The member at the counter (docs/members.md): identified by an NFC membership card (its UID:
# MIFARE Classic or NTAG), by the member QR on the customer's phone (pos.members.qr), or by a
# typed phone number, from the basket's menu (a member QR scanned into the basket works too);
# the member's masked data, tier, points and stored value then go with the sale, and after a
# member sale the customer sees the points earned and the next reward.  A new customer is
# enrolled here: the phone typed (and a new card tapped first, if any), F2 (pos.members.enrol).  An unknown card, an
# expired QR or one signed by another key: a message, the basket as it was.
import asyncio

from pos import hw, log
from pos.members import MemberError, book, points
from pos.payments.clock import unix_time
from pos.ui.screen import Screen



def masked_number(number):
    return "*" + number[-4:]


def from_qr(code, prog):
    from pos.members import qr
    number = qr.member_number(code, prog, unix_time())
    m = book.find(number=number, merchant_id=prog.merchant_id)
    if m is None:
        raise MemberError("member %s not on this terminal yet" % masked_number(number))
    return m


def from_card(uid, prog):
    m = book.find(card=uid, merchant_id=prog.merchant_id)
    if m is None:
        raise MemberError("unknown card: not a member")
    return m


def from_phone(phone, prog):
    m = book.find(phone=phone, merchant_id=prog.merchant_id)
    if m is None:
        raise MemberError("no member with this phone")
    return m


class MemberScreen(Screen):
    """Waits for a membership card, a member QR or a typed phone; sets basket.member."""
    timeout_ms = 60000

    def __init__(self, basket, prog):
        self.basket = basket
        self.prog = prog
        self.typed = ""
        self.note = ""
        self.new_card = ""          # the UID of a card that is no member's: enrolled with it
        self.task = None            # the enrolment on its way to the cloud
        self.enrolled = None

    def draw(self, c):
        c.title("MEMBER")
        if self.task is not None:
            c.text("Enrolling ...", 4)
            return
        c.text("Tap member card or", 0)
        c.text("scan member QR, or type", 1)
        c.text("phone number + ENTER", 2)
        if self.typed:
            c.text("PHONE %s_" % self.typed, 4)
        if self.new_card:
            c.text("NEW CARD *%s F2 ENROL" % self.new_card[-4:], 5)
        if self.note:
            c.text(self.note[:28], 6)
            c.text(self.note[28:56], 7)
        c.footer("ENTER find F2 enrol CANCEL")

    def _identify(self, f, arg):
        try:
            self.basket.member_found(f(arg, self.prog))
        except MemberError as e:
            self.note = str(e)
            log.info("member", "refused", err=self.note)
            return "redraw"
        log.info("member", "identified", member=masked_number(self.basket.member.number))
        return ("pop",)

    async def _enrol(self, phone):
        from pos.members import enrol
        try:
            self.enrolled = await enrol.enrol(phone, self.new_card, self.prog)
        except MemberError as e:
            self.note = str(e)
            log.info("member", "enrolment refused", err=self.note)
        except Exception as e:                # the screen says it; the counter stays up
            self.note = "%s: %s" % (type(e).__name__, e)
            log.error("member", "enrolment failed", err=self.note)

    def tick(self, c):
        if self.task is not None:
            if not self.task.done():
                return False
            self.task = None
            if self.enrolled is None:
                return "redraw"
            self.basket.member = self.enrolled
            log.info("member", "enrolled", member=masked_number(self.enrolled.number))
            return ("pop",)
        nfc = hw.nfc()
        if nfc is not None:
            try:
                tg = nfc.list_target()
            except Exception as e:            # NfcError: collision, reader trouble
                self.note = str(e)
                return "redraw"
            if tg is not None:
                uid = "".join("%02X" % b for b in tg.uid)
                if uid == self.new_card:
                    return False              # the same unknown card still in the field
                try:
                    nfc.release()
                except Exception:
                    pass
                r = self._identify(from_card, uid)
                if r == "redraw":
                    self.new_card = uid       # no member's card: F2 enrols the customer with it
                return r
        sc = hw.scanner()
        if sc is None:
            return False
        try:
            code = sc.poll()
        except Exception as e:
            self.note = str(e)
            return "redraw"
        if code is None:
            return False
        return self._identify(from_qr, code)

    def on_key(self, key):
        if self.task is not None:
            return None                       # the enrolment runs to its answer or timeout
        if key == "F2":
            if len(self.typed) < 6:
                self.note = "type the phone to enrol"
                return "redraw"
            self.note = ""
            self.task = asyncio.create_task(self._enrol(self.typed))
            return "redraw"
        if len(key) == 1 and "0" <= key <= "9" and len(self.typed) < 15:
            self.typed += key
            return "redraw"
        if key == "CLEAR":
            self.typed = self.typed[:-1]
            return "redraw"
        if key == "ENTER" and len(self.typed) >= 6:
            return self._identify(from_phone, self.typed)
        if key == "CANCEL":
            return ("pop",)
        return None


class MemberThanks(Screen):
    """The customer-facing message after a member sale: points earned, balance, next reward."""
    timeout_ms = 15000

    def __init__(self, member, earned, prog):
        self.member = member
        self.earned = earned
        self.prog = prog

    def draw(self, c):
        m = self.member
        c.title("THANK YOU")
        c.text("MEMBER %s %s" % (masked_number(m.number), m.tier), 0)
        c.center("+%d POINTS" % self.earned, 2, scale=2)
        c.text("BALANCE %d POINTS" % m.points, 5)
        c.text("%d POINTS TO NEXT REWARD" % points.next_reward(m.points, self.prog), 6)
        c.text(self.prog.reward_text[:28], 7)
        c.footer("ENTER done")

    def on_key(self, key):
        if key in ("ENTER", "CANCEL"):
            return ("home",)
        return None
