"""`smartpos cloud`: the cloud service (terminal management, operator console).

    smartpos cloud --port 8700                       # SQLite in ./cloud-data
    smartpos cloud --database-url postgresql+psycopg://pos@db/pos --data /var/lib/smartpos
    smartpos cloud migrate --database-url ...        # bring the schema up to date and exit
    smartpos cloud --tls-cert cloud/test_tls/TEST-server.pem --tls-key cloud/test_tls/TEST-server.key
    smartpos cloud test-ca --out DIR [--host cloud.example]   # a TEST CA + server certificate
    smartpos cloud insights seed --merchants 20 --days 90     # SYNTHETIC merchants and baskets (docs/insights.md)
    smartpos cloud insights recompute                         # the scheduled job: every recommendation model
    smartpos cloud seed --merchants 20 --days 90              # SYNTHETIC merchants, terminals, a trading period
    smartpos cloud seed --merchants 1000 --days 365 --database-url postgresql+psycopg://...   # ~10M sales
"""
import os

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("cloud", help="run the cloud service (operator console, device API)")
    _common(p)
    cmds = p.add_subparsers(dest="cloud_command", metavar="SUBCOMMAND")
    m = cmds.add_parser("migrate", help="bring the database schema to the newest revision and exit")
    _common(m)
    lt = cmds.add_parser("loadtest", help="many simulated DDI clients against a running service")
    _common(lt)
    lt.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8700")
    lt.add_argument("--clients", type=int, default=2000)
    lt.add_argument("--seconds", type=float, default=60)
    lt.add_argument("--poll-gap", type=float, default=2.0, help="seconds between a client's polls (default 2)")
    lt.add_argument("--connections", type=int, default=256,
                    help="HTTP connections the clients share (default 256; a load balancer's would be similar)")
    ca = cmds.add_parser("test-ca", help="make a TEST CA and a server certificate (simulator, tests; never a fleet)")
    ca.add_argument("--out", default=None, metavar="DIR", help="folder to write into (default: cloud/test_tls)")
    ca.add_argument("--host", action="append", default=None,
                    help="a DNS name or IP address of the service (repeatable; default 127.0.0.1, localhost, ::1)")
    ins = cmds.add_parser("insights", help="insights: seed synthetic trading data, recompute the recommendations")
    _common(ins)
    ins.add_argument("action", choices=("seed", "recompute"))
    ins.add_argument("--merchants", type=int, default=20, help="seed: synthetic merchants (default 20)")
    ins.add_argument("--days", type=int, default=90, help="seed: days of trading up to today (default 90)")
    ins.add_argument("--seed", type=int, default=1, help="seed: the generator's seed (same seed, same data)")
    sd = cmds.add_parser("seed", help="SYNTHETIC merchants, stores, terminals, owner accounts and their sales, "
                                      "booked through the sales ingest (refuses a database already seeded)")
    _common(sd)
    sd.add_argument("--merchants", type=int, default=20, help="merchants (default 20)")
    sd.add_argument("--terminals-per-merchant", type=int, default=3, metavar="N", help="terminals of each (default 3)")
    sd.add_argument("--days", type=int, default=90, help="days of trading up to yesterday (default 90)")
    sd.add_argument("--per-terminal-day", type=float, default=9.0, metavar="N",
                    help="mean transactions of a terminal a day (default 9: 1,000 merchants x 3 terminals x 365 "
                         "days is about 10 million)")
    sd.add_argument("--seed", type=int, default=1, help="the generator's seed (same seed, same data)")
    sd.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="processes booking merchants at once (default 1; PostgreSQL: up to the cores)")
    p.set_defaults(func=run)


