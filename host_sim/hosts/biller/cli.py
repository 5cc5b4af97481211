"""`smartpos host biller`: the biller host simulator on 127.0.0.1."""
import time

HELP = "biller host (mobile top-up, bill pay, card repayment; HMAC-signed JSON over HTTP)"


def register(p):
    p.add_argument("--port", type=int, default=8650, help="TCP port on 127.0.0.1 (default 8650; 0: any free port)")
    p.add_argument("--terminal", action="append", default=None,
                   help="a terminal id the biller knows (repeatable; default TERM0001 and TERM0002)")


def run(args):
    from host_sim.hosts.biller import BillerHost, TEST_TERMINALS, terminal_key
    terms = args.terminal or list(TEST_TERMINALS)
    b = BillerHost(port=args.port, keys={t: terminal_key(t) for t in terms}).start()
    print("biller host on 127.0.0.1:%d (TEST keys); terminals %s; Ctrl-C stops it"
          % (b.port, ", ".join(terms)), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        b.stop()
    return 0
