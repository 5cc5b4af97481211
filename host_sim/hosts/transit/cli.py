"""`smartpos host transit`: the transit operator's load host on 127.0.0.1."""
import time

HELP = "transit operator host (purse load: checks MAC1, issues MAC2, checks TAC; HMAC-signed JSON; TEST keys)"


def register(p):
    p.add_argument("--port", type=int, default=8660, help="TCP port on 127.0.0.1 (default 8660; 0: any free port)")


def run(args):
    from host_sim.hosts.transit import TransitHost
    h = TransitHost(port=args.port).start()
    print("transit host on 127.0.0.1:%d (TEST master keys); terminals %s; Ctrl-C stops it"
          % (h.port, ", ".join(sorted(h.keys))), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        h.stop()
    return 0
