"""The terminal updates itself from a stock goosebit server (PyPI `goosebit`, its own virtualenv
made by `make goosebit-venv`): a signed parameter bundle made for the terminal as a SWUpdate
image is uploaded to goosebit and assigned to the device; the firmware's DDI client and
parameter handler, on real MicroPython with the board's heap, poll goosebit with their
TargetToken (strict device authentication), send their attributes, download the image through
a link that breaks mid-body (resumed with an HTTP Range), check and apply the bundle as at the
restart, and report success, which goosebit records (device state, software version, log).
Skips only when .venv-goosebit is missing; CI makes it."""
import datetime
import json
import os
import shutil

import pytest

from cloud.tms import release
from cloud.tms.parameters import bundle_swu, signed_bundle
from host_sim.mpy import run
from tests.tms import goosebit_server
from tests.tms.goosebit_server import CuttingProxy, GoosebitServer

pytestmark = pytest.mark.skipif(not goosebit_server.available(),
                                reason="no .venv-goosebit (make goosebit-venv makes it; CI does)")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CID = "GB-0001"
TOKEN = "5f1c0ffee0ddba11"

TERMINAL = """
import asyncio, json, os
from pos.tms.ddi import Agent, DdiClient, DdiError
from pos.tms import staging

def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False

restarts = []
client = DdiClient(%(url)r, "DEFAULT", %(cid)r, %(token)r)
agent = Agent(client, attributes=lambda: {"model": "smartpos sim", "firmware": "0.1.0"},
              handlers={"os": staging.ParamsHandler(reset=lambda: restarts.append(1))})

async def main():
    for i in range(4):
        sleep = await agent.step()
        print("poll", i, "sleep", sleep, "last", agent.last_action)
        if exists(staging.TICKET):               # what main.py does at the restart
            from pos.tms import params
            print("restart", json.dumps(params.finish_staged(reset=lambda: None)))
    print("restarts", len(restarts))
    print("version", open("config/params.version").read())
    bad = DdiClient(%(url)r, "DEFAULT", %(cid)r, "0000")
    try:
        await bad.poll()
    except DdiError as e:
        print("wrong token", e.status)

asyncio.run(main())
"""


def _bundle_swu(version, rctl):
    with open(os.path.join(REPO, "firmware", "config", "contactless.json")) as f:
        cl = json.load(f)
    cl.pop("_comment", None)
    cl["aids"]["A0000000031010"]["rctl"] = rctl
    data = json.dumps({"version": version, "sets": ["goosebit"], "files": {"contactless.json": cl}},
                      sort_keys=True).encode()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    files = signed_bundle(data, CID, version, release.load_keys(), expires=now + datetime.timedelta(days=1))
    return bundle_swu(files, CID, version)


@pytest.fixture
def goosebit(tmp_path):
    with GoosebitServer(tmp_path / "goosebit") as gb:
        gb.setup_admin()
        yield gb


def test_the_terminal_takes_a_signed_parameter_bundle_from_goosebit(goosebit, tmp_path):
    raw = _bundle_swu(7, 45678)
    sw = goosebit.upload("smartpos-params-7.swu", raw)
    listed = [s for s in goosebit.software() if s["id"] == sw][0]
    assert listed["version"] == "7" and listed["size"] == len(raw)
    goosebit.assign(CID, sw, TOKEN)
    flash = tmp_path / "flash"
    shutil.copytree(os.path.join(REPO, "firmware", "config"), flash / "config")
    host, port = goosebit.url[7:].split(":")
    proxy = CuttingProxy((host, int(port)), cut_after=1500)
    try:
        out = run(TERMINAL % {"url": proxy.url, "cid": CID, "token": TOKEN}, cwd=str(flash), timeout=180)
    finally:
        proxy.close()
    lines = out.strip().splitlines()
    # poll 0: first contact, goosebit asks for attributes; poll 1: the deployment (part "os",
    # the .swu, sha1 only), staged; the restart applies it; poll 2: the result is reported
    assert any(l.startswith("restart [true, [\"parameters version 7 applied (contactless.json)\"]]") for l in lines), out
    assert "restarts 1" in lines and "version 7" in lines, out
    assert "wrong token 401" in lines, out
    cl = json.loads((flash / "config" / "contactless.json").read_text())
    assert cl["aids"]["A0000000031010"]["rctl"] == 45678
    # on the wire: the download broke once and resumed where it stopped, answered 206
    downloads = [(h, s) for h, s in proxy.exchanges if h.split(" ")[1].endswith("/download")]
    assert len(downloads) == 2, proxy.exchanges
    assert "range:" not in downloads[0][0].lower() and downloads[0][1].endswith("200 OK")
    assert "Range: bytes=" in downloads[1][0] and downloads[1][1].split(" ")[1] == "206", downloads[1]
    resumed_at = int(downloads[1][0].split("Range: bytes=")[1].split("-")[0])
    assert 0 < resumed_at < len(raw)
    assert all("Authorization: TargetToken %s" % TOKEN in h for h, _ in proxy.exchanges[:-1])
    assert "Authorization: TargetToken 0000" in proxy.exchanges[-1][0]
    assert proxy.exchanges[-1][1].split(" ")[1] == "401"
    # goosebit's records: attributes, finished state, the installed version, the terminal's log
    d = goosebit.device(CID)
    assert d["hardware"]["model"] == "default", d     # no hw_boardname: bundles declare no hardware
    assert d["sw_version"] == "7" and d["progress"] == 100, d
    assert str(d["last_state"]).lower().endswith("finished"), d
    log = goosebit.device_log(CID)["log"]
    assert "bundle downloaded (resumed 1 times); checked and applied at the restart" in log, log
    assert "parameters version 7 applied (contactless.json)" in log, log


def test_a_tampered_bundle_from_goosebit_is_refused_and_reported(goosebit, tmp_path):
    raw = bytearray(_bundle_swu(8, 11111))
    at = raw.index(b'"rctl": 11111')
    raw[at:at + 13] = b'"rctl": 99999'
    sw = goosebit.upload("smartpos-params-8.swu", bytes(raw))
    goosebit.assign(CID, sw, TOKEN)
    flash = tmp_path / "flash"
    shutil.copytree(os.path.join(REPO, "firmware", "config"), flash / "config")
    before = (flash / "config" / "contactless.json").read_bytes()
    out = run(TERMINAL.replace("print(\"version\", open(\"config/params.version\").read())", "")
              % {"url": goosebit.url, "cid": CID, "token": TOKEN}, cwd=str(flash), timeout=180)
    assert "params.json does not match the signed length and SHA-256 (tampered)" in out, out
    assert (flash / "config" / "contactless.json").read_bytes() == before
    d = goosebit.device(CID)
    assert str(d["last_state"]).lower().endswith("error") and d["sw_version"] != "8", d
    assert "refused: signature: params.json does not match the signed length and SHA-256 (tampered)" in \
        goosebit.device_log(CID)["log"]
