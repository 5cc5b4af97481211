"""A scanned basket on the whole counter.

    smartpos demo --scenario basket-scan

Five items scanned by the scanner model (one a weighed item's scale label), the basket's
lines and total on the display, a promotion (10 % off the drinks, docs/promotions.md) with its
explanation, the tax per rate, paid by chip card; the card receipts and the sale's summary with
its lines, the reward and the tax printed.  The counter runs on the product heap.
"""
import os

ITEMS = [
    {"barcode": "4006381333931", "sku": "JUICE1L", "name": "APPLE JUICE 1L", "name_zh": "苹果汁", "price": 250, "tax": 1},
    {"barcode": "96385074", "sku": "RICE5", "name": "RICE 5KG", "name_zh": "大米", "price": 1999, "tax": 1},
    {"barcode": "2312345000002", "sku": "CHEESE", "name": "CHEDDAR", "name_zh": "奶酪", "price": 1899, "tax": 1, "unit": "kg"},
    {"barcode": "036000291452", "sku": "SOAP", "name": "HAND SOAP", "name_zh": "洗手液", "price": 399, "tax": 2},
    {"barcode": "5901234123457", "sku": "TEA", "name": "GREEN TEA", "name_zh": "绿茶", "price": 650, "tax": 1},
]
SCANS = ["4006381333931", "96385074", "2312345007506", "036000291452", "5901234123457"]   # 0.750 kg cheddar
RULES = '{"tax": {"mode": "exclusive", "rounding": "line", "rates": {"1": 600, "2": 1300}}}'
PROGRAMS = ('{"programs": [{"id": "DRINKS10", "name": "10% OFF DRINKS", "rule": {"skus": ["JUICE1L", "TEA"]}, '
            '"reward": {"percent": 1000, "on": "items"}}]}')


def basket_scan(args):
    from host_sim import catalog
    from host_sim.rig import Rig

    def stock(rig):
        catalog.write(os.path.join(rig.flash_dir, "catalog.bin"), ITEMS, version=1)
        with open(os.path.join(rig.flash_dir, "config", "catalog.json"), "w") as f:
            f.write(RULES)
        with open(os.path.join(rig.flash_dir, "config", "promotions.json"), "w") as f:
            f.write(PROGRAMS)

    with Rig(before_boot=stock) as rig:
        rig.home()
        rig.printer.tear_off()
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        for n, code in enumerate(SCANS, 1):
            rig.board.devices["scanner"].scan(code)
            rig.wait_text("BASKET %d" % n)
        print(rig.display.text())
        rig.keys(["ENTER"])
        rig.wait_text("2 Card")
        rig.keys(["2"])
        rig.wait_text("INSERT")
        rig.insert("visa-credit")
        text = rig.finish_card("1234", done=("Paid", "DECLINED", "NOT COMPLETED"))
        rig.remove()
        paid = "Paid" in text
        rig.printer.wait_for_cuts(3)
        receipts = rig.receipts()
        for r in receipts:
            print(r)
            print("-" * 32)
        summary = receipts[-1] if receipts else ""
        taxed = [ln for ln in summary.split("\n") if ln.startswith("TAX ")]
        # 2.50 + 6.50 drinks: 0.90 off
        promoted = [ln for ln in summary.split("\n") if ln.startswith("10% OFF DRINKS") and ln.endswith("-USD 0.90")]
        sale = [e for e in rig.batch() if e.get("kind") == "sale"]
        rig.keys(["ENTER"])
    ok = paid and len(taxed) == 2 and len(promoted) == 1 and bool(sale) and sale[-1]["ok"]
    amount = sale[-1]["amount"] if sale else 0
    return ok, ("five scanned items (one weighed) paid by card, %d minor units, a promotion explained on the "
                "receipt, tax on %d rates" % (amount, len(taxed)))


SCENARIOS = {"basket-scan": basket_scan}
