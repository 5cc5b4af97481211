"""Fixtures of the fuzz suites: one MicroPython worker per session, and a summary of the
examples run per parser at the end of the session."""
import pytest

import fuzzkit


@pytest.fixture(scope="session")
def mp_fuzz():
    w = fuzzkit.MicroPythonWorker()
    yield w
    w.close()


def pytest_terminal_summary(terminalreporter):
    if not fuzzkit.RESULTS:
        return
    terminalreporter.write_sep("-", "fuzzing: examples run per parser")
    for parser, c in fuzzkit.RESULTS.items():
        terminalreporter.write_line("%-28s %5d  (%s)" % (parser, sum(c.values()),
                                                         ", ".join("%s %d" % kv for kv in sorted(c.items()))))
