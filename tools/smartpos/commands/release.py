"""`smartpos release build`: a firmware release folder (ROMFS image + TUF metadata, and both
as one SWUpdate image for DDI servers that carry only .swu files)."""
import os

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("release", help="firmware releases: ROMFS image and its TUF metadata")
    rs = p.add_subparsers(dest="release_cmd", metavar="COMMAND")
    b = rs.add_parser("build", help="build a release folder: firmware-VERSION.romfs, metadata/, "
                                        "firmware-VERSION.swu, release.json")
    b.add_argument("--version", required=True, help="firmware version MAJOR.MINOR.PATCH (pos.VERSION in the image)")
    b.add_argument("--out", required=True, help="folder to write the release into")
    b.add_argument("--source", default=None, help="firmware tree (default: the repository's firmware/)")
    b.add_argument("--expires-days", type=int, default=30, help="metadata expiry in days (30)")
    b.add_argument("--keys", default=None, help="folder with TEST-<role>.pem signing keys (default: the TEST keys)")
    b.add_argument("--fault", default=None, metavar="TEXT",
                   help="a deliberately broken release: its trial-boot self-test fails with TEXT")
    b.set_defaults(func=run_build)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_build(args):
    from cloud.tms import release
    out = os.path.abspath(args.out)
    kw = {}
    if args.keys:
        kw["key_dir"] = args.keys
    try:
        info = release.build_release(args.version, out, src=args.source, fault=args.fault,
                                     expires_days=args.expires_days, **kw)
    except release.ReleaseError as exc:
        raise CommandError(str(exc))
    print("release %s: %s (%d bytes, sha256 %s)%s; metadata: %s; SWUpdate image: %s; in %s"
          % (info["version"], info["image"], info["length"], info["sha256"][:16],
             " FAULT: %s" % info["fault"] if info["fault"] else "", ", ".join(info["metadata"]), info["swu"], out))
    return 0
