"""Groups and staged rollouts: stages start as the previous one closes; past the error threshold
the rollout stops by itself and cancels what has not started."""
import pytest


@pytest.fixture
def fleet10(client, admin):
    terms = []
    for i in range(10):
        reg = client.post("/api/v1/terminals", json={"serial": "R-%02d" % i, "model": "f429" if i % 2 else "sim"},
                          headers=admin).json()
        e = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"],
                                                "serial": "R-%02d" % i}).json()
        terms.append({"id": reg["terminal"]["id"], "cid": "R-%02d" % i,
                      "dev": {"Authorization": "TargetToken " + e["target_token"]}})
    m = client.post("/api/v1/tms/modules", json={"kind": "firmware", "name": "smartpos", "version": "2.0.0"},
                    headers=admin).json()
    client.put("/api/v1/tms/modules/%d/artifacts/fw.img" % m["id"], content=b"image",
               headers=dict(admin, **{"Content-Type": "application/octet-stream"}))
    return terms, m


def _open_action(client, t):
    links = client.get("/default/controller/v1/%s" % t["cid"], headers=t["dev"]).json().get("_links", {})
    href = links.get("deploymentBase", {}).get("href")
    return int(href.split("/deploymentBase/")[1].split("?")[0]) if href else None


def _finish(client, t, ok):
    aid = _open_action(client, t)
    assert aid, t
    r = client.post("/default/controller/v1/%s/deploymentBase/%d/feedback" % (t["cid"], aid),
                    json={"status": {"execution": "closed", "result": {"finished": "success" if ok else "failure"},
                                     "details": [] if ok else ["self-test failed"]}}, headers=t["dev"])
    assert r.status_code == 200


