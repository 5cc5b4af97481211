"""The terminal driver lives with the simulator (the demos and benches use it too)."""
from host_sim.hosts.acquirer.terminal import Terminal  # noqa: F401
