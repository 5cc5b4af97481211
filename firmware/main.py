# main.py: bring up the peripherals and run the terminal's event loop.
#
# The display's buffers (9.6 KB frame + 7.7 KB band) are the largest blocks
# the firmware holds: allocate them first, before the application's modules
# fragment the heap.
import gc

from pos import stdmods             # the built-in modules bound once: no import searches the flash for them
stdmods.bind()
del stdmods
from pos import collector
collector.often(every=collector.BOOT)   # a collection after every 64 KB allocated while loading,
                                        # every 16 KB from Ready (pos.collector)

from pos import hw                  # noqa: E402

display = hw.display()
gc.collect()
from pos import modules             # noqa: E402  the loaded-modules table at its full size, while the heap is whole
modules.reserve()
from pos.payments import txntable   # noqa: E402  the open batch's transaction table, while the heap is whole
txntable.reserve()
from pos.app import batch           # noqa: E402  the transaction list's line buffer, while the heap is whole
batch.reserve()
from pos.iso8583 import codec       # noqa: E402  the ISO 8583 encoder's message buffer, while the heap is whole
codec.reserve()
del codec
try:                                # a counter with a catalog: the basket's lines, while the heap is whole
    open("catalog.bin").close()
    from pos.app import cart_space  # noqa: E402
    cart_space.reserve()
except OSError:
    pass                            # no catalog: no basket, nothing reserved
from pos import names_image         # noqa: E402  every name of the firmware interned while the heap is whole
names_image.intern_image()
del names_image

try:                                # a parameter bundle that terminal management downloaded:
    open("params.ticket").close()   # checked and applied now, while the heap is whole; the
    from pos.tms import params      # noqa: E402  board then restarts with the new parameters
    params.finish_staged()
except OSError:
    pass

try:                                # enrolled in a cloud: its link's one body buffer, while the heap is whole
    open("config/cloud.json").close()
    from pos.net import http        # noqa: E402
    http.reserve()
    cloud_enrolled = True
    try:                            # https cloud: what TLS needs in one piece (pos.net.tls)
        open("config/cloud_ca.der").close()
        from pos.net import tls     # noqa: E402
        tls.prepare()
    except OSError:
        pass                        # http only: TLS costs the heap nothing
except OSError:
    cloud_enrolled = False          # not enrolled: terminal management costs the heap nothing
if cloud_enrolled:                  # a firmware update to install or settle, in a whole heap
    from pos.tms import startup     # noqa: E402
    if startup.run():               # the counter then starts in a fresh heap
        import machine              # noqa: E402
        machine.soft_reset()


def _acquirer_address():
    """(host, port) of the default route's acquirer in config/acquirers.json, or None."""
    import json
    try:
        with open("config/acquirers.json") as f:
            cfg = json.load(f)
        name = [r["acquirer"] for r in cfg["routes"] if r.get("default")][0]
        a = cfg["acquirers"][name]
        return a["host"], a["port"]
    except (OSError, ValueError, KeyError, IndexError):
        return None


# the payment services and the card tender next, while the heap is in one piece (pos.app.services)
from pos.app import services        # noqa: E402
services_error = services.preload("pos.app.card")
gc.collect()
if services_error is None:
    # working keys (ISO 8583 0800/0810) before the first sale, still before the UI's blocks;
    # a host that is down now is signed on to by network_task once it answers
    from pos.app import signon      # noqa: E402
    signon.at_boot(_acquirer_address())
    gc.collect()
services.intern_flow_names()        # the occasional flows' kept modules while the heap is whole
from pos import modules             # noqa: E402
modules.unload(("pos.names_image",))
try:                                # a member programme: the member's modules, kept (pos.app.basket)
    open("config/members.json").close()
    from pos.app import member      # noqa: E402,F401
    from pos.members import programme  # noqa: E402,F401
except OSError:
    pass

import asyncio                      # noqa: E402  (after the big allocations, on purpose)
import time                         # noqa: E402

from pos import log                 # noqa: E402
from pos.app import shell, status   # noqa: E402
from pos.board import BOARD         # noqa: E402
from pos.ui.canvas import Canvas    # noqa: E402
from pos.ui.stack import ScreenStack  # noqa: E402
from pos.ui import messages           # noqa: E402


def _check_paper(printer):
    if printer is None:
        status.paper = None
        return
    try:
        st = printer.status(tries=1)        # asked again in 2 s: one try holds the keypad least
        status.paper = "out" if st.paper_out else ("low" if st.paper_near_end else "ok")
    except Exception:
        status.paper = None


async def keypad_task(keypad, stack, flag):
    while True:
        await flag.wait()
        for name, pressed, code in keypad.read_events():
            if pressed and name:
                stack.key(name)


async def network_task(stack, every_s=30):
    """Network status for the status bar: can the default acquirer be reached?"""
    addr = _acquirer_address()
    while addr:
        up = False
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(addr[0], addr[1]), 3)
            try:
                # a non-blocking connect reports a refusal only on the first read
                await asyncio.wait_for(reader.read(1), 0.3)
                up = True
            except asyncio.TimeoutError:
                up = True               # connected; the host just has nothing to say
            except OSError:
                up = False
            writer.close()
        except Exception:
            up = False
        if up != status.network:
            status.network = up
            log.info("app", "network", up=up)
            if isinstance(stack.top, shell.Ready):
                stack.redraw()
        if up and isinstance(stack.top, shell.Ready):
            from pos.app import signon
            await signon.sign_on_missing_async()     # keys before the first PIN needs them
        await asyncio.sleep(every_s)


