"""The bench's 32-bit port (MicroPython's WebAssembly port under Node.js) is what it says: a
list of 1,000 small integers takes 4 bytes an entry there and 8 on the 64-bit unix port, and the
firmware's own modules import and run on it from the .mpy tree the bench builds."""
import shutil

import pytest

from smartpos.benches import mcu, port32


@pytest.fixture(scope="module")
def port():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm not installed (apt install nodejs npm)")
    if port32.install() is None:
        pytest.skip("the npm registry could not be reached to install %s" % port32.PACKAGE)


def test_words_are_four_bytes(port):
    list_of_1000 = "x = [0] * 1000"
    assert 4000 <= mcu.setup_heap_32(list_of_1000) < 4200
    assert 8000 <= mcu.setup_heap(list_of_1000) < 8200


def test_firmware_workload_runs_and_allocates_less_than_on_64_bit(port):
    setup, op, _ = mcu.WORKLOADS["ISO 8583 0200 encode + decode"]
    a32, a64 = mcu.allocation_32(setup, op), mcu.allocation(setup, op)
    assert 0 < a32 < a64


def test_a_failing_script_is_an_error_with_its_traceback(port):
    with pytest.raises(port32.Port32Error, match="ImportError"):
        port32.run("import pos.no_such_module", mcu.mpy_tree())
