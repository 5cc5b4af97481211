"""The ISO 8583 codec bench (`smartpos bench iso8583-codec`): the firmware codec on the virtual
board against pyiso8583 on CPython, in alternating rounds, the best round of each compared."""
import pytest

from smartpos.benches import hostlink


def test_rounds_alternate_and_the_ratio_is_best_against_best():
    rows = {name: (value, unit) for name, value, unit in hostlink.iso8583_codec(rounds=3, n=20, m=50)}
    assert rows["0200 size"] == (203, "bytes")          # both codecs made the same message
    assert rows["rounds of each side, alternating (best of each below)"][0] == 3
    board = rows["virtual board encode+decode per 0200 (no MAC)"][0]
    macd = rows["virtual board encode+MAC+decode+verify per 0200"][0]
    py = rows["pyiso8583 (CPython) encode+decode per 0200"][0]
    assert 0 < board < macd                             # the MAC's two 3DES passes cost more than the codec
    assert py > 0
    assert rows["virtual board / pyiso8583 time ratio"][0] == pytest.approx(board / py)
    low, median, high = (float(x) for x in rows["ratio per round: lowest / median / highest"][0].split(" / "))
    assert low <= median <= high
