import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from cardkit import TestPki  # noqa: E402
from harness import Harness  # noqa: E402


@pytest.fixture(scope="session")
def pki():
    return TestPki()


@pytest.fixture(scope="session")
def capk(pki, tmp_path_factory):
    return pki.capk_json(str(tmp_path_factory.mktemp("capk") / "capk_test.json"))


@pytest.fixture
def run(capk):
    """run(card, *transactions, **harness_options) -> Result (or list of Results)."""
    def _run(card, *transactions, **kw):
        kw.setdefault("capk", capk)
        return Harness(card, **kw).run(*transactions)
    return _run
