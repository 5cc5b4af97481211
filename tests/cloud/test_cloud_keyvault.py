"""Terminal KEKs in the cloud: registered by operator administrators only, sealed at rest, shown
only by check value; a key push wraps fresh keys as TR-31 blocks under each terminal's KEK."""
import json

from sqlalchemy import text

from cloud.tms import keys as tr31keys


def test_kek_registry_and_push(client, tenancy, app, settings):
    t = client.post("/api/v1/terminals", json={"serial": "KEK-1", "store_id": tenancy["store_a"]["id"]},
                    headers=tenancy["admin"]).json()["terminal"]
    kek = tr31keys.generate_kek("A")
    body = {"key": kek.key.hex(), "algorithm": "A"}
    assert client.put("/api/v1/terminals/%d/kek" % t["id"], json=body, headers=tenancy["staff"]).status_code == 403
    assert client.put("/api/v1/terminals/%d/kek" % t["id"], json=body, headers=tenancy["owner-b"]).status_code == 404
    r = client.put("/api/v1/terminals/%d/kek" % t["id"], json=body, headers=tenancy["admin"])
    assert r.status_code == 200 and r.json()["kcv"] == kek.kcv()
    with app.state.engine.connect() as c:
        sealed = c.execute(text("SELECT sealed FROM terminal_keks")).scalar()
        audit = " ".join(r[0] for r in c.execute(text("SELECT detail FROM audit_log")))
    assert kek.key.hex() not in sealed.lower() and kek.key.hex() not in audit.lower()
    r = client.post("/api/v1/tms/keys/push", json={"terminal_ids": [t["id"]], "acquirer": "alpha",
                                                   "slots": ["pin", "mac"], "key_version": 3},
                    headers=tenancy["admin"])
    assert r.status_code == 201, r.text
    pushed = r.json()[0]
    module = client.get("/api/v1/tms/actions/%d" % pushed["action_id"], headers=tenancy["admin"]).json()
    assert module["module"].startswith("keys keys-KEK-1")
    # the artifact holds TR-31 blocks that open under the terminal's KEK with the announced KCVs
    import os
    arts = [f for f in os.listdir(os.path.join(settings.data_dir, "artifacts")) if not f.startswith(".")]
    blocks = json.loads(open(os.path.join(settings.data_dir, "artifacts", arts[0])).read())["blocks"]
    import psec
    for slot, blk in blocks.items():
        header, key = psec.tr31.unwrap(kek.key, blk)
        assert tr31keys.kcv(key, "T").hex().upper() == pushed["kcvs"][slot]
        assert header.version_num == "03" and header.key_usage in ("P0", "M3")
    r = client.post("/api/v1/tms/keys/push", json={"terminal_ids": [t["id"]], "acquirer": "alpha", "slots": ["pin"],
                                                   "key_version": 1}, headers=tenancy["owner-a"])
    assert r.status_code == 403
    bad = client.put("/api/v1/terminals/%d/kek" % t["id"], json={"key": "00" * 15, "algorithm": "A"},
                     headers=tenancy["admin"])
    assert bad.status_code == 422
