"""The merchant-application `smartpos demo` scenarios on the whole virtual terminal; no
receipt or line printed carries a full PAN."""
import pytest

from smartpos.demos import app

PANS = ("4761739001010119", "4761739001010135")


class Args:
    save_display = None


@pytest.mark.parametrize("name,starts", [
    ("split-tender", "SPLIT TENDER USD 50.00 = cash USD 20.00 + card USD 30.00 (APPROVED)"),
    ("refund", "REFUND APPROVED USD 15.00"),
    ("void", "VOID APPROVED"),
    ("preauth-completion", "PRE-AUTH USD 100.00 APPROVED (0100), COMPLETION USD 80.00 APPROVED (0200)"),
    ("tip-adjust", "TIP USD 6.00"),
    ("z-report", "Z REPORT: 3 sales NET USD 1542.50; alpha balanced"),
])
def test_app_demo(name, starts, capsys):
    ok, outcome = app.SCENARIOS[name](Args())
    out = capsys.readouterr().out
    assert ok, (outcome, out[-2000:])
    assert outcome.startswith(starts), outcome
    assert not any(p in out for p in PANS)
