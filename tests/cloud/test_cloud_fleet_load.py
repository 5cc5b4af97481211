"""Fleet scale, bounded for the suite: simulated DDI clients against two worker processes
sharing one PostgreSQL database; no feedback lost or doubled.  `smartpos cloud loadtest
--clients 2000` is the full run (figures in docs/tms.md, "Fleet scale")."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from cloud_pg import free_port

SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")


def _wait_healthy(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("the service exited (see its log)")
        try:
            return json.load(urllib.request.urlopen(url + "/healthz", timeout=2))
        except OSError:
            proc_wait = min(0.2, max(0.0, deadline - time.monotonic()))
            try:
                proc.wait(proc_wait)          # returns early only if it died
            except subprocess.TimeoutExpired:
                pass
    raise AssertionError("the service did not answer /healthz within %ds" % timeout)


def test_two_workers_share_one_postgresql_and_lose_no_feedback(pg_server, tmp_path):
    if isinstance(pg_server, str):
        pytest.skip("needs the throwaway server (CREATE DATABASE rights)")
    db = pg_server.create_database("fleetload")
    port = free_port()
    log = open(tmp_path / "service.log", "w")          # a pipe nobody reads would block the workers
    proc = subprocess.Popen([SMARTPOS, "cloud", "--workers", "2", "--port", str(port), "--database-url", db,
                             "--data", str(tmp_path), "--admin-password", "load-test-admin"],
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    url = "http://127.0.0.1:%d" % port
    try:
        assert _wait_healthy(url, proc)["database"] == "postgresql"
        from cloud import loadtest
        fig = loadtest.run(url, db, clients=150, seconds=20, poll_gap=2.0, connections=64)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    log_tail = (tmp_path / "service.log").read_text()[-3000:]
    assert fig["server_errors"] == 0, (fig, log_tail)          # 503 + Retry-After at most, never a 500
    assert fig["lost"] == 0 and fig["actions_closed_by_clients"] == 75, (fig, log_tail)
    assert fig["feedback_rows_stored"] >= fig["feedback_accepted"] >= 150, fig
    assert fig["workers_seen"] == 2, fig
    assert fig["requests"] >= 300, fig


def test_workers_refuse_sqlite(tmp_path):
    r = subprocess.run([SMARTPOS, "cloud", "--workers", "2", "--data", str(tmp_path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "needs PostgreSQL" in r.stderr
