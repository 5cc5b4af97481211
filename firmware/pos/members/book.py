# The terminal's copy of the merchant's members (members.jsonl on flash, written from the
# cloud's device API GET .../members/copy; docs/members.md, "Offline"), and the points this
# terminal gave that the cloud has not booked yet (members.pend).
#
# members.jsonl: a first line {"v": copy version, "inv": the highest invoice of this terminal
# the cloud had stored when the copy was made}, then one member a line: n number, nm masked
# name, ph masked phone, pd phone digest, t tier, p points, sv stored value (minor units),
# c card UIDs (hex), r up to three item SKUs the cloud recommends to the member ("often bought
# with", docs/insights.md; absent for a member who opted out).  Names and phones are masked
# already: the terminal never holds them.
# members.pend: one line "invoice number points" per member sale; a line counts while its
# invoice is above the copy's "inv" (then the cloud's balance does not hold it yet), so the
# balance shown is the copy's plus the provisional points, and a fresh copy reconciles them.
#
#     m = book.find(card="DEADBEEF")      # or phone="138...", number="8..."; None: unknown
#     book.provisional(inv, m.number, 30)
import hashlib
import json

COPY = "members.jsonl"
PENDING = "members.pend"


class Member:
    def __init__(self, d, pending):
        self.number = d["n"]
        self.name = d.get("nm", "")
        self.phone = d.get("ph", "")
        self.tier = d.get("t", "")
        self.booked = int(d.get("p", 0))           # points the cloud had booked
        self.pending = pending                      # given here, not booked yet
        self.stored_value = int(d.get("sv", 0))
        self.recommended = d.get("r", ())           # SKUs: "often bought with"

    @property
    def points(self):
        return self.booked + self.pending


def phone_digest(merchant_id, phone):
    """The digest the copy holds for a phone (the cloud's cloud.members.router.phone_digest)."""
    d = hashlib.sha256(("%d:%s" % (merchant_id, phone.lstrip("+"))).encode()).digest()
    return "".join("%02X" % b for b in d[:8])


def _lines(path):
    try:
        f = open(path)
    except OSError:
        return
    with f:
        while True:
            ln = f.readline()
            if not ln:
                return
            yield ln


def header(path=COPY):
    for ln in _lines(path):
        try:
            return json.loads(ln)
        except ValueError:
            return None
    return None


def pending_points(number, since_inv, path=PENDING):
    total = 0
    for ln in _lines(path):
        f = ln.split()
        if len(f) == 3 and f[1] == number and int(f[0]) > since_inv:
            total += int(f[2])
    return total


def find(card=None, phone=None, number=None, merchant_id=0, path=COPY, pending=PENDING):
    """The member a card UID (hex), a typed phone or a member number names, or None."""
    if phone is not None:
        phone = phone_digest(merchant_id, phone)
    if card is not None:
        card = card.upper()
    head = None
    for ln in _lines(path):
        if head is None:
            head = json.loads(ln)
            continue
        # a cheap look at the text first: only the matching line is parsed
        if card is not None and card not in ln or phone is not None and phone not in ln \
                or number is not None and number not in ln:
            continue
        d = json.loads(ln)
        if card is not None and card in d.get("c", ()) or phone is not None and d.get("pd") == phone \
                or number is not None and d["n"] == number:
            return Member(d, pending_points(d["n"], head.get("inv", 0), pending))
    return None


def add(member, path=COPY):
    """A member enrolled here, as the cloud answered (masked), appended to the copy until the
    next copy from the cloud holds it."""
    if header(path) is None:             # no copy yet: this terminal's first member
        with open(path, "w") as f:
            f.write('{"v": 0, "inv": 0}\n')
    with open(path, "a") as f:
        f.write(json.dumps(member) + "\n")


def provisional(inv, number, points, path=PENDING):
    """Remember the points invoice `inv` gave member `number` until the cloud's copy holds them."""
    with open(path, "a") as f:
        f.write("%d %s %d\n" % (inv, number, points))
