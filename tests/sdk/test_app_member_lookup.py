"""sdk.member on real MicroPython with the board's heap: an app with the "members" permission
looks a member up by member QR, phone and card UID in the terminal's member copy and gets what
the counter shows (the number's last four, masked name, tier, points, stored value), None for no
such member, the QR's refusal (expired, another shop's key) as sdk.Error; without the permission
the call is refused."""
import json
import time

from tests.members.test_members_firmware import _flash as member_flash, _qr, keys  # noqa: F401
from tests.sdk import sandbox_mp

APP = """
import json
from pos import sdk

CODES = %r


class Looker(sdk.Screen):
    def __init__(self):
        out = []
        for code, kind in CODES:
            try:
                m = sdk.member(code, kind)
                out.append(None if m is None else [m["number"], m["name"], m["phone"], m["tier"], m["points"],
                                                   m["stored_value"], sorted(m)])
            except sdk.Error as e:
                out.append("refused: %%s" %% e)
        sdk.store_put("out", json.dumps(out))

    def draw(self, d):
        d.title("LOOKER")


def start():
    return Looker()
"""


def _app(flash, codes, permissions):
    d = flash / "apps" / "looker"
    d.mkdir(parents=True)
    (d / "app.json").write_text(json.dumps({
        "id": "looker", "name": {"en": "Looker", "zh": "查"}, "version": "1.0.0", "sdk": 2,
        "permissions": permissions, "hosts": [], "entry": "main.py", "icon": "icon.pbm", "storage": 2048}))
    (d / "main.py").write_text(APP % (codes,))


def _looked_up(flash):
    out = sandbox_mp.run(flash, 'start("looker")\nout("screen", screen())\n', heap="320K")
    assert "LOOKER" in out[0]
    return json.loads((flash / "appdata" / "looker" / "out").read_text())


def test_member_by_qr_phone_and_card_masked_as_the_counter_shows_it(tmp_path, keys):  # noqa: F811
    mine, other = keys
    member_flash(tmp_path, mine)
    now = int(time.time())
    _app(tmp_path, [[_qr(mine, "8000000001", now + 300), None], ["+8613800001234", None],
                    ["04112233445566", "card"], ["13900000000", "phone"], ["CAFEBABE", "card"],
                    [_qr(mine, "8000000001", now - 5), None], [_qr(other, "8000000001", now + 300), "qr"],
                    ["12ab", "phone"], ["8000000001", "number"]], ["members", "storage"])
    got = _looked_up(tmp_path)
    fields = ["name", "number", "phone", "points", "stored_value", "tier"]
    assert got[0] == ["*0001", "L* W**", "*********1234", "GOLD", 120, 5000, fields]
    assert got[1] == got[0]                                   # the same member by phone
    assert got[2] == ["*0002", "C*** J***", "*******5678", "BASIC", 0, 0, fields]
    assert got[3] is None and got[4] is None                  # no such member
    assert got[5] == "refused: member QR expired, refresh"
    assert got[6] == "refused: QR not signed by this shop"
    assert got[7] == "refused: a phone number is 5 to 16 digits"
    assert got[8] == "refused: member kind: one of qr, phone, card"
    assert "8000000001" not in json.dumps(got)                # never the whole number


def test_member_lookup_needs_the_permission(tmp_path, keys):  # noqa: F811
    member_flash(tmp_path, keys[0])
    _app(tmp_path, [["+8613800001234", None]], ["storage"])
    got = _looked_up(tmp_path)
    assert len(got) == 1 and got[0].startswith("refused") and "members" in got[0]
