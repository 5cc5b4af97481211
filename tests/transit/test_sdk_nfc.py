"""sdk.nfc_card / nfc_apdu / nfc_release on real MicroPython with the board's heap: only with
the "nfc" permission, never while PIN entry holds the terminal, APDUs checked before the
reader is touched (the APDUs themselves on the PN532 are in test_transit_app.py)."""
import json

from tests.sdk import sandbox_mp
from tests.transit import APPS


def _flash(tmp_path, permissions):
    f = sandbox_mp.flash(tmp_path)
    import shutil
    shutil.copytree(APPS + "/tapper", f / "apps" / "tapper")
    m = json.loads((f / "apps" / "tapper" / "app.json").read_text())
    m["permissions"] = permissions
    (f / "apps" / "tapper" / "app.json").write_text(json.dumps(m))
    return f


def test_without_the_nfc_permission_the_reader_is_refused(tmp_path):
    out = sandbox_mp.run(_flash(tmp_path, []), """
start("tapper")
st.key("1")
st.key("2")
for n in st.top.screen.notes:
    out(n)
""")
    assert out == ["card refused permission nfc not in app.json", "apdu refused permission nfc not in app.json"]


def test_with_it_apdus_are_checked_and_pin_entry_keeps_the_reader(tmp_path):
    out = sandbox_mp.run(_flash(tmp_path, ["nfc"]), """
start("tapper")
st.key("2")
st.key("3")
h = st.top.host
c.owner = "PIN entry"              # as pos.app.modal does for the PIN prompt
out("pin", h.call("nfc_card", ()), h.call("nfc_apdu", (b"\\x00\\xa4\\x04\\x00",)), h.call("nfc_release", ()))
c.owner = None
out("after", h.call("nfc_card", ()))
for n in st.top.screen.notes:
    out(n)
""")
    held = "(False, 'the contactless reader is held by PIN entry')"
    assert out[0] == "pin %s %s %s" % (held, held, held)
    assert out[1] == "after (False, 'no contactless reader')"          # this harness has no PN532
    # a 2-byte APDU and a str are refused before the reader is looked for
    assert out[2:] == ["apdu refused nfc_apdu takes a command APDU (4 to 261 bytes)"] * 2
