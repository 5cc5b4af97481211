"""The app runtime on real MicroPython with the board's heap: a recording canvas, the
terminal's own screen stack, apps copied onto a flash directory (harness for the tests)."""
import os
import shutil

from host_sim import mpy

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")

HARNESS = """
import framebuf, gc
from pos.ui.canvas import Canvas
from pos.ui.stack import ScreenStack
from pos.ui.screen import Screen
from pos.app import status


class Disp:
    width = 240
    height = 320

    def __init__(self):
        self.fb = framebuf.FrameBuffer(bytearray(240 * 320 // 8), 240, 320, framebuf.MONO_HLSB)

    def mark_dirty(self, *a):
        pass

    def show(self):
        pass


class Rec(Canvas):
    def __init__(self, d):
        Canvas.__init__(self, d)
        self.seen = []

    def _put(self, s, x, y, color):
        self.seen.append(s)


class Home(Screen):
    def draw(self, c):
        c.title("READY")


c = Rec(Disp())
status.canvas = c
st = ScreenStack(c, Home())
from pos.platform import runtime


def start(name):
    st.apply(runtime.start("apps/" + name))


def screen():
    return " | ".join(c.seen[-12:])


def out(*a):
    print("OUT", *a)
"""


def flash(tmp_path, *apps):
    (tmp_path / "apps").mkdir()
    for a in apps:
        shutil.copytree(os.path.join(APPS, a), tmp_path / "apps" / a)
    return tmp_path


def run(flash_dir, body, heap=mpy.DEFAULT_HEAP, timeout=60):
    """Run HARNESS + body; the lines it printed with OUT (the rest is the log)."""
    text = mpy.run(HARNESS + body, cwd=str(flash_dir), heap=heap, timeout=timeout)
    return [ln[4:] for ln in text.splitlines() if ln.startswith("OUT ")]
