"""Host simulators (CPython): one package per host, e.g. `acquirer` (ISO 8583 +
HSM), `wallet` (QR wallet host).  A package that ships `cli.py` with
`register(parser)` and `run(args)` becomes `smartpos host <name>` (see
tools/smartpos/commands/host.py)."""
