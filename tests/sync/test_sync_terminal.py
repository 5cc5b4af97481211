"""Sales sync, the terminal side (docs/sales-sync.md): the real firmware on the virtual board
(frozen, the product heap) enrolled in the real cloud service (SQLite) through a relay.
Every assertion is on what the cloud's database holds against the terminal's transaction
list, on the Ready screen, or on the terminal's queue files."""
import json
import os
import urllib.error
import urllib.request

from host_sim.salesync import STEPS, SyncCounter, read_queue


def test_power_cut_at_each_step_of_an_upload_leaves_every_sale_in_the_cloud_once():
    with SyncCounter(log=None) as sc:
        report = sc.sweep(STEPS, card_every=4)
        assert report.problems == [], report.problems
        assert [c for c in report.cuts if c[1] == "not reached"] == []
        assert report.sales >= len(STEPS)
        assert report.stored == report.sales
        # the records were measured as the queue held them (a cash sale's is some 260 B)
        assert len(report.record_bytes) >= 5 and 150 < report.bytes_per_record < 2000, report.record_bytes
        rows = sc.cloud_sales()
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)        # uploaded in order
        # the answers lost (on the link, and at a power cut after the commit) and the acks cut
        # before their pointer was written were sent again and answered "duplicate", once each
        dup = [line for line in sc.board.console().splitlines() if "sync answer" in line and "status=200" in line]
        assert len(dup) >= 4, sc.board.console()[-4000:]
        # a chip sale's EMV results and host references reached the cloud, the PAN masked
        card = [t["card"] for b in sc.cloud_uploads() for t in b["tenders"] if t["type"] == "card"]
        assert card, "no card sale uploaded"
        c = card[0]
        assert c["masked_pan"].startswith("476173") and "*" in c["masked_pan"]
        assert c["entry_mode"] == "chip" and c["auth_code"] and c["rrn"] and c["stan"] and c["response_code"] == "00"
        emv = c["emv"]
        assert emv["aid"].startswith("A000000003") and len(emv["tvr"]) == 10 and len(emv["tsi"]) == 4
        assert len(emv["cryptogram"]) == 16 and len(emv["atc"]) == 4 and len(emv["cid"]) == 2
        assert len(emv["cvm_results"]) == 6


def _post_sale(sc, body):
    ident = sc.identity
    req = urllib.request.Request("%s/%s/controller/v1/%s/sales" % (sc.cloud.url, ident["tenant"], ident["controller_id"]),
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "TargetToken " + ident["target_token"],
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _next_invoice(sc):
    with open(os.path.join(sc.rig.flash_dir, "counters.json")) as f:
        return json.load(f)["invoice"] + 1


def test_cloud_down_then_back_near_full_full_and_a_conflict():
    # 1200 bytes of queue: four cash uploads (~270 B each) pass 80 %, a fifth does not fit
    with SyncCounter(queue_bytes=1200, log=None) as sc:
        sc.relay.down_for(3600)                      # the cloud unreachable
        for i in range(4):
            sc.cash_sale(1100 + i)
        text = sc.rig.wait_text("% FULL", 30)
        assert "CLOUD QUEUE" in text and "READY" in text
        pct = int(text.split("CLOUD QUEUE ")[1].split("%")[0])
        assert 80 <= pct <= 100
        assert sc.cloud_sales() == []
        sc.cash_sale(1104)                           # no room: waits in the transaction list
        text = sc.rig.wait_text("CLOUD QUEUE FULL 1 WAIT", 30)
        assert len(read_queue(os.path.join(sc.rig.flash_dir, "upload.q"))) == 4
        assert sc.cloud_sales() == []
        # the Z report would clear the transaction list, the fifth's only copy: refused before
        # any batch is settled, the list kept
        rig = sc.rig
        rig.printer.tear_off()
        rig.home()
        rig.keys(["MENU"])
        rig.wait_text("1 Sale")
        rig.keys(["7"])
        rig.wait_text("2 Z report")
        rig.keys(["2"])
        rig.wait_text("Supervisor PIN")
        rig.keys(list("2222") + ["ENTER"])
        text = rig.wait_text("NOT QUEUED", 60)
        assert "1 NOT QUEUED" in text and "CONNECT THE CLOUD" in text
        assert not [r for r in rig.receipts() if "Z REPORT" in r]
        assert len(sc.listed()) == 5
        rig.home()
        sc.relay.down_for(0)                         # back: all arrive, in order, once
        assert sc.wait_drained(120)
        rows = sc.cloud_sales()
        listed = sc.listed()
        assert [r[0] for r in rows] == sorted(listed) and len(rows) == 5
        assert {r[0]: (r[1], r[2], r[3]) for r in rows} == listed
        sc.rig.display.wait_until(lambda t: "CLOUD QUEUE" not in t, 30)
        assert "CLOUD QUEUE" not in sc.rig.display.text()

        # a conflict: the cloud already holds the next invoice with other content
        inv = _next_invoice(sc)
        planted = {"invoice": inv, "currency": "USD", "terminal_time": "2026-11-28T06:00:00Z",
                   "lines": [{"sku": "X", "qty": 1, "unit_price": 999, "amount": 999, "tax_rate_bp": 0}],
                   "tenders": [{"type": "cash", "amount": 999}]}
        assert _post_sale(sc, planted) == 201
        sc.cash_sale(1500)
        text = sc.rig.wait_text("CLOUD REFUSED 1 SALE", 60)
        assert "READY" in text
        ack = sc.ack()
        assert list(ack["refused"]) == [str(inv)] and ack["refused"][str(inv)].startswith("409 ")
        assert sc.cloud_conflicts() == [(inv, 1)]
        stored = {r[0]: r for r in sc.cloud_sales()}
        assert stored[inv][2] == 999                 # the stored sale unchanged
        # the refused upload is kept on flash; the next sale is not held up by it
        assert inv in [i for i, _ in read_queue(os.path.join(sc.rig.flash_dir, "upload.q"))]
        sc.cash_sale(1600)
        assert sc.wait_drained(60)
        assert _next_invoice(sc) - 1 in {r[0] for r in sc.cloud_sales()}
        # a power cut does not forget the refusal: shown again after the reboot
        sc.power_cycle()
        sc.rig.wait_text("CLOUD REFUSED 1 SALE", 60)


def test_uploads_go_over_https_with_the_cloud_ca_pinned():
    with SyncCounter(tls=True, log=None) as sc:
        assert sc.cloud.url.startswith("https://")
        sc.cash_sale(1234)
        assert sc.wait_drained(90), sc.board.console()[-3000:]
        assert sc.cloud_sales() == [(1, "sale", 1234, 0)]