def _common(p):
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8700)")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db "
                        "(default: SQLite in the data folder; env SMARTPOS_CLOUD_DB)")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="data folder (default ./cloud-data; env SMARTPOS_CLOUD_DATA)")
    p.add_argument("--mqtt", default=None, metavar="URL|embedded",
                   help="broker for wake messages: mqtt://host:port (e.g. mosquitto), or 'embedded' to run one "
                        "in this process on 127.0.0.1:1883 (default: no push; terminals poll)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes sharing the database (PostgreSQL for more than one)")
    p.add_argument("--db-pool", type=int, default=None, metavar="N",
                   help="database connections per worker, and requests it serves at once (default 20; "
                        "env SMARTPOS_CLOUD_DB_POOL)")
    p.add_argument("--db-overflow", type=int, default=None, metavar="N",
                   help="connections over --db-pool under load (default 30; env SMARTPOS_CLOUD_DB_OVERFLOW)")
    p.add_argument("--db-wait", type=int, default=None, metavar="S",
                   help="longest wait of a request for a database connection, then 503 with Retry-After "
                        "(default 5 s; env SMARTPOS_CLOUD_DB_WAIT_S)")
    p.add_argument("--retry-after", type=int, default=None, metavar="S",
                   help="Retry-After of a 503: S to 2xS seconds (default 10; env SMARTPOS_CLOUD_RETRY_AFTER_S)")
    p.add_argument("--tls-cert", default=None, metavar="PEM",
                   help="serve HTTPS with this certificate chain (terminals pin its CA; env SMARTPOS_CLOUD_TLS_CERT)")
    p.add_argument("--tls-key", default=None, metavar="PEM", help="private key of --tls-cert")
    p.add_argument("--admin-password", default=None,
                   help="password of the first operator admin when the database is new "
                        "(default: generated and written to DATA/initial-admin-password)")


def settings_from(args):
    from cloud.settings import DEFAULT_PORT, Settings
    overload = {}
    for arg, name in (("db_pool", "db_pool_size"), ("db_overflow", "db_pool_overflow"), ("db_wait", "db_wait_s"),
                      ("retry_after", "retry_after_s")):
        value = getattr(args, arg)
        if value is None and Settings.ENV[name] in os.environ:
            value = os.environ[Settings.ENV[name]]
        if value is not None:
            try:
                overload[name] = int(value)
            except ValueError:
                raise CommandError("%s must be a whole number, not %r" % (Settings.ENV[name], value))
    return Settings(**overload, data_dir=args.data or os.environ.get("SMARTPOS_CLOUD_DATA", "cloud-data"),
                    database_url=args.database_url or os.environ.get("SMARTPOS_CLOUD_DB", ""),
                    host=args.host or "127.0.0.1",
                    port=DEFAULT_PORT if args.port is None else args.port,
                    bootstrap_admin_password=args.admin_password or "",
                    tls_cert=getattr(args, "tls_cert", None) or os.environ.get("SMARTPOS_CLOUD_TLS_CERT", ""),
                    tls_key=getattr(args, "tls_key", None) or os.environ.get("SMARTPOS_CLOUD_TLS_KEY", ""),
                    mqtt_url=getattr(args, "mqtt", None) if getattr(args, "mqtt", None) not in (None, "embedded")
                    else "")


