"""`smartpos cloud` as a person runs it, and the simulator's enrollment of its terminal."""
import json
import os
import subprocess
import sys
import urllib.request

import pytest

SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")


def test_smartpos_cloud_serves_prints_the_first_password_and_stops(tmp_path):
    p = subprocess.Popen([SMARTPOS, "cloud", "--port", "0", "--data", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = p.stdout.readline()
        assert first.startswith("new database: operator 'default', admin account 'admin', password ")
        password = first.split("password ")[1].split()[0]
        assert (tmp_path / "initial-admin-password").read_text().strip() == password
        line = p.stdout.readline()
        assert "operator console on http://127.0.0.1:" in line and "(database: sqlite)" in line
        url = line.split("on ")[1].split("/ ")[0]
        health = json.load(urllib.request.urlopen(url + "/healthz", timeout=10))
        assert health["status"] == "ok"
        body = json.dumps({"username": "admin", "password": password}).encode()
        req = urllib.request.Request(url + "/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
        assert json.load(urllib.request.urlopen(req, timeout=10))["account"]["role"] == "operator_admin"
    finally:
        p.terminate()
        p.wait(20)


def test_smartpos_cloud_migrate_and_bad_settings(tmp_path):
    r = subprocess.run([SMARTPOS, "cloud", "migrate", "--data", str(tmp_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "newest revision" in r.stdout
    assert (tmp_path / "cloud.db").exists()
    r = subprocess.run([SMARTPOS, "cloud", "--database-url", "mysql://x/y"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "only sqlite:/// and postgresql+psycopg://" in r.stderr


def test_busy_port_is_a_clear_error(tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        r = subprocess.run([SMARTPOS, "cloud", "--port", str(s.getsockname()[1]), "--data", str(tmp_path),
                            "--admin-password", "0123456789ab"], capture_output=True, text=True, timeout=120)
    finally:
        s.close()
    assert r.returncode == 2 and "cannot listen on 127.0.0.1:" in r.stderr


def test_the_simulator_enrolls_its_terminal(tmp_path):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    from host_sim import fleet
    srv = CloudServer(Settings(data_dir=str(tmp_path / "cloud"), port=0,
                               bootstrap_admin_password="sim-password-1")).start()
    try:
        flash = tmp_path / "flash"
        ident = fleet.enroll(srv.url, "sim-password-1", str(flash), serial="SIM-TEST1")
        assert ident["tenant"] == "default" and ident["controller_id"] == "SIM-TEST1"
        cfg = json.loads((flash / "config" / "cloud.json").read_text())
        assert cfg == {"url": srv.url, "tenant": "default", "controller_id": "SIM-TEST1"}
        assert ident["target_token"] not in (flash / "config" / "cloud.json").read_text()
        kld = json.loads((flash / "keys.kld").read_text())
        assert kld["secrets"]["ddi"]["key"] == ident["target_token"].upper()
        # a second start of the same flash re-enrolls the same terminal with a fresh code
        again = fleet.enroll(srv.url, "sim-password-1", str(flash), serial="SIM-TEST1")
        assert again["controller_id"] == "SIM-TEST1" and again["target_token"] != ident["target_token"]
        with pytest.raises(fleet.FleetError, match="401"):
            fleet.enroll(srv.url, "wrong-password", str(flash))
    finally:
        srv.stop()
