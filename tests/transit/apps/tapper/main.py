# A test app that asks for the contactless reader (tests/transit/test_sdk_nfc.py).
from pos import sdk


class Tapper(sdk.Screen):
    def __init__(self):
        self.notes = []

    def try_(self, what, fn, *a):
        try:
            self.notes.append("%s ok %r" % (what, fn(*a)))
        except sdk.Error as e:
            self.notes.append("%s refused %s" % (what, e))

    def draw(self, d):
        d.title("Tapper")

    def on_key(self, key):
        if key == "1":
            self.try_("card", sdk.nfc_card)
        elif key == "2":
            self.try_("apdu", sdk.nfc_apdu, b"\x00\xa4")
        elif key == "3":
            self.try_("apdu", sdk.nfc_apdu, "00a40400")
        return None


def start():
    return Tapper()