def run(args):
    from cloud.settings import SettingsError
    if args.cloud_command == "test-ca":
        return _test_ca(args)
    try:
        settings = settings_from(args).check()
    except SettingsError as exc:
        raise CommandError(str(exc))
    if args.cloud_command == "loadtest":
        from cloud import loadtest
        fig = loadtest.run(args.url, settings.resolved_database_url(), args.clients, args.seconds, args.poll_gap,
                           args.connections)
        print(loadtest.report(fig), flush=True)
        return 0 if fig["lost"] == 0 and fig["server_errors"] == 0 else 1
    if args.cloud_command == "insights":
        return _insights(args, settings)
    if args.cloud_command == "seed":
        return _seed(args, settings)
    if args.cloud_command == "migrate":
        from cloud.db import make_engine, migrate
        engine = make_engine(settings.resolved_database_url())
        try:
            migrate(engine)
        except Exception as exc:
            raise CommandError("migration failed: %s" % exc)
        print("database schema is at the newest revision", flush=True)
        return 0
    broker = None
    if getattr(args, "mqtt", None) == "embedded":
        from cloud.push import EmbeddedBroker
        try:
            broker = EmbeddedBroker(port=1883).start()
        except RuntimeError as exc:
            raise CommandError("%s: is another broker on port 1883? give --mqtt mqtt://host:port" % exc)
        settings.mqtt_url = broker.url
        print("embedded MQTT broker on %s" % broker.url, flush=True)
    if args.workers > 1:
        return _run_workers(args, settings)
    from cloud.server import CloudServer
    try:
        srv = CloudServer(settings, log_level="info")
    except Exception as exc:
        raise CommandError("cannot open the database %s: %s"
                           % (settings.resolved_database_url().split("@")[-1], exc))
    boot = srv.app.state.bootstrap
    if boot:
        op, admin, password = boot
        where = ("(also in %s)" % os.path.join(settings.data_dir, "initial-admin-password")
                 if not args.admin_password else "")
        print("new database: operator %r, admin account %r, password %s %s" % (op, admin, password, where),
              flush=True)
    try:
        srv.listen()
    except OSError as exc:
        raise CommandError("cannot listen on %s:%d (%s)" % (settings.host, settings.port, exc.strerror))
    print("smartpos cloud: operator console on %s/  (database: %s)"
          % (srv.url, srv.app.state.engine.dialect.name), flush=True)
    srv.serve_forever()
    return 0


def _run_workers(args, settings):
    """Migrate and bootstrap once here, then let uvicorn fork the workers."""
    import uvicorn
    from cloud.bootstrap import ensure_operator
    from cloud.db import open_database
    if settings.resolved_database_url().startswith("sqlite"):
        raise CommandError("--workers > 1 needs PostgreSQL (--database-url postgresql+psycopg://...)")
    engine, sessionmaker = open_database(settings.resolved_database_url())
    boot = ensure_operator(sessionmaker, settings)
    engine.dispose()
    if boot:
        print("new database: operator %r, admin account %r, password %s" % boot, flush=True)
    os.environ.update(settings.to_env())
    from cloud.server import listen_socket
    try:
        sock = listen_socket(settings.host, settings.port)      # TCP_NODELAY: see cloud.server
    except OSError as exc:
        raise CommandError("cannot listen on %s:%d (%s)" % (settings.host, settings.port, exc.strerror))
    print("smartpos cloud: %d workers on %s://%s:%d/" % (args.workers, "https" if settings.tls_cert else "http",
                                                        settings.host, sock.getsockname()[1]), flush=True)
    tls = {"ssl_certfile": settings.tls_cert, "ssl_keyfile": settings.tls_key} if settings.tls_cert else {}
    uvicorn.run("cloud.asgi:create", factory=True, fd=sock.fileno(), workers=args.workers,
                log_level="warning", access_log=False, **tls)
    return 0


def _insights(args, settings):
    import datetime
    import time
    from cloud.db import open_database
    from cloud.insights import record, schedule
    try:
        engine, sessionmaker = open_database(settings.resolved_database_url())
    except Exception as exc:
        raise CommandError("cannot open the database %s: %s" % (settings.resolved_database_url().split("@")[-1], exc))
    t0 = time.monotonic()
    if args.action == "recompute":
        done = schedule.recompute(sessionmaker)
        print("recommendations recomputed for %d merchants (%d baskets) in %.1f s"
              % (len(done), sum(done.values()), time.monotonic() - t0), flush=True)
        return 0
    if not 1 <= args.merchants <= 5000 or not 1 <= args.days <= 3660:
        raise CommandError("--merchants must be 1..5000 and --days 1..3660")
    operator = _seeding_operator(sessionmaker, settings)
    start = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=args.days)
    made = record.seed(sessionmaker, operator.id, seed=args.seed, merchants=args.merchants, days=args.days,
                       start=start)
    baskets = sum(len(m.baskets) for _, m in made)
    failed = sum(1 for _, m in made if m.failed)
    done = schedule.recompute(sessionmaker, [mid for mid, _ in made])
    print("seeded %d SYNTHETIC merchants (%d fail during the period), %d baskets from %s, models learnt for %d, "
          "in %.1f s" % (len(made), failed, baskets, start, len(done), time.monotonic() - t0), flush=True)
    engine.dispose()
    return 0



