"""Diagnostics on request: the console's request becomes a DDI action for the terminal, the
terminal uploads its log lines or its framebuffer, the console reads them (the screenshot as
a PNG).  Only the terminal itself may answer, only in the expected shape."""
import io
import json

import pytest
from PIL import Image


@pytest.fixture
def term(client, admin):
    reg = client.post("/api/v1/terminals", json={"serial": "D-01"}, headers=admin).json()
    e = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "D-01"}).json()
    return {"id": reg["terminal"]["id"], "root": "/default/controller/v1/D-01",
            "dev": {"Authorization": "TargetToken " + e["target_token"]}}


def _deployment(client, term):
    href = client.get(term["root"], headers=term["dev"]).json()["_links"]["deploymentBase"]["href"]
    dep = client.get(href.split("testserver")[-1], headers=term["dev"]).json()
    chunk = dep["deployment"]["chunks"][0]
    art = chunk["artifacts"][0]
    req = json.loads(client.get(art["_links"]["download"]["href"].split("testserver")[-1], headers=term["dev"]).content)
    return dep["id"], chunk["part"], req


def test_log_lines_on_request(client, admin, term):
    r = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "logs"}, headers=admin)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["state"] == "scheduled" and d["answered_at"] is None
    aid, part, req = _deployment(client, term)
    assert part == "diag" and req == {"request": d["id"], "what": "logs", "lines": 200,
                                      "upload": "diagnostics/%d" % d["id"]}
    body = b"INFO ddi poll\nWARN emv card pan=411111******1111\n"
    r = client.put(term["root"] + "/" + req["upload"], content=body,
                   headers=dict(term["dev"], **{"Content-Type": "text/plain"}))
    assert r.status_code == 204, r.text
    client.post(term["root"] + "/deploymentBase/%s/feedback" % aid,
                json={"status": {"execution": "closed", "result": {"finished": "success"}}}, headers=term["dev"])
    got = client.get("/api/v1/terminals/%d/diagnostics" % term["id"], headers=admin).json()
    assert got[0]["lines"] == ["INFO ddi poll", "WARN emv card pan=411111******1111"]
    assert got[0]["state"] == "success" and got[0]["answered_at"]


def test_screenshot_is_the_framebuffer_as_png(client, admin, term):
    d = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "screen"}, headers=admin).json()
    _, _, req = _deployment(client, term)
    url = term["root"] + "/" + req["upload"]
    fb = bytearray(30 * 320)
    fb[0] = 0x80                     # top-left pixel inked
    fb[30 * 319 + 29] = 0x01         # bottom-right pixel inked
    short = client.put(url + "?width=240&height=320", content=bytes(fb[:-1]), headers=term["dev"])
    assert short.status_code == 422 and "9599 bytes for 240x320" in short.text
    assert client.put(url, content=bytes(fb), headers=term["dev"]).status_code == 422     # no size given
    nothing = client.get("/api/v1/terminals/%d/diagnostics/%d/screen.png" % (term["id"], d["id"]), headers=admin)
    assert nothing.status_code == 409 and "not answered" in nothing.text
    assert client.put(url + "?width=240&height=320", content=bytes(fb), headers=term["dev"]).status_code == 204
    png = client.get("/api/v1/terminals/%d/diagnostics/%d/screen.png" % (term["id"], d["id"]), headers=admin)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(png.content))
    assert img.size == (240, 320) and img.mode == "1"
    assert img.getpixel((0, 0)) == 0 and img.getpixel((239, 319)) == 0      # ink is black
    assert img.getpixel((1, 0)) == 255 and img.getpixel((120, 160)) == 255


def test_only_the_terminal_answers_and_only_its_own_request(client, admin, term):
    d = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "logs"}, headers=admin).json()
    url = term["root"] + "/diagnostics/%d" % d["id"]
    assert client.put(url, content=b"x", headers={"Authorization": "TargetToken wrong"}).status_code == 401
    assert client.put(url, content=b"x", headers=admin).status_code == 401
    other = client.post("/api/v1/terminals", json={"serial": "D-02"}, headers=admin).json()
    e = client.post("/api/v1/enroll", json={"activation_code": other["activation_code"], "serial": "D-02"}).json()
    r = client.put("/default/controller/v1/D-02/diagnostics/%d" % d["id"], content=b"x",
                   headers={"Authorization": "TargetToken " + e["target_token"]})
    assert r.status_code == 404
    big = client.put(url, content=b"L" * (64 * 1024 + 1), headers=term["dev"])
    assert big.status_code == 413
    assert client.get("/api/v1/terminals/%d/diagnostics" % term["id"], headers=admin).json()[0]["answered_at"] is None


def test_roles_and_states(client, admin, tenancy, term):
    r = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "logs"},
                    headers=tenancy["owner-a"])
    assert r.status_code in (403, 404)
    r = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "disk"}, headers=admin)
    assert r.status_code == 422
    reg = client.post("/api/v1/terminals", json={"serial": "D-09"}, headers=admin).json()
    r = client.post("/api/v1/terminals/%d/diagnostics" % reg["terminal"]["id"], json={"what": "logs"}, headers=admin)
    assert r.status_code == 409 and "not enrolled" in r.text
    # staff may ask too; two requests in a row are both delivered, one after the other
    a = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "logs"}, headers=tenancy["staff"])
    b = client.post("/api/v1/terminals/%d/diagnostics" % term["id"], json={"what": "screen"}, headers=admin)
    assert a.status_code == 201 and b.status_code == 201
    for want in ("logs", "screen"):
        aid, _, req = _deployment(client, term)
        assert req["what"] == want
        client.post(term["root"] + "/deploymentBase/%s/feedback" % aid,
                    json={"status": {"execution": "closed", "result": {"finished": "success"}}}, headers=term["dev"])
    states = [x["state"] for x in client.get("/api/v1/terminals/%d/diagnostics" % term["id"], headers=admin).json()]
    assert states[:2] == ["success", "success"]
