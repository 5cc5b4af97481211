"""The top-up app's flash and heap (apps/topup, docs/sdk.md "Top-up and bill pay"): package
bytes, its code compiled on MicroPython, and the heap the app runtime measures against the
app's budget at each step, on the unix port with the product heap, against a biller host;
the tutorial's Payer beside it as the runtime's own baseline."""
import os
import shutil
import tempfile

from host_sim import mpy
from host_sim.hosts.acquirer.terminal import key_store_code
from host_sim.hosts.biller import BillerHost, params
from host_sim.hosts.biller.counter import APP_DIR, copy_package, package_bytes

HEAP = "256K"

COMPILE = """
import gc, micropython
src = open("topup_main.py").read()
gc.collect(); a = gc.mem_alloc()
c = compile(src, "main.py", "exec")
gc.collect(); print("COMPILED", gc.mem_alloc() - a)
"""

# the terminal's own screen stack over a canvas with no display behind it; the app started
# from the runtime as the Apps menu starts it, driven by its keys, its timers on the loop
STEPS = """
import asyncio, framebuf, gc
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


class Home(Screen):
    def draw(self, c):
        c.title("READY")


c = Canvas(Disp())
status.canvas = c
st = ScreenStack(c, Home())
gc.collect()
a0 = gc.mem_alloc()


def used(step):
    gc.collect()
    h = st.top.host
    print("STEP", step, gc.mem_alloc() - a0, gc.mem_alloc() - h.base)


async def until(ok):
    for i in range(300):
        st.tick()
        await asyncio.sleep_ms(20)
        if ok():
            return
    raise RuntimeError("the app never got there")


async def main():
    from pos.platform import runtime
    st.apply(runtime.start("apps/%s"))
    app = st.top.screen
    if "%s" == "payer":
        used("home")
        return
    await until(lambda: app.cat is not None)
    used("home")
    for k in "21" "1000200030":
        st.key(k)
    st.key("ENTER")
    await until(lambda: app.step == "amount")
    used("lookup")


asyncio.run(main())
"""


def topup():
    rows = []
    rows.append(("package (app.json and main.mpy)", package_bytes(), "bytes"))
    d = tempfile.mkdtemp(prefix="smartpos-bench-topup-")
    biller = BillerHost(port=0).start()
    try:
        copy_package(os.path.join(d, "apps", "topup"))
        shutil.copytree(os.path.join(os.path.dirname(APP_DIR), "payer"), os.path.join(d, "apps", "payer"))
        params.write(d, biller.url, "TERM0001")
        shutil.copy(os.path.join(APP_DIR, "main.py"), os.path.join(d, "topup_main.py"))   # the source, compiled below
        out = mpy.run(COMPILE, cwd=d, heap=HEAP)
        rows.append(("its code compiled (bytecode and interned names, 64-bit unix port)",
                     int(out.split("COMPILED")[1].split()[0]), "bytes"))
        for app in ("payer", "topup"):
            out = mpy.run(key_store_code() + STEPS % (app, app), cwd=d, heap=HEAP)
            for line in out.splitlines():
                if line.startswith("STEP "):
                    _, step, whole, budget = line.split()
                    rows.append(("%s at %s: heap growth since before the Apps menu (runtime, SDK, app, and for"
                                 " topup the HTTP client; interned-name pool blocks included)" % (app, step),
                                 int(whole), "bytes"))
                    rows.append(("%s at %s: charged to its 16384-byte budget" % (app, step), int(budget), "bytes"))
    finally:
        biller.stop()
        shutil.rmtree(d, ignore_errors=True)
    return rows


BENCHES = {"topup-app": topup}
