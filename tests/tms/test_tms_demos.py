"""The terminal-management demos as the suite runs them (each prints RESULT and must pass)."""
import argparse

from smartpos.demos.tms import SCENARIOS


def test_parameter_push(capsys):
    ok, outcome = SCENARIOS["parameter-push"](argparse.Namespace())
    out = capsys.readouterr().out
    assert ok, out + outcome
    assert "feedback closed     success parameters version 1 applied (contactless.json, terminal.json)" in out
    assert "unknown AID" in outcome


def test_key_injection(capsys):
    ok, outcome = SCENARIOS["key-injection"](argparse.Namespace())
    out = capsys.readouterr().out
    assert ok, out + outcome
    assert "(replayed block)" in out and "(bad MAC)" in out and "(wrong usage)" in out


def test_remote_update(capsys):
    ok, outcome = SCENARIOS["remote-update"](argparse.Namespace())
    out = capsys.readouterr().out
    assert ok, out + outcome
    assert "feedback closed     success firmware 1.0.1 confirmed after its self-test; running slot 1" in out
    assert "boot-control record: confirmed slot 1, trial None, last result confirmed 1.0.1" in out
    assert "flash for the two slots 1024 KiB" in outcome


def test_update_rollback(capsys):
    ok, outcome = SCENARIOS["update-rollback"](argparse.Namespace())
    out = capsys.readouterr().out
    assert ok, out + outcome
    assert ("feedback closed     failure firmware 1.0.2 reverted: self-test fault: deliberately broken release; "
            "running 0.1.0") in out
    assert "running slot 0, firmware 0.1.0 as reported to the cloud" in out
