"""TEST keys for the host-link tests (the simulator's TEST data; never production)."""
from host_sim.hosts.acquirer.hsm import TEST_TMK, TEST_DEK, kcv, wrap  # noqa: F401
from host_sim.hosts.acquirer.terminal import write_kld  # noqa: F401
