import pytest

from host_sim.hosts.acquirer import AcquirerHost


@pytest.fixture
def alpha():
    h = AcquirerHost(port=0, name="alpha", spec="iso87").start()
    yield h
    h.stop()


@pytest.fixture
def beta():
    h = AcquirerHost(port=0, name="beta", spec="iso87bcd").start()
    yield h
    h.stop()
