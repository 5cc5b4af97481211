"""Moments without heap at the counter (a background pull holding it, a fragmented heap late in
a day): a scan at the basket is kept and read again, so the item reaches the sale once, and
never twice when the heap ran out after the line was in; a menu whose modules load when it
opens (Apps, Stock) is loaded once more after a collection.  MemoryError injected on the whole
terminal (host_sim.faultinject), product heap."""
import json
import os

import pytest

from host_sim import catalog
from host_sim.faultinject import Injector
from host_sim.rig import Rig

ITEMS = [
    {"barcode": "4006381333931", "sku": "A", "name": "APPLE JUICE", "name_zh": "苹果汁", "price": 250, "tax": 1},
    {"barcode": "96385074", "sku": "B", "name": "RICE 5KG", "name_zh": "大米", "price": 1999, "tax": 2},
]
RULES = {"tax": {"mode": "exclusive", "rounding": "line", "rates": {"0": 0, "1": 600, "2": 1300}}}
POINT = "pos.catalog.cart:Cart.scan"
MENU = "pos.platform.runtime:menu"


def _stock(rig):
    catalog.write(os.path.join(rig.flash_dir, "catalog.bin"), ITEMS, version=1)
    with open(os.path.join(rig.flash_dir, "config", "catalog.json"), "w") as f:
        json.dump(RULES, f)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    ctl = str(tmp_path_factory.mktemp("inject-basket"))
    with Rig(before_boot=_stock, cpu_env=Injector.env(ctl, [POINT, MENU])) as r:
        r.inject = Injector(r, ctl)
        yield r


def test_a_scan_without_heap_is_read_again_and_counted_once(rig):
    rig.home()
    rig.keys(["F2"])
    rig.wait_text("BASKET 0")
    rig.inject.arm(POINT, "MemoryError", "before")
    rig.board.devices["scanner"].scan("4006381333931")
    text = rig.wait_text("BASKET 1")
    assert rig.inject.disarm(), "the injected MemoryError never fired"
    assert "USD 2.65" in text and "memory" not in text         # 2.50 + 6 % tax, no message
    # the heap runs out once the line is in: the item stays in the sale once, the message says so
    rig.inject.arm(POINT, "MemoryError", "after")
    rig.board.devices["scanner"].scan("96385074")
    text = rig.wait_text("injected after")
    assert rig.inject.disarm()
    assert "BASKET 2" in text and "USD 25.24" in text          # 2.65 + 19.99 + 13 % tax
    assert "scan again" not in text
    # and the next scan is an ordinary one
    rig.board.devices["scanner"].scan("4006381333931")
    text = rig.wait_text("BASKET 3")
    assert "USD 27.89" in text
    assert "scan failed" in rig.board.console()
    rig.keys(["CANCEL"])
    rig.wait_any(["READY", "Cancel"])


def test_the_apps_menu_opens_when_its_first_load_finds_no_heap(rig):
    rig.home()
    rig.inject.arm(MENU, "MemoryError", "before")
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP", "ENTER"])
    text = rig.wait_text("App store")
    assert rig.inject.disarm(), "the injected MemoryError never fired"
    assert "memory" not in text and "ERROR" not in text
    rig.home()
