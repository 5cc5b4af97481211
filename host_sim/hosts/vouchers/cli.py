"""`smartpos host vouchers`: the voucher-platform host simulator on 127.0.0.1."""
import time

HELP = ("voucher platform host (group-buy deals and vouchers, redemption, daily reconciliation file;"
        " HMAC-signed JSON over HTTP)")


def register(p):
    p.add_argument("--port", type=int, default=8660, help="TCP port on 127.0.0.1 (default 8660; 0: any free port)")
    p.add_argument("--file", metavar="DAY", default=None,
                   help="write the reconciliation file of DAY (YYYY-MM-DD) to stdout at Ctrl-C")


def run(args):
    from host_sim.hosts.vouchers import VoucherHost
    v = VoucherHost(port=args.port).start()
    print("voucher platform on 127.0.0.1:%d (TEST keys); terminals %s; vouchers %s; Ctrl-C stops it"
          % (v.port, ", ".join("%s@%s" % kv for kv in sorted(v.terminals.items())),
             ", ".join(sorted(v.deals.vouchers))), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        if args.file:
            print(v.daily_file(args.file), end="")
        v.stop()
    return 0
