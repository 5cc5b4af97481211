"""The host-link `smartpos demo` scenarios return ok (and say so) end to end."""
import pytest

from smartpos.demos import hostlink


@pytest.mark.parametrize("name", ["online-approve", "online-decline", "timeout-reversal", "settlement"])
def test_demo_scenario(name, capsys):
    ok, outcome = hostlink.SCENARIOS[name](None)
    out = capsys.readouterr().out
    assert ok, outcome
    assert "4761739001010119" not in out and "4761739001010010" not in out   # PANs masked


def test_demo_power_cut(capsys):
    ok, outcome = hostlink.SCENARIOS["power-cut"](None)
    assert ok, outcome
    assert outcome.startswith("6 power-cut points")
