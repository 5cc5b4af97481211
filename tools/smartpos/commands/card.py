"""`smartpos card`: the EMV card simulator's profiles, and a simulated card on PC/SC.

    smartpos card list
    smartpos card show visa-credit
    smartpos card vpcd --profile visa-credit      # pcscd + vsmartcard-vpcd: PC/SC tools see it
"""
import signal
import sys

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("card", help="EMV card simulator: list/show profiles, expose a card on PC/SC (vpcd)")
    s = p.add_subparsers(dest="card_cmd", metavar="{list,show,vpcd}")
    s.required = True
    ls = s.add_parser("list", help="the card profiles")
    ls.set_defaults(func=run_list)
    sh = s.add_parser("show", help="one profile's applications and settings (PAN masked)")
    sh.add_argument("name")
    sh.set_defaults(func=run_show)
    v = s.add_parser("vpcd", help="connect a simulated card to pcscd through vsmartcard-vpcd")
    v.add_argument("--profile", required=True, help="profile name or path to a profile JSON")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=35963, help="vpcd port (35963 = reader 'Virtual PCD 00 00')")
    v.add_argument("--quiet", action="store_true", help="do not print each APDU header and SW")
    v.set_defaults(func=run_vpcd)


def _mask(pan):
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def run_list(args):
    from host_sim.cards import list_profiles, load_profile, ProfileError
    for name in list_profiles():
        try:
            p = load_profile(name)
            print("%-20s %s" % (name, p.get("description", "")))
        except ProfileError as exc:
            print("%-20s BROKEN: %s" % (name, exc))
    return 0


def run_show(args):
    from host_sim.cards import load_profile, ProfileError
    try:
        p = load_profile(args.name)
    except ProfileError as exc:
        raise CommandError(str(exc))
    print("%s: %s" % (p["name"], p.get("description", "")))
    print("  scheme %s  PAN %s  expiry %s  CVN %s  ODA %s  protocol %s" % (
        p["scheme"], _mask(p["pan"]), p["expiry"], p.get("cvn", 18), p.get("oda", "CDA"), p.get("protocol", "T=0")))
    print("  CA %s/%s  PSE %s  CVM list %s" % (p["rid"], p["ca_index"], "yes" if p.get("pse", True) else "no",
                                             p.get("cvm_list", "(default)")))
    for a in p["applications"]:
        print("  application %s %-16s priority %s%s" % (a["aid"], a["label"], a.get("priority", "-"),
                                                       "  BLOCKED" if a.get("blocked") else ""))
    if p.get("faults"):
        print("  faults: %s" % ", ".join(sorted(p["faults"])))
    return 0


def run_vpcd(args):
    from host_sim.cards import make_card, ProfileError
    from host_sim.cards.vpcd import serve_forever, VpcdError
    try:
        card = make_card(args.profile)
    except ProfileError as exc:
        raise CommandError(str(exc))

    def stop(*_):
        print("card removed from vpcd", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, flush=True))
    try:
        serve_forever(card, args.host, args.port, log=log)
    except VpcdError as exc:
        raise CommandError(str(exc))
    except KeyboardInterrupt:
        stop()
    return 0
