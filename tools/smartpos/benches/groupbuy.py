"""The group-buy app's flash and heap (apps/groupbuy, docs/sdk.md "Group-buy vouchers"):
package bytes, its compiled module, and the heap the app runtime measures against the app's
budget at each step (started, a voucher looked up), on the unix port with the product heap,
against a voucher platform.  Not the redemption: its slip needs the printer, which the bare
unix port has not (on the virtual board the redemption runs within the budget: tests/groupbuy)."""
import json
import os
import shutil
import tempfile

from host_sim import mpy
from host_sim.hosts.acquirer.terminal import key_store_code
from host_sim.hosts.vouchers import VoucherHost, params
from host_sim.hosts.vouchers.counter import build
from host_sim.hosts.vouchers.deals import VOUCHERS
from host_sim.rig import PRODUCT_HEAP
from cloud.appstore import package

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
    st.apply(runtime.start("apps/groupbuy"))
    app = st.top.screen
    used("start")
    st.key("1")
    for k in "%s":
        st.key(k)
    st.key("ENTER")
    await until(lambda: app.step == "deal")
    used("lookup")


asyncio.run(main())
"""


def groupbuy():
    raw = build()
    files = [(n, d) for n, d in package.members(raw) if n != "sw-description"]
    rows = [("package archive (the store adds its signed metadata)", len(raw), "bytes")]
    rows += [("on flash: %s" % n, len(d), "bytes") for n, d in files]
    d = tempfile.mkdtemp(prefix="smartpos-bench-groupbuy-")
    platform = VoucherHost(port=0).start()
    try:
        dest = os.path.join(d, "apps", "groupbuy")
        os.makedirs(dest)
        for n, data in files:
            with open(os.path.join(dest, n), "wb") as f:
                f.write(data)
        params.write(d, platform.url, "TERM0001")
        budget = json.loads(dict(files)["app.json"])["heap"]
        code = [c for c, deal in VOUCHERS.items() if deal == "D1001"][0]
        out = mpy.run(key_store_code() + STEPS % code, cwd=d, heap=PRODUCT_HEAP)
        for line in out.splitlines():
            if line.startswith("STEP "):
                _, step, whole, charged = line.split()
                rows.append(("at %s: heap growth since before the Apps menu (runtime, SDK, app, HTTP client;"
                             " interned-name pool blocks included)" % step, int(whole), "bytes"))
                rows.append(("at %s: charged to its %d-byte budget" % (step, budget), int(charged), "bytes"))
    finally:
        platform.stop()
        shutil.rmtree(d, ignore_errors=True)
    return rows


BENCHES = {"groupbuy-app": groupbuy}
