"""`smartpos app build | key | sign`: an app package from an app folder, a developer's signing
key, and the developer's signature over a package (docs/app-store.md)."""
import os

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("app", help="app packages: build, developer key, sign")
    s = p.add_subparsers(dest="app_cmd", metavar="COMMAND")
    b = s.add_parser("build", help="compile an app folder (app.json + .py) to .mpy and write ID-VERSION.app")
    b.add_argument("folder", help="the app's folder (app.json, its entry module)")
    b.add_argument("--out", default="dist", help="folder to write the package into (dist)")
    b.set_defaults(func=run_build)
    k = s.add_parser("key", help="a new developer signing key (RSA 2048, PEM) and its public half")
    k.add_argument("path", help="where to write the private key; the public key goes to PATH.pub")
    k.set_defaults(func=run_key)
    g = s.add_parser("sign", help="the developer's signature (TUF delegated targets) over a package")
    g.add_argument("package", help="an ID-VERSION.app made by `smartpos app build`")
    g.add_argument("--key", required=True, help="the developer's private key (PEM)")
    g.add_argument("--developer", required=True, help="the developer's name as registered with the store")
    g.add_argument("--out", default=None, help="where to write the signature (default: PACKAGE.dev.json)")
    g.set_defaults(func=run_sign)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_build(args):
    from cloud.appstore import package
    try:
        path = package.build(args.folder, args.out)
    except package.PackageError as exc:
        raise CommandError(str(exc))
    with open(path, "rb") as f:
        raw = f.read()
    m = package.read_manifest(raw)
    names = [n for n, _ in package.members(raw) if n != "sw-description"]
    print("package %s: %s %s, %d bytes (%s)" % (path, m["id"], m["version"], len(raw), ", ".join(names)))
    return 0


def run_key(args):
    from cloud.appstore import package
    if os.path.exists(args.path):
        raise CommandError("%s exists: not overwritten" % args.path)
    pub = package.new_key(args.path)
    with open(args.path + ".pub", "w") as f:
        f.write(pub)
    print("developer key %s; register %s.pub with the store" % (args.path, args.path))
    return 0


def run_sign(args):
    from cloud.appstore import package
    try:
        with open(args.package, "rb") as f:
            raw = f.read()
        md = package.developer_sign(raw, args.developer, args.key)
    except OSError as exc:
        raise CommandError("%s: %s" % (args.package, exc.strerror))
    except package.PackageError as exc:
        raise CommandError(str(exc))
    out = args.out or args.package + ".dev.json"
    with open(out, "wb") as f:
        f.write(md)
    print("signed %s as dev-%s (key %s...): %s" % (os.path.basename(args.package), args.developer,
                                                   package.developer_key(md)[:16], out))
    return 0
