"""The app store: a developer registers and uploads a signed package; a wrong signature or a
tampered package is refused at upload; the operator reviews (a package asking for more than is
granted cannot be published) and publishes; merchants see it with its install count; the
operator pushes it to a group as a rollout; a terminal's crash report is counted."""
import base64
import os

import pytest

from cloud.appstore import package

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("store"))
    with open(package.build(os.path.join(REPO, "apps", "payer"), d), "rb") as f:
        raw = f.read()
    key, other = os.path.join(d, "dev.pem"), os.path.join(d, "other.pem")
    pub = package.new_key(key)
    package.new_key(other)
    return {"raw": raw, "pub": pub, "sig": package.developer_sign(raw, "acme", key),
            "wrong": package.developer_sign(raw, "acme", other)}


def _b64(b):
    return base64.b64encode(b).decode()


def test_developer_upload_review_publish_push_and_crashes(client, admin, signed):
    r = client.post("/api/v1/appstore/developers", json={"name": "acme", "email": "dev@acme.test",
                                                         "public_key": signed["pub"]})
    assert r.status_code == 201 and r.json()["role"] == "dev-acme"
    dev = {"X-Developer-Token": r.json()["token"]}
    assert client.post("/api/v1/appstore/packages", json={"package": _b64(signed["raw"]), "signature":
                       _b64(signed["sig"])}).status_code == 401          # no token
    bad = client.post("/api/v1/appstore/packages", headers=dev,
                      json={"package": _b64(signed["raw"]), "signature": _b64(signed["wrong"])})
    assert bad.status_code == 409 and bad.json()["detail"] == (
        "signature: developer metadata is not signed with the registered key")
    tampered = bytearray(signed["raw"])
    tampered[-200] ^= 1
    bad = client.post("/api/v1/appstore/packages", headers=dev,
                      json={"package": _b64(bytes(tampered)), "signature": _b64(signed["sig"])})
    assert bad.status_code == 409 and bad.json()["detail"] == (
        "signature: package bytes differ from what the developer signed")
    up = client.post("/api/v1/appstore/packages", headers=dev,
                     json={"package": _b64(signed["raw"]), "signature": _b64(signed["sig"])})
    assert up.status_code == 201, up.text
    p = up.json()
    assert (p["app_id"], p["version"], p["state"], p["permissions"]) == (
        "payer", "1.0.0", "submitted", ["payments", "printer", "storage"])
    assert [x["id"] for x in client.get("/api/v1/appstore/review", headers=admin).json()] == [p["id"]]
    # the review grants less than the package asks for: not published
    r = client.post("/api/v1/appstore/packages/%d/publish" % p["id"], json={"permissions": ["payments"]},
                    headers=admin)
    assert r.status_code == 409 and r.json()["detail"] == "the package asks for printer, storage, not granted"
    r = client.post("/api/v1/appstore/packages/%d/publish" % p["id"],
                    json={"permissions": ["payments", "printer", "storage"]}, headers=admin)
    assert r.status_code == 200, r.text
    module = client.get("/api/v1/tms/modules/%d" % r.json()["module_id"], headers=admin).json()
    assert (module["kind"], module["name"], module["version"]) == ("app", "payer", "1.0.0")
    assert [a["filename"] for a in module["artifacts"]] == ["payer.swu"]
    apps = client.get("/api/v1/appstore/apps", headers=admin).json()
    assert [(a["app_id"], a["version"], a["installs"], a["crashes"]) for a in apps] == [("payer", "1.0.0", 0, 0)]
    # a terminal in a group: the push is a rollout of the app's module
    reg = client.post("/api/v1/terminals", json={"serial": "APP-1", "model": "sim"}, headers=admin).json()
    e = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "APP-1"}).json()
    tdev = {"Authorization": "TargetToken " + e["target_token"]}
    g = client.post("/api/v1/tms/groups", json={"name": "apps", "kind": "static"}, headers=admin).json()
    client.put("/api/v1/tms/groups/%d/members" % g["id"], json={"terminal_ids": [reg["terminal"]["id"]]},
               headers=admin)
    ro = client.post("/api/v1/appstore/apps/payer/push", json={"group_id": g["id"]}, headers=admin)
    assert ro.status_code == 201, ro.text
    ro = ro.json()
    assert ro["module_id"] == module["id"] and ro["counts"] == {"scheduled": 1}
    aid = ro["targets"][0]["action_id"]
    dep = client.get("/default/controller/v1/APP-1/deploymentBase/%d" % aid, headers=tdev).json()
    chunk = dep["deployment"]["chunks"][0]
    assert chunk["part"] == "bApp" and chunk["artifacts"][0]["filename"] == "payer.swu"
    client.post("/default/controller/v1/APP-1/deploymentBase/%d/feedback" % aid, headers=tdev,
                json={"status": {"execution": "closed", "result": {"finished": "success"}, "details": ["installed"]}})
    r = client.post("/default/controller/v1/APP-1/apps/crashes", headers=tdev,
                    json=[{"app": "payer", "version": "1.0.0", "why": "raised ValueError", "at": 1795000000}])
    assert r.status_code == 201 and r.json() == {"stored": 1}
    assert client.post("/default/controller/v1/APP-1/apps/crashes", json=[]).status_code == 401
    a = client.get("/api/v1/appstore/apps/payer", headers=admin).json()
    assert (a["installs"], a["crashes"], a["versions"]) == (1, 1, ["1.0.0"])
    c = client.get("/api/v1/appstore/crashes", headers=admin).json()
    assert [(x["app_id"], x["why"]) for x in c] == [("payer", "raised ValueError")]
    # pushed again, forced: a terminal that is busy answers deferred, the action stays open, forced
    ro = client.post("/api/v1/appstore/apps/payer/push", json={"group_id": g["id"], "forced": True},
                     headers=admin).json()
    aid = ro["targets"][0]["action_id"]
    dep = client.get("/default/controller/v1/APP-1/deploymentBase/%d" % aid, headers=tdev).json()
    assert dep["deployment"]["download"] == "forced"
    client.post("/default/controller/v1/APP-1/deploymentBase/%d/feedback" % aid, headers=tdev,
                json={"status": {"execution": "rejected", "result": {"finished": "none"},
                                 "details": ["deferred: transaction in progress"]}})
    r = client.get("/api/v1/tms/rollouts/%d" % ro["id"], headers=admin).json()
    assert r["counts"] == {"deferred": 1} and r["state"] != "finished"
    # the same version again: refused (published versions only grow)
    again = client.post("/api/v1/appstore/packages", headers=dev,
                        json={"package": _b64(signed["raw"]), "signature": _b64(signed["sig"])})
    assert again.status_code == 409 and "not newer than the published 1.0.0" in again.json()["detail"]
    assert "App store" in client.get("/store").text
