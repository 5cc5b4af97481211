"""Conformance of the device API with the hawkBit DDI API documentation (resource paths, JSON
shapes, status codes, _links, feedback execution states, RFC 7233 ranges, TargetToken)."""
import hashlib
import re

import pytest

IMAGE = bytes(range(256)) * 300          # 76,800 bytes


@pytest.fixture
def fleet(client, admin):
    reg = client.post("/api/v1/terminals", json={"serial": "DDI-1", "controller_id": "ctrl-1"}, headers=admin).json()
    ident = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "DDI-1"}).json()
    m = client.post("/api/v1/tms/modules", json={"kind": "firmware", "name": "smartpos", "version": "1.1.0"},
                    headers=admin).json()
    r = client.put("/api/v1/tms/modules/%d/artifacts/firmware.img" % m["id"], content=IMAGE,
                   headers=dict(admin, **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 201 and r.json()["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    dev = {"Authorization": "TargetToken " + ident["target_token"]}
    return {"admin": admin, "dev": dev, "base": "/default/controller/v1/ctrl-1", "terminal": reg["terminal"],
            "module": m, "token": ident["target_token"]}


def _deploy(client, f, **kw):
    r = client.post("/api/v1/tms/actions", json=dict(terminal_id=f["terminal"]["id"], module_id=f["module"]["id"],
                                                     **kw), headers=f["admin"])
    assert r.status_code == 201, r.text
    return r.json()


def _feedback(client, f, action, execution, finished="none", **extra):
    status = {"execution": execution, "result": {"finished": finished}}
    status.update(extra)
    return client.post("%s/deploymentBase/%d/feedback" % (f["base"], action["id"]), json={"status": status},
                       headers=f["dev"])


def test_poll_needs_the_right_target_token(client, fleet):
    assert client.get(fleet["base"]).status_code == 401
    for bad in ("TargetToken nope", "Bearer " + fleet["token"], "TargetToken", "GatewayToken " + fleet["token"]):
        r = client.get(fleet["base"], headers={"Authorization": bad})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "TargetToken"
    # another controller's path or another tenant with a valid token: the same 401
    assert client.get("/default/controller/v1/ctrl-2", headers=fleet["dev"]).status_code == 401
    assert client.get("/other/controller/v1/ctrl-1", headers=fleet["dev"]).status_code == 401


def test_poll_answer_shape(client, fleet):
    r = client.get(fleet["base"], headers=fleet["dev"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/hal+json")
    body = r.json()
    assert re.match(r"^\d\d:\d\d:\d\d$", body["config"]["polling"]["sleep"])
    # first contact: the server asks for config data (controller attributes), nothing to deploy
    assert set(body["_links"]) == {"configData"}
    assert body["_links"]["configData"]["href"].endswith("/default/controller/v1/ctrl-1/configData")


def test_config_data_merge_replace_remove(client, fleet, app):
    url = fleet["base"] + "/configData"
    assert client.put(url, json={"mode": "merge", "data": {"model": "f429", "fw": "1.0.0"}},
                      headers=fleet["dev"]).status_code == 200
    assert client.put(url, json={"data": {"fw": "1.0.1", "heap_free": "120000"}}, headers=fleet["dev"]).status_code == 200
    from sqlalchemy import text
    attrs = lambda: app.state.engine.connect().execute(text("SELECT attributes FROM terminals")).scalar()
    assert attrs() == '{"fw": "1.0.1", "heap_free": "120000", "model": "f429"}'
    client.put(url, json={"mode": "remove", "data": {"heap_free": ""}}, headers=fleet["dev"])
    assert attrs() == '{"fw": "1.0.1", "model": "f429"}'
    client.put(url, json={"mode": "replace", "data": {"a": "b"}}, headers=fleet["dev"])
    assert attrs() == '{"a": "b"}'
    assert "configData" not in client.get(fleet["base"], headers=fleet["dev"]).json().get("_links", {})
    assert client.put(url, json={"mode": "upsert", "data": {}}, headers=fleet["dev"]).status_code == 422


def test_deployment_base_and_artifact_download(client, fleet):
    a = _deploy(client, fleet, forced=True, maintenance_window="available")
    links = client.get(fleet["base"], headers=fleet["dev"]).json()["_links"]
    href = links["deploymentBase"]["href"]
    assert re.search(r"/default/controller/v1/ctrl-1/deploymentBase/%d\?c=-?\d+$" % a["id"], href)
    dep = client.get(href.split("testserver")[1], headers=fleet["dev"]).json()
    assert dep["id"] == str(a["id"])
    d = dep["deployment"]
    assert (d["download"], d["update"], d["maintenanceWindow"]) == ("forced", "forced", "available")
    chunk = d["chunks"][0]
    assert (chunk["part"], chunk["name"], chunk["version"]) == ("os", "smartpos", "1.1.0")
    art = chunk["artifacts"][0]
    assert art["filename"] == "firmware.img" and art["size"] == len(IMAGE)
    assert art["hashes"] == {"sha256": hashlib.sha256(IMAGE).hexdigest(), "sha1": hashlib.sha1(IMAGE).hexdigest(),
                             "md5": hashlib.md5(IMAGE).hexdigest()}
    assert set(art["_links"]) == {"download", "download-http", "md5sum", "md5sum-http"}
    url = art["_links"]["download"]["href"].split("testserver")[1]
    full = client.get(url, headers=fleet["dev"])
    assert full.status_code == 200 and full.content == IMAGE and full.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers=dict(fleet["dev"], Range="bytes=1000-1999"))
    assert part.status_code == 206 and part.content == IMAGE[1000:2000]
    assert part.headers["content-range"] == "bytes 1000-1999/%d" % len(IMAGE)
    tail = client.get(url, headers=dict(fleet["dev"], Range="bytes=76000-"))
    assert tail.status_code == 206 and tail.content == IMAGE[76000:]
    assert client.get(url, headers=dict(fleet["dev"], Range="bytes=-100")).content == IMAGE[-100:]
    bad = client.get(url, headers=dict(fleet["dev"], Range="bytes=90000-"))
    assert bad.status_code == 416 and bad.headers["content-range"] == "bytes */%d" % len(IMAGE)
    assert client.get(url, headers=dict(fleet["dev"], Range="bytes=1-2,5-6")).status_code == 416
    md5 = client.get(url + ".MD5SUM", headers=fleet["dev"])
    assert md5.text == "%s  firmware.img\n" % hashlib.md5(IMAGE).hexdigest()
    listing = client.get("%s/softwaremodules/%d/artifacts" % (fleet["base"], fleet["module"]["id"]),
                         headers=fleet["dev"]).json()
    assert listing[0]["filename"] == "firmware.img"
    assert client.get(url, headers={"Authorization": "TargetToken x"}).status_code == 401


def test_unassigned_modules_are_not_served(client, fleet):
    url = "%s/softwaremodules/%d/artifacts/firmware.img" % (fleet["base"], fleet["module"]["id"])
    assert client.get(url, headers=fleet["dev"]).status_code == 404


def test_feedback_moves_the_action_through_its_states(client, fleet):
    a = _deploy(client, fleet)
    steps = [("scheduled", "none", "scheduled"), ("download", "none", "downloading"),
             ("proceeding", "none", "installing"), ("downloaded", "none", "downloaded"),
             ("resumed", "none", "installing")]
    for execution, finished, state in steps:
        r = _feedback(client, fleet, a, execution, finished, details=["step " + execution])
        assert r.status_code == 200, r.text
        got = client.get("/api/v1/tms/actions/%d" % a["id"], headers=fleet["admin"]).json()
        assert got["state"] == state
    r = _feedback(client, fleet, a, "proceeding", "none", progress=None)
    r = client.post("%s/deploymentBase/%d/feedback" % (fleet["base"], a["id"]),
                    json={"id": str(a["id"]), "time": "20261127T120000",
                          "status": {"execution": "proceeding", "result": {"finished": "none",
                                                                            "progress": {"cnt": 2, "of": 5}}}},
                    headers=fleet["dev"])
    assert r.status_code == 200
    assert _feedback(client, fleet, a, "closed", "success", details=["installed"]).status_code == 200
    got = client.get("/api/v1/tms/actions/%d" % a["id"], headers=fleet["admin"]).json()
    assert got["state"] == "success" and got["closed_at"]
    assert got["history"][-2]["progress"] == [2, 5]
    # closed: more feedback is 410 Gone; the poll offers installedBase and asks for config data again
    assert _feedback(client, fleet, a, "proceeding").status_code == 410
    links = client.get(fleet["base"], headers=fleet["dev"]).json()["_links"]
    assert "deploymentBase" not in links and links["installedBase"]["href"].endswith("/installedBase/%d" % a["id"])
    assert "configData" in links
    inst = client.get("%s/installedBase/%d?actionHistory=10" % (fleet["base"], a["id"]), headers=fleet["dev"]).json()
    assert inst["id"] == str(a["id"]) and inst["actionHistory"]["status"] == "FINISHED"
    assert "installed" in inst["actionHistory"]["messages"]


def test_failure_rejection_and_bad_feedback(client, fleet):
    a = _deploy(client, fleet)
    assert _feedback(client, fleet, a, "rejected", "none", details=["busy: transaction"]).status_code == 200
    assert client.get("/api/v1/tms/actions/%d" % a["id"], headers=fleet["admin"]).json()["state"] == "deferred"
    assert "deploymentBase" in client.get(fleet["base"], headers=fleet["dev"]).json()["_links"]
    assert _feedback(client, fleet, a, "exploded").status_code == 422
    r = client.post("%s/deploymentBase/%d/feedback" % (fleet["base"], a["id"]), json={"status": {"execution": "closed"}},
                    headers=fleet["dev"])
    assert r.status_code == 422
    assert client.post("%s/deploymentBase/999/feedback" % fleet["base"], json={"status": {
        "execution": "closed", "result": {"finished": "success"}}}, headers=fleet["dev"]).status_code == 404
    assert _feedback(client, fleet, a, "closed", "failure", details=["self-test failed"]).status_code == 200
    assert client.get("/api/v1/tms/actions/%d" % a["id"], headers=fleet["admin"]).json()["state"] == "failed"


def test_cancel_running_action_is_asked_and_confirmed(client, fleet):
    a = _deploy(client, fleet)
    _feedback(client, fleet, a, "download")
    r = client.post("/api/v1/tms/actions/%d/cancel" % a["id"], headers=fleet["admin"])
    assert r.json()["state"] == "cancelling"
    links = client.get(fleet["base"], headers=fleet["dev"]).json()["_links"]
    assert "deploymentBase" not in links
    cancel = client.get(links["cancelAction"]["href"].split("testserver")[1], headers=fleet["dev"]).json()
    assert cancel == {"id": str(a["id"]), "cancelAction": {"stopId": str(a["id"])}}
    r = client.post("%s/cancelAction/%d/feedback" % (fleet["base"], a["id"]),
                    json={"id": str(a["id"]), "status": {"execution": "closed", "result": {"finished": "success"}}},
                    headers=fleet["dev"])
    assert r.status_code == 200
    assert client.get("/api/v1/tms/actions/%d" % a["id"], headers=fleet["admin"]).json()["state"] == "cancelled"


def test_a_scheduled_action_is_cancelled_at_once_and_a_new_one_replaces_it(client, fleet):
    a = _deploy(client, fleet)
    b = _deploy(client, fleet)
    assert client.get("/api/v1/tms/actions/%d" % a["id"], headers=fleet["admin"]).json()["state"] == "cancelled"
    href = client.get(fleet["base"], headers=fleet["dev"]).json()["_links"]["deploymentBase"]["href"]
    assert "/deploymentBase/%d?" % b["id"] in href


def test_deployed_modules_are_frozen_and_uploads_have_their_own_limit(client, fleet):
    _deploy(client, fleet)
    r = client.put("/api/v1/tms/modules/%d/artifacts/other.bin" % fleet["module"]["id"], content=b"x",
                   headers=dict(fleet["admin"], **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 409
    m = client.post("/api/v1/tms/modules", json={"kind": "firmware", "name": "smartpos", "version": "1.2.0"},
                    headers=fleet["admin"]).json()
    big = b"\0" * (3 << 20)            # over the 1 MiB API limit, within the artifact limit
    r = client.put("/api/v1/tms/modules/%d/artifacts/big.img" % m["id"], content=big,
                   headers=dict(fleet["admin"], **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 201 and r.json()["size"] == len(big)
    r = client.post("/api/v1/tms/modules", json={"kind": "firmware", "name": "smartpos", "version": "1.2.0"},
                    headers=fleet["admin"])
    assert r.status_code == 409
