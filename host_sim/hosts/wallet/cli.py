"""`smartpos host wallet`: the QR wallet host simulator on 127.0.0.1."""
import time

HELP = "QR wallet host (merchant- and customer-presented flows, HMAC-signed JSON over HTTP)"


def register(p):
    p.add_argument("--port", type=int, default=8600, help="TCP port on 127.0.0.1 (default 8600)")
    p.add_argument("--confirm-delay", type=float, default=0.0, help="seconds the customer takes to confirm")


def run(args):
    from host_sim.hosts.wallet import WalletHost
    w = WalletHost(port=args.port, confirm_delay_s=args.confirm_delay).start()
    print("wallet host on 127.0.0.1:%d (TEST key); Ctrl-C stops it" % w.port, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        w.stop()
    return 0
