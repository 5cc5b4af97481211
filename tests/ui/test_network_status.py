"""The Ready screen's network icon follows whether the default acquirer answers."""
import json
import os

from host_sim.board import VirtualBoard
from host_sim.hosts.acquirer.server import AcquirerHost
from ports import free_port


def point_config_at(flash, port):
    path = os.path.join(flash, "config", "acquirers.json")
    cfg = json.load(open(path))
    for a in cfg["acquirers"].values():
        a["port"] = port
    json.dump(cfg, open(path, "w"))


def title_after_reset(vb):
    mark = vb.mark()
    vb.hard_reset()
    vb.wait_for("smartpos ready", 120, since=mark)
    disp = vb.devices["display"]

    def known(text):                # Ready, with the network status found out
        title = text.split("\n")[0]
        return title.startswith("READY") and "NET?" not in title
    disp.wait_until(known, 60)
    return disp.text().split("\n")[0]


def test_network_down_then_up():
    port = free_port()
    with VirtualBoard(firmware=True, pty=False) as vb:
        vb.wait_for("smartpos ready", 120)
        point_config_at(vb.flash_dir, port)
        assert "NET!" in title_after_reset(vb)                 # nothing listens: down
        host = AcquirerHost(port=port, name="alpha", spec="iso87").start()
        try:
            title = title_after_reset(vb)
            assert "NET " in title and "NET!" not in title    # the acquirer answers: up
        finally:
            host.stop()