def test_staged_rollout_stops_on_errors(client, admin, fleet10):
    terms, m = fleet10
    g = client.post("/api/v1/tms/groups", json={"name": "all", "kind": "static"}, headers=admin).json()
    g = client.put("/api/v1/tms/groups/%d/members" % g["id"], json={"terminal_ids": [t["id"] for t in terms]},
                   headers=admin).json()
    assert g["size"] == 10
    r = client.post("/api/v1/tms/rollouts", json={"name": "2.0.0 to all", "module_id": m["id"], "group_id": g["id"],
                                                  "stages": [20, 100], "error_threshold": 20}, headers=admin).json()
    assert r["total"] == 2 and r["stage"] == 0 and r["counts"] == {"scheduled": 2}
    with_action = [t for t in terms if _open_action(client, t)]
    assert [t["cid"] for t in with_action] == ["R-00", "R-01"]
    for t in with_action:
        _finish(client, t, True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["stage"] == 1 and r["total"] == 10 and r["counts"] == {"success": 2, "scheduled": 8}
    # one terminal of the second stage fails: 1 failed of 3 closed = 33% > 20%: stopped, the rest cancelled
    _finish(client, terms[2], False)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["state"] == "stopped" and "1 of 3 closed actions failed" in r["reason"]
    assert r["counts"] == {"success": 2, "failed": 1, "cancelled": 7}
    assert _open_action(client, terms[3]) is None
    states = {x["terminal_id"]: x["state"] for x in r["targets"]}
    assert states[terms[2]["id"]] == "failed" and states[terms[9]["id"]] == "cancelled"
    # retry gives the failed one and the cancelled ones a new action and runs again
    r = client.post("/api/v1/tms/rollouts/%d/retry" % r["id"], headers=admin).json()
    assert r["state"] == "running" and r["counts"] == {"success": 2, "scheduled": 8}
    for t in terms[2:]:
        _finish(client, t, True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["state"] == "finished" and r["counts"] == {"success": 10}
    audit = client.get("/api/v1/audit?entity=rollouts", headers=admin).json()
    assert any(e["action"] == "update" and e["detail"].get("state") == ["running", "stopped"] for e in audit)


def test_dynamic_group_pause_resume_and_finish(client, admin, fleet10):
    terms, m = fleet10
    g = client.post("/api/v1/tms/groups", json={"name": "f429s", "kind": "dynamic", "filter": {"model": "f429"}},
                    headers=admin).json()
    assert g["size"] == 5
    r = client.post("/api/v1/tms/rollouts", json={"name": "f429 only", "module_id": m["id"], "group_id": g["id"],
                                                  "stages": [100], "error_threshold": 50}, headers=admin).json()
    assert r["total"] == 5
    assert client.post("/api/v1/tms/rollouts/%d/pause" % r["id"], headers=admin).json()["state"] == "paused"
    for t in terms[1::2]:
        _finish(client, t, True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["state"] == "paused"
    r = client.post("/api/v1/tms/rollouts/%d/resume" % r["id"], headers=admin).json()
    assert r["state"] == "finished" and r["reason"] == "5 succeeded, 0 failed"
    assert client.post("/api/v1/tms/rollouts/%d/stop" % r["id"], headers=admin).status_code == 409


def test_bad_rollouts_are_refused(client, admin, fleet10):
    terms, m = fleet10
    g = client.post("/api/v1/tms/groups", json={"name": "empty", "kind": "static"}, headers=admin).json()
    body = {"name": "x", "module_id": m["id"], "group_id": g["id"]}
    assert client.post("/api/v1/tms/rollouts", json=body, headers=admin).status_code == 409
    client.put("/api/v1/tms/groups/%d/members" % g["id"], json={"terminal_ids": [terms[0]["id"]]}, headers=admin)
    for stages in ([50], [50, 20, 100], [0, 100]):
        r = client.post("/api/v1/tms/rollouts", json=dict(body, stages=stages), headers=admin)
        assert r.status_code == 409 and "stages" in r.json()["detail"]
    assert client.post("/api/v1/tms/groups", json={"name": "s", "kind": "static", "filter": {"model": "x"}},
                       headers=admin).status_code == 409


def test_force_reissues_deferred_terminals_as_forced(client, admin, fleet10):
    terms, m = fleet10
    g = client.post("/api/v1/tms/groups", json={"name": "two", "kind": "static"}, headers=admin).json()
    client.put("/api/v1/tms/groups/%d/members" % g["id"], json={"terminal_ids": [terms[0]["id"], terms[1]["id"]]},
               headers=admin)
    r = client.post("/api/v1/tms/rollouts", json={"name": "soft", "module_id": m["id"], "group_id": g["id"]},
                    headers=admin).json()
    busy = terms[0]
    aid = _open_action(client, busy)
    dep = client.get("/default/controller/v1/%s/deploymentBase/%d" % (busy["cid"], aid), headers=busy["dev"]).json()
    assert dep["deployment"]["update"] == "attempt"
    client.post("/default/controller/v1/%s/deploymentBase/%d/feedback" % (busy["cid"], aid),
                json={"status": {"execution": "rejected", "result": {"finished": "none"},
                                 "details": ["deferred: transaction in progress"]}}, headers=busy["dev"])
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["counts"] == {"deferred": 1, "scheduled": 1}
    r = client.post("/api/v1/tms/rollouts/%d/force" % r["id"], headers=admin).json()
    assert r["counts"] == {"scheduled": 2}
    new = _open_action(client, busy)
    assert new != aid
    dep = client.get("/default/controller/v1/%s/deploymentBase/%d" % (busy["cid"], new), headers=busy["dev"]).json()
    assert dep["deployment"]["update"] == "forced"
    assert client.get("/api/v1/tms/actions/%d" % aid, headers=admin).json()["state"] == "cancelled"
    for t in terms[:2]:
        _finish(client, t, True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["state"] == "finished" and r["counts"] == {"success": 2}
    assert client.post("/api/v1/tms/rollouts/%d/force" % r["id"], headers=admin).status_code == 409


def test_stages_by_groups_then_the_rest(client, admin, fleet10):
    terms, m = fleet10
    ids = [t["id"] for t in terms]

    def static(name, members):
        g = client.post("/api/v1/tms/groups", json={"name": name, "kind": "static"}, headers=admin).json()
        return client.put("/api/v1/tms/groups/%d/members" % g["id"], json={"terminal_ids": members},
                          headers=admin).json()
    target = static("first six", ids[:6])
    pilot = static("pilot", [ids[4], ids[9]])               # R-09 is outside the target: never deployed
    lab = static("lab", [ids[0], ids[4]])                    # R-04 is in the pilot already
    bad = client.post("/api/v1/tms/rollouts", json={"name": "x", "module_id": m["id"], "group_id": target["id"],
                                                    "stage_groups": [target["id"]]}, headers=admin)
    assert bad.status_code == 409
    assert client.post("/api/v1/tms/rollouts", json={"name": "x", "module_id": m["id"], "group_id": target["id"],
                                                     "stage_groups": [99999]}, headers=admin).status_code == 404
    r = client.post("/api/v1/tms/rollouts", json={"name": "by groups", "module_id": m["id"], "group_id": target["id"],
                                                  "stage_groups": [pilot["id"], lab["id"]]}, headers=admin).json()
    assert r["stage_groups"] == [pilot["id"], lab["id"]] and r["stages"] == []
    assert [x["terminal_id"] for x in r["targets"]] == [ids[4]]
    _finish(client, terms[4], True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["stage"] == 1 and [x["terminal_id"] for x in r["targets"] if x["stage"] == 1] == [ids[0]]
    _finish(client, terms[0], True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["stage"] == 2 and sorted(x["terminal_id"] for x in r["targets"] if x["stage"] == 2) == \
        [ids[1], ids[2], ids[3], ids[5]]
    for i in (1, 2, 3, 5):
        _finish(client, terms[i], True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["state"] == "finished" and r["counts"] == {"success": 6}
    assert _open_action(client, terms[9]) is None


def test_a_stage_that_adds_no_terminal_moves_on(client, admin, fleet10):
    terms, m = fleet10
    g = client.post("/api/v1/tms/groups", json={"name": "four", "kind": "static"}, headers=admin).json()
    client.put("/api/v1/tms/groups/%d/members" % g["id"], json={"terminal_ids": [t["id"] for t in terms[:4]]},
               headers=admin)
    # 10% and 20% of 4 are both one terminal: stage 2 adds nobody and must not hold the rollout
    r = client.post("/api/v1/tms/rollouts", json={"name": "small", "module_id": m["id"], "group_id": g["id"],
                                                  "stages": [10, 20, 100]}, headers=admin).json()
    assert r["total"] == 1
    _finish(client, terms[0], True)
    r = client.get("/api/v1/tms/rollouts/%d" % r["id"], headers=admin).json()
    assert r["stage"] == 2 and r["total"] == 4