def _seeding_operator(sessionmaker, settings):
    """The operator seeded data goes under (made, with its admin, in a new database)."""
    from sqlalchemy import select
    from cloud import bootstrap
    from cloud.tenants.models import Operator
    boot = bootstrap.ensure_operator(sessionmaker, settings)
    if boot:
        print("new database: operator %r, admin account %r, password %s" % boot, flush=True)
    with sessionmaker() as db:
        operator = db.scalar(select(Operator).where(Operator.slug == settings.bootstrap_operator))
    if operator is None:
        raise CommandError("no operator %r in this database to seed under" % settings.bootstrap_operator)
    return operator


def _seed(args, settings):
    from cloud import seed
    from cloud.db import open_database
    plan = seed.Plan(seed=args.seed, merchants=args.merchants, terminals_per_merchant=args.terminals_per_merchant,
                     days=args.days, per_terminal_day=args.per_terminal_day)
    try:
        plan.check()
    except seed.SeedError as exc:
        raise CommandError(str(exc))
    where = settings.resolved_database_url().split("@")[-1]
    try:
        engine, sessionmaker = open_database(settings.resolved_database_url())
    except Exception as exc:
        raise CommandError("cannot open the database %s: %s" % (where, exc))
    operator = _seeding_operator(sessionmaker, settings)
    with sessionmaker() as db:
        if seed.seeded_merchants(db, operator.id):
            engine.dispose()
            raise CommandError("%s already holds seeded merchants: seed into an empty data folder (--data) or "
                               "another database (--database-url)" % where)
    print("seeding SYNTHETIC data into %s: %d merchants x %d terminals, %s .. %s, about %d transactions"
          % (where, plan.merchants, plan.terminals_per_merchant, plan.first_day, plan.last_day,
             plan.expected_sales()), flush=True)

    def progress(done, expected, rate):
        print("  %10d transactions booked (%3d%% of about %d), %.0f a second"
              % (done, min(100, 100 * done // max(1, expected)), expected, rate), flush=True)
    try:
        rep = seed.load(sessionmaker, operator.id, plan, progress=progress, jobs=args.jobs)
    except seed.SeedError as exc:
        raise CommandError(str(exc))
    finally:
        engine.dispose()
    t = rep.totals
    print("seeded %d merchants, %d stores, %d terminals: %d sales and %d refunds (net %d.%02d EUR, tips %d.%02d) "
          "in %.1f s, %.0f transactions a second"
          % (rep.merchants, rep.stores, rep.terminals, t.sales, t.refunds, *divmod(t.net, 100), *divmod(t.tips, 100),
             rep.seconds, rep.rate), flush=True)
    print("sign in to the back office as %s .. %s (each merchant's owner), password %s  (SYNTHETIC data)"
          % (rep.owners[0], rep.owners[-1], seed.owner_password(plan.seed)), flush=True)
    return 0


def _test_ca(args):
    from cloud import tls
    out = args.out or tls.TEST_TLS_DIR
    hosts = args.host or list(tls.TEST_HOSTS)
    try:
        paths = tls.make_test_pki(out, hosts)
    except (OSError, ValueError) as exc:
        raise CommandError("cannot make the TEST CA in %s: %s" % (out, exc))
    print("TEST CA and server certificate for %s (never for a fleet):" % ", ".join(hosts), flush=True)
    for k in ("ca.der", "ca.pem", "server.pem", "server.key"):
        print("  %s" % paths[k], flush=True)
    print("a terminal pins %s as config/cloud_ca.der" % paths["ca.der"], flush=True)
    return 0
