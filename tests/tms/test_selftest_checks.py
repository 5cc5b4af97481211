"""The trial boot's self-test on MicroPython: a part that misses one answer is asked again; a
part that never answers fails the trial with its reason; the release's injected fault always does."""
from host_sim import mpy

PRELUDE = """
from pos.tms import selftest
calls = {}
def flaky(n):
    def check():
        calls[n] = calls.get(n, 0) + 1
        if calls[n] < 2:
            raise OSError(110)          # ETIMEDOUT: one answer lost
        return None
    return check
def dead():
    calls["dead"] = calls.get("dead", 0) + 1
    return "printer not answering"
"""


def test_a_part_that_misses_one_answer_passes():
    out = mpy.run(PRELUDE + """
selftest.CHECKS = (("display", lambda: None), ("keypad", flaky("keypad")))
print(selftest.run(cloud=lambda: True))
print(calls)
""")
    assert out.splitlines() == ["[('display', None), ('keypad', None), ('cloud', None)]", "{'keypad': 2}"]


def test_a_part_that_never_answers_fails_after_three_attempts():
    out = mpy.run(PRELUDE + """
selftest.CHECKS = (("display", lambda: None), ("printer", dead))
r = selftest.run(cloud=lambda: False)
print(selftest.failures(r))
print(calls)
""")
    assert out.splitlines() == [
        "[('printer', 'printer not answering'), ('cloud', 'cloud not reachable')]", "{'dead': 3}"]


def test_an_injected_fault_fails_the_trial_at_once():
    out = mpy.run(PRELUDE + """
selftest.CHECKS = (("display", lambda: None),)
selftest.INJECTED_FAULT = "deliberately broken release"
print(selftest.failures(selftest.run()))
""")
    assert out.strip() == "[('fault', 'deliberately broken release')]"
