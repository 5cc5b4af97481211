"""`smartpos host acquirer`: the ISO 8583 acquirer host (+ HSM) on 127.0.0.1.

Faults can be armed at start (--fault, repeatable) and while running by typing
commands on standard input: `fault drop [count]`, `fault delay 20`,
`fault refuse 10` (seconds), `clear`, `balance PAN`, `stats`, `quit`, and
`settlement DATE CURRENCY [FEE_BP]`: the settlement file (docs/bookkeeping.md) of the batches
the terminals closed, the host keeping FEE_BP basis points of each sale.
"""
import datetime
import logging
import sys
import time

from host_sim.hosts import settlement

from host_sim.hosts.acquirer.faults import KINDS

HELP = "ISO 8583 acquirer host with HSM functions, issuer accounts and fault injection"


def register(p):
    p.add_argument("--port", type=int, default=8583, help="TCP port on 127.0.0.1 (default 8583; 0 = any)")
    p.add_argument("--name", default="alpha", help="acquirer name: picks its TEST TMK (default alpha)")
    p.add_argument("--spec", default="iso87", choices=("iso87", "iso87bcd"), help="message profile")
    p.add_argument("--db", default=":memory:", help="SQLite file for issuer accounts (default: in memory, "
                                                   "seeded with the TEST accounts)")
    p.add_argument("--tls", action="store_true", help="serve TLS (self-signed TEST certificate)")
    p.add_argument("--fault", action="append", default=[], choices=KINDS, help="arm a fault at start")
    p.add_argument("--fault-count", type=int, default=1, help="replies each --fault applies to")
    p.add_argument("--fault-seconds", type=float, default=20.0, help="delay / refuse duration (s)")
    p.add_argument("--read-timeout", type=float, default=15.0,
                   help="seconds a started message has to arrive in full (default 15)")
    p.add_argument("--idle-timeout", type=float, default=300.0,
                   help="seconds an idle connection is kept open (default 300)")
    p.add_argument("--verbose", action="store_true")


def _command(host, line):
    parts = line.split()
    if not parts:
        return True
    cmd = parts[0]
    if cmd == "quit":
        return False
    if cmd == "clear":
        host.faults.clear()
        print("faults cleared")
    elif cmd == "fault" and len(parts) >= 2:
        kind = parts[1]
        arg = float(parts[2]) if len(parts) > 2 else None
        try:
            if kind in ("delay", "refuse"):
                host.faults.set(kind, seconds=arg if arg is not None else 20.0)
            else:
                host.faults.set(kind, count=int(arg or 1))
            print("fault %s armed" % kind)
        except ValueError as e:
            print(e)
    elif cmd == "balance" and len(parts) == 2:
        print(host.db.balance(parts[1]))
    elif cmd == "stats":
        print(host.stats)
    elif cmd == "settlement" and len(parts) in (3, 4):
        try:
            day = datetime.date.fromisoformat(parts[1])
            fee = int(parts[3]) if len(parts) == 4 else 0
            sys.stdout.write(settlement.settlement_csv(day, parts[2].upper(), settlement.exponent_of(parts[2]),
                                                       host.db.settled_payments(), fee_bp=fee))
        except (ValueError, settlement.SettlementError) as e:
            print("settlement: %s (usage: settlement 2026-11-27 USD 150)" % e)
    else:
        print("commands: fault KIND [N|SECONDS], clear, balance PAN, stats, "
              "settlement DATE CURRENCY [FEE_BP], quit")
    return True


def run(args):
    from host_sim.hosts.acquirer import AcquirerHost
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    from host_sim.hosts.acquirer.issuer import IssuerDBError
    try:
        host = AcquirerHost(port=args.port, name=args.name, spec=args.spec, db=args.db, tls=args.tls,
                            read_timeout_s=args.read_timeout, idle_timeout_s=args.idle_timeout)
    except IssuerDBError as e:
        print("acquirer host: %s" % e, file=sys.stderr)
        return 2
    for kind in args.fault:
        if kind in ("delay", "refuse"):
            host.faults.set(kind, seconds=args.fault_seconds)
        else:
            host.faults.set(kind, count=args.fault_count)
    host.start()
    print("acquirer %s (%s%s) listening on 127.0.0.1:%d" % (args.name, args.spec, ", TLS" if args.tls else "",
                                                          host.port), flush=True)
    try:
        if sys.stdin is not None:
            for line in sys.stdin:
                if not _command(host, line):
                    break
                sys.stdout.flush()
            else:
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        host.stop()
    return 0
