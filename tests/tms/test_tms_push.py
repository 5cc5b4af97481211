"""Push: an MQTT message wakes the terminal to poll at once, through the embedded broker
(amqtt, the simulator's default) and through mosquitto (what fleets and CI run)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from host_sim.mpy import run
from ports import free_port


@pytest.fixture(params=["embedded", "mosquitto"])
def broker(request):
    if request.param == "embedded":
        from cloud.push import EmbeddedBroker
        b = EmbeddedBroker(port=0).start()
        yield b.url
        b.stop()
        return
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if exe is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    port = free_port()
    d = tempfile.mkdtemp()
    conf = os.path.join(d, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    p = subprocess.Popen([exe, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or p.poll() is not None:
                p.kill()
                pytest.fail("mosquitto did not start")
            time.sleep(0.05)
    yield "mqtt://127.0.0.1:%d" % port
    p.terminate()
    p.wait(10)
    shutil.rmtree(d, ignore_errors=True)


def test_the_firmware_subscriber_receives_a_wake(broker):
    from cloud.push import Waker
    host, port = broker[7:].split(":")
    code = """
import asyncio
from pos.net.mqtt import Subscriber
got = []
sub = Subscriber(%r, %s, "T-1", "smartpos/default/T-1/wake", lambda t, p: got.append((t, p)), keepalive_s=4)
async def main():
    asyncio.create_task(sub.run())
    for _ in range(400):
        if sub.connected:
            break
        await asyncio.sleep_ms(25)
    print("connected", sub.connected, sub.last_error)
    open("subscribed", "w").close()
    for _ in range(800):
        if got:
            break
        await asyncio.sleep_ms(25)
    print("got", got)
asyncio.run(main())
""" % (host, port)
    d = tempfile.mkdtemp()
    proc = subprocess.Popen([os.path.join(os.path.dirname(os.sys.executable), "micropython"), "-X", "heapsize=192K",
                             "-c", code], cwd=d, env=dict(os.environ, MICROPYPATH=".frozen:" + os.path.join(
                                 os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 "firmware")), stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(d, "subscribed")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    w = Waker(broker)
    try:
        for _ in range(100):                     # until the broker answers our publish
            if w.wake("default", "T-1").rc == 0:
                break
            time.sleep(0.1)
        out, _ = proc.communicate(timeout=40)
    finally:
        w.close()
        shutil.rmtree(d, ignore_errors=True)
    assert "connected True None" in out, out
    assert "got [('smartpos/default/T-1/wake', b'poll')]" in out, out


def test_a_push_wakes_the_terminal_long_before_its_poll(broker):
    from host_sim.fleet import ManagedTerminal
    with ManagedTerminal(poll_s=3600, mqtt_url=broker) as mt:
        tid = mt.terminal["id"]
        deadline = time.monotonic() + 30                     # the poll at boot (attributes sent)
        while not mt.attributes() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert mt.attributes(), "the terminal never polled"
        mt.api("PUT", "/api/v1/tms/parameters/operator/0",
               {"files": {"terminal.json": {"receipt_footer": ["WOKEN BY A PUSH"]}}})
        t0 = time.monotonic()
        pushed = mt.api("POST", "/api/v1/tms/parameters/push", {"terminal_ids": [tid]})[0]
        a = mt.wait_action(pushed["action_id"], timeout=60)
        took = time.monotonic() - t0
    assert a["state"] == "success", a
    assert took < 60                  # the next poll would have been an hour away