async def paper_task(stack, printer, every_s=2):
    """Paper state for the status bar: the printer's real-time status, read at Ready."""
    while printer is not None:
        await asyncio.sleep(every_s)
        if not isinstance(stack.top, shell.Ready):
            continue                    # a receipt may be printing: the job reads it itself
        before = status.paper
        _check_paper(printer)
        if status.paper != before:
            log.info("app", "paper", state=status.paper)
            stack.redraw()


async def tick_task(stack, leds):
    while True:
        await asyncio.sleep_ms(250)
        at = status.lights_dark_at
        if at is not None and time.ticks_diff(time.ticks_ms(), at) >= 0:
            status.lights_dark_at = None
            if leds:
                leds.off()                 # Book A 9.2: dark after the outcome was shown
            stack.redraw()                 # a card prompt still up lights "ready to read" again
        stack.tick()


async def pull_due(stack, idle, due):
    """The catalog and the idle-screen campaigns from the cloud at Ready, each on its schedule,
    the first soon after boot (pos.app.pull, loaded for the round only); `due`: [catalog ticks,
    campaigns ticks, waiting] kept by the sync task, which calls this every second or so."""
    now = time.ticks_ms()
    if time.ticks_diff(now, due[0]) < 0 and time.ticks_diff(now, due[1]) < 0:
        return
    if not idle():                      # never under a sale or another errand: at Ready again
        if not due[2]:
            log.info("pull", "waits", why="counter in use")
            due[2] = True
        return
    due[2] = False
    try:
        from pos.app import pull
        await pull.run_round(stack, idle, due)
    except Exception as e:              # never take the counter down; asked again in a minute
        log.error("pull", "round failed", err=repr(e))
        due[0] = due[1] = time.ticks_add(time.ticks_ms(), 60000)
    finally:
        pull = None
        modules.unload(("pos.app.pull",))


async def sync_task(stack):
    """Completed transactions to the cloud (pos.sync): loaded at Ready once there is one to send.
    From boot it also pulls the catalog and the campaigns when they are due (pull_due)."""
    idle = lambda: isinstance(stack.top, shell.Ready)
    first = time.ticks_add(time.ticks_ms(), 3000)   # once Ready has settled after boot
    due = [first, first, False]
    while True:
        await asyncio.sleep(1)
        await pull_due(stack, idle, due)
        if isinstance(stack.top, shell.Ready):
            try:
                open("upload.q").close()    # uploads left from before this boot
            except OSError:
                if not status.batch_count:
                    continue
            break
    try:
        from pos.sync import uploader
        await uploader.run(stack, idle, lambda: pull_due(stack, idle, due))
    except Exception as e:          # never take the counter down (a cloud.json without an identity)
        log.error("sync", "stopped", err=repr(e))
        status.sync_fill = lambda: 0    # nothing can be uploaded: the Z report is not held for it
    while True:                         # the pulls go on
        await asyncio.sleep(1)
        await pull_due(stack, idle, due)


async def heap_report(after_s=1):
    """Heap free once every task runs and has settled: the figure the terminal idles with."""
    await asyncio.sleep(after_s)
    gc.collect()
    log.info("app", "running", heap_free=gc.mem_free())


async def main():
    if display is None:
        print("smartpos: no display - check its ribbon cable (see the log above)")
        return
    display.init()
    keypad = hw.keypad()
    keypad.init()
    leds = hw.leds()
    if leds:
        leds.off()                  # contactless not polled at Ready: lights dark (Book A 9.2)
    printer = hw.printer()
    if printer:
        printer.init()
    if services_error is None:
        hw.payment_readers()        # open their UARTs now: a swipe or scan is not lost
    _check_paper(printer)
    messages.load_language()
    canvas = Canvas(display)
    status.canvas = canvas
    status.keypad = keypad
    from pos.app import batch
    status.batch_count = batch.count()
    stack = ScreenStack(canvas, shell.Ready(board_name=BOARD.NAME))
    flag = asyncio.ThreadSafeFlag()
    keypad.irq(lambda pin: flag.set())
    if keypad.int_asserted():
        flag.set()
    collector.often()
    print("smartpos ready")
    log.info("app", "ready", heap_free=gc.mem_free())
    from pos.app import forward
    tasks = [keypad_task(keypad, stack, flag), tick_task(stack, leds), network_task(stack),
             paper_task(stack, printer), forward.sender(stack, lambda: isinstance(stack.top, shell.Ready)),
             heap_report()]
    if cloud_enrolled:
        from pos.tms import service as tms
        # a deployment waits while the counter is away from Ready (a sale at its PIN prompt has
        # no transaction in the payment engine yet): soft ones are deferred, forced ones wait
        tasks.append(tms.task(counter_attributes=lambda: {"paper": status.paper or "unknown"},
                              engine=services.loaded_engine,
                              counter_busy=lambda: None if isinstance(stack.top, shell.Ready) else "counter in use"))
        tasks.append(sync_task(stack))
    await asyncio.gather(*tasks)


asyncio.run(main())
