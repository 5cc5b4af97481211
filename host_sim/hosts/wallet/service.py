"""Hook for `smartpos sim`: start_for_sim() starts the wallet host on 127.0.0.1:8600."""
from host_sim.hosts.wallet import start_for_sim  # noqa: F401
