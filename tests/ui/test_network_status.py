"""The Ready screen's network icon follows whether the default acquirer answers."""
import json
import os
import socket
import time

from host_sim.board import VirtualBoard
from host_sim.hosts.acquirer.server import AcquirerHost


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def point_config_at(flash, port):
    path = os.path.join(flash, "config", "acquirers.json")
    cfg = json.load(open(path))
    for a in cfg["acquirers"].values():
        a["port"] = port
    json.dump(cfg, open(path, "w"))


def title_after_reset(vb):
    mark = vb.mark()
    vb.hard_reset()
    vb.wait_for("smartpos ready", 30, since=mark)
    end = time.monotonic() + 5
    title = ""
    while time.monotonic() < end:
        title = vb.devices["display"].text().split("\n")[0]
        if title.startswith("READY") and "NET?" not in title:
            break
        time.sleep(0.1)
    return title


def test_network_down_then_up():
    port = free_port()
    with VirtualBoard(firmware=True, pty=False) as vb:
        vb.wait_for("smartpos ready", 30)
        point_config_at(vb.flash_dir, port)
        assert "NET!" in title_after_reset(vb)                 # nothing listens: down
        host = AcquirerHost(port=port, name="alpha", spec="iso87").start()
        try:
            title = title_after_reset(vb)
            assert "NET " in title and "NET!" not in title    # the acquirer answers: up
        finally:
            host.stop()
