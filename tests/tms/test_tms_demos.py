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
