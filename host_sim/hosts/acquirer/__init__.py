"""Acquirer host simulator: ISO 8583 server (pyiso8583), SQLite issuer accounts,
HSM functions (pyemv/psec/cryptography), settlement and fault injection.

    from host_sim.hosts.acquirer import AcquirerHost
    host = AcquirerHost(port=0, name="alpha").start()
    host.faults.set("drop")           # or `smartpos host acquirer --fault drop`
"""
from host_sim.hosts.acquirer.server import AcquirerHost  # noqa: F401
