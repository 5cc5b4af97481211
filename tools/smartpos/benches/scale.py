"""The cloud at scale on PostgreSQL, with SYNTHETIC data from the seeded generator (cloud.seed):

* ``cloud-scale-queries``: seed merchants, terminals and their sales, then time the back office's
  reads (the sales list, the tax report, invoice gaps, the ledger of a day) and the aggregates a
  dashboard draws (net sales by day, payment mix, sales by hour, merchants ranked), each the
  slowest of 3 runs.
* ``cloud-sync-load``: a running ``smartpos cloud`` (its own process) and N seeded terminals
  uploading one sale each at once over HTTP: uploads a second, p95 of a terminal's wait for its
  answer (from the burst's start, 503 + Retry-After retries included), and the time until the
  burst is visible in the sales table the back office reads.

Default sizes are small (a minute or two on 2 cores); larger ones by environment:
SMARTPOS_BENCH_SCALE_MERCHANTS (20), SMARTPOS_BENCH_SCALE_DAYS (90), SMARTPOS_BENCH_SCALE_TERMINALS
(terminals uploading at once, 300; 3000 for the issue's figure), SMARTPOS_BENCH_SCALE_WORKERS (the
service's worker processes, 1), SMARTPOS_BENCH_PG_URL (an existing,
empty database instead of a throwaway PostgreSQL server); with SMARTPOS_BENCH_SCALE_SEEDED=1 that
database was seeded before (`smartpos cloud seed`, seed 1, with the MERCHANTS and DAYS given here)
and both benches use it as it is: the queries read it, the burst uploads as its terminals.  Figures are in docs/cloud.md.
"""
import asyncio
import datetime
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BURST_INVOICE = 900_000_000          # the burst's invoices, above anything the generator numbers
CONNECTIONS = 256                    # HTTP connections the terminals share (a load balancer's would be similar)


def _env_int(name, default):
    return int(os.environ.get(name, default))


class _Database:
    """A database for the bench: SMARTPOS_BENCH_PG_URL, else a throwaway PostgreSQL server."""

    def __init__(self):
        self.server = None

    def __enter__(self):
        url = os.environ.get("SMARTPOS_BENCH_PG_URL")
        if url:
            return url
        spec = importlib.util.spec_from_file_location("cloud_pg", os.path.join(ROOT, "tests", "cloud", "cloud_pg.py"))
        cloud_pg = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cloud_pg)
        self.server = cloud_pg.PgServer()
        if not self.server.available:
            raise RuntimeError("PostgreSQL (initdb, pg_ctl) is not installed: apt-get install postgresql, "
                               "or give SMARTPOS_BENCH_PG_URL")
        self.server.start()
        return self.server.create_database("bench")

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.stop()


def _seeded(url, plan):
    from sqlalchemy import select
    from cloud import bootstrap, seed
    from cloud.db import open_database
    from cloud.settings import Settings
    from cloud.tenants.models import Operator
    engine, sessionmaker = open_database(url)
    bootstrap.ensure_operator(sessionmaker, Settings(data_dir=tempfile.mkdtemp(), database_url=url,
                                                     bootstrap_admin_password="bench-password-1"))
    with sessionmaker() as db:
        op = db.scalar(select(Operator))
    rep = seed.load(sessionmaker, op.id, plan)
    return engine, sessionmaker, rep


def _slowest_ms(fn, runs=3):
    worst = 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        worst = max(worst, time.perf_counter() - t0)
    return worst * 1000


def queries():
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select, text
    from cloud import seed
    from cloud.app import create_app
    from cloud.sales.models import JournalEntry, Posting, Sale
    from cloud.settings import Settings
    from cloud.tenants.models import Merchant
    plan = seed.Plan(seed=1, merchants=_env_int("SMARTPOS_BENCH_SCALE_MERCHANTS", 20),
                     days=_env_int("SMARTPOS_BENCH_SCALE_DAYS", 90))
    rows = []
    with _Database() as url:
        if os.environ.get("SMARTPOS_BENCH_SCALE_SEEDED"):
            from cloud.db import open_database
            engine, sessionmaker = open_database(url)
        else:
            engine, sessionmaker, rep = _seeded(url, plan)
            rows += [("seeded: merchants / terminals", "%d / %d" % (rep.merchants, rep.terminals), ""),
                     ("seed rate (generate, check, book, commit)", rep.rate, "transactions/s")]
        with engine.connect() as conn:          # the statistics autovacuum keeps on a live database
            conn.execute(text("ANALYZE"))
            conn.commit()
        with sessionmaker() as db:
            big = db.execute(select(Sale.merchant_id, func.count(Sale.id)).group_by(Sale.merchant_id)
                             .order_by(func.count(Sale.id).desc()).limit(1)).first()
            days = db.execute(select(func.min(Sale.booked_day), func.max(Sale.booked_day))).one()
            rows += [("database: merchants / transactions", "%d / %d" % (
                         db.scalar(select(func.count()).select_from(Merchant)),
                         db.scalar(select(func.count()).select_from(Sale))), ""),
                     ("database: booked days", "%s .. %s" % tuple(days), ""),
                     ("the biggest merchant's transactions (timed below)", big[1], "")]
        mid = big[0]
        first, last = days
        month = last - datetime.timedelta(days=29)
        year = max(first, last - datetime.timedelta(days=365))
        app = create_app(Settings(data_dir=tempfile.mkdtemp(), database_url=url))
        with TestClient(app) as c:
            adm = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
                "username": "admin", "password": "bench-password-1"}).json()["token"]}

            def get(path, **params):
                def call():
                    r = c.get(path, params=params, headers=adm)
                    assert r.status_code == 200, r.text
                return call
            api = [("sales list, first page of a month", get("/api/v1/sales", merchant_id=mid, day_from=str(month),
                                                              day_to=str(last))),
                   ("sales list, operator-wide newest 100", get("/api/v1/sales", order="received", offset=0)),
                   ("tax report, whole period", get("/api/v1/merchants/%d/tax-report" % mid, day_from=str(first),
                                                    day_to=str(last))),
                   ("tax report, a month", get("/api/v1/merchants/%d/tax-report" % mid, day_from=str(month),
                                               day_to=str(last))),
                   ("invoice gaps of a merchant", get("/api/v1/sale-gaps", merchant_id=mid)),
                   ("ledger (Beancount) of a day", get("/api/v1/merchants/%d/ledger" % mid, day_from=str(last),
                                                       day_to=str(last)))]
            period = {"day_from": str(month), "day_to": str(last)}
            api += [("dashboard of a merchant's month", get("/api/v1/merchants/%d/dashboard" % mid, **period)),
                    ("dashboard of a merchant's year", get("/api/v1/merchants/%d/dashboard" % mid,
                                                           day_from=str(year), day_to=str(last))),
                    ("transactions.csv of a merchant's month", get("/api/v1/merchants/%d/dashboard/transactions.csv"
                                                                   % mid, **period)),
                    ("daily report PDF of a merchant's day", get("/api/v1/merchants/%d/dashboard/daily-report.pdf"
                                                                 % mid, day=str(last)))]
            for name, call in api:
                rows.append(("API %s" % name, _slowest_ms(call), "ms"))
        app.state.engine.dispose()
        since = month

        def net_by_day():
            with sessionmaker() as db:
                db.execute(select(Sale.booked_day, Sale.kind, func.sum(Sale.total), func.count(Sale.id))
                           .where(Sale.merchant_id == mid, Sale.booked_day >= since)
                           .group_by(Sale.booked_day, Sale.kind)).all()

        def payment_mix():
            with sessionmaker() as db:
                db.execute(select(Posting.account, func.sum(Posting.amount))
                           .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                           .where(JournalEntry.merchant_id == mid, JournalEntry.day >= since,
                                  Posting.account.like("Assets:%"))
                           .group_by(Posting.account)).all()

        def by_hour():
            with sessionmaker() as db:
                hour = func.extract("hour", Sale.terminal_time)
                db.execute(select(hour, func.sum(Sale.total)).where(Sale.merchant_id == mid, Sale.booked_day >= since,
                                                                    Sale.kind == "sale").group_by(hour)).all()

        def ranked():
            with sessionmaker() as db:
                db.execute(select(Merchant.name, func.sum(Sale.total)).join(Merchant, Merchant.id == Sale.merchant_id)
                           .where(Sale.booked_day >= since, Sale.kind == "sale").group_by(Merchant.name)
                           .order_by(func.sum(Sale.total).desc()).limit(10)).all()
        def dash(fn, *args):
            def call():
                with sessionmaker() as db:
                    fn(db, *args)
            return call
        from cloud.backoffice import dashboard
        with sessionmaker() as db:
            operator_id = db.scalar(select(Merchant.operator_id).where(Merchant.id == mid))
        for span, a in (("month", month), ("year", year)):
            for name, fn, args in (("totals (rollup)", dashboard.totals, (mid, a, last)),
                                   ("totals (sale facts, for comparison)", dashboard.totals_of_facts, (mid, a, last)),
                                   ("payment mix", dashboard.payment_mix, (mid, a, last)),
                                   ("top and slow items", dashboard.items, (mid, a, last)),
                                   ("new and returning members", dashboard.members, (mid, a, last)),
                                   ("by store", dashboard.breakdown, (mid, a, last, None, "store")),
                                   ("by terminal", dashboard.breakdown, (mid, a, last, None, "terminal")),
                                   ("by cashier", dashboard.breakdown, (mid, a, last, None, "cashier"))):
                rows.append(("dashboard %s, a merchant's %s" % (name, span), _slowest_ms(dash(fn, *args)), "ms"))
        rows.append(("dashboard sales by hour, a merchant's day", _slowest_ms(dash(dashboard.by_hour, mid, last)), "ms"))
        for span, a in (("month", month), ("year", year)):
            rows.append(("top 10 merchants of the operator, a %s (rollup)" % span,
                         _slowest_ms(dash(dashboard.ranked_merchants, operator_id, a, last)), "ms"))
        for name, fn in (("net sales by day, a merchant's month", net_by_day),
                         ("payment mix, a merchant's month", payment_mix),
                         ("sales by hour, a merchant's month", by_hour),
                         ("top 10 merchants of the operator, a month, from the sales", ranked)):
            rows.append(("SQL %s" % name, _slowest_ms(fn), "ms"))
        engine.dispose()
    return rows


async def _burst(base, tenant, terminals, stats):
    import httpx
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    gate = asyncio.Semaphore(CONNECTIONS)
    t0 = time.monotonic()

    async def one(http, cid, token, doc):
        url = "%s/%s/controller/v1/%s/sales" % (base, tenant, cid)
        hdr = {"Authorization": "TargetToken " + token}
        for _ in range(10):
            async with gate:
                s = time.monotonic()
                try:
                    r = await http.post(url, json=doc, headers=hdr)
                    code = r.status_code
                except httpx.HTTPError as exc:
                    r, code = None, type(exc).__name__
                stats["service"].append(time.monotonic() - s)
            stats["codes"][code] = stats["codes"].get(code, 0) + 1
            if code in (200, 201):
                stats["answered"].append(time.monotonic() - t0)
                return
            wait = int(r.headers.get("retry-after", "1")) if r is not None and code in (429, 503) else 1
            await asyncio.sleep(min(wait, 30))
        stats["lost"] += 1

    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120.0)) as http:
        await asyncio.gather(*(one(http, cid, token, doc) for cid, token, doc in terminals))
    return time.monotonic() - t0


def _p(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def sync_load():
    import threading
    from sqlalchemy import func, select
    from cloud import seed
    from cloud.sales.models import Sale
    count = _env_int("SMARTPOS_BENCH_SCALE_TERMINALS", 300)
    preseeded = bool(os.environ.get("SMARTPOS_BENCH_SCALE_SEEDED"))
    if preseeded:       # the terminals of a database seeded before (seed 1, as cloud-scale-queries)
        plan = seed.Plan(seed=1, merchants=_env_int("SMARTPOS_BENCH_SCALE_MERCHANTS", 20),
                         days=_env_int("SMARTPOS_BENCH_SCALE_DAYS", 90))
    else:
        plan = seed.Plan(seed=2, merchants=(count + 2) // 3, terminals_per_merchant=3, days=2, per_terminal_day=2)
    burst_invoice = BURST_INVOICE + int(time.time()) % 90_000_000    # a fresh number each run
    rows = []
    with _Database() as url:
        if preseeded:
            from cloud.db import open_database
            engine, sessionmaker = open_database(url)
            with sessionmaker() as db:
                before = db.scalar(select(func.count(Sale.id)))
        else:
            engine, sessionmaker, rep = _seeded(url, plan)
            before = rep.totals.sales + rep.totals.refunds
        terminals = []
        for i in range(plan.merchants):
            if len(terminals) >= count:
                break
            shape = seed.merchant_shape(plan, i)
            doc = next(d for _, d in seed.merchant_sales(plan, i, shape) if d["kind"] == "sale")
            for cid, _ in shape.terminals[:count - len(terminals)]:
                now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                terminals.append((cid, seed.terminal_token(plan.seed, cid),
                                  dict(doc, invoice=burst_invoice, terminal_time=now)))
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "smartpos.cli", "cloud", "--port", "0", "--database-url", url,
                                 "--workers", str(_env_int("SMARTPOS_BENCH_SCALE_WORKERS", 1)),
                                 "--data", tempfile.mkdtemp()], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env, cwd=ROOT)
        try:
            base = None
            for line in proc.stdout:
                m = re.search(r"on (http://[0-9.]+:[0-9]+)/", line)
                if m:
                    base = m.group(1)
                    break
            if base is None:
                raise RuntimeError("smartpos cloud did not start")
            threading.Thread(target=proc.stdout.read, daemon=True).start()      # keep its pipe drained
            seen = {}
            done = threading.Event()

            def watch(t0):
                while not done.is_set():
                    with sessionmaker() as db:
                        n = db.scalar(select(func.count(Sale.id)).where(Sale.invoice == burst_invoice))
                    at = time.monotonic() - t0
                    for frac in (0.5, 0.95, 1.0):
                        if n >= frac * len(terminals) and frac not in seen:
                            seen[frac] = at
                    if 1.0 in seen:
                        return
                    done.wait(0.05)
            stats = {"service": [], "answered": [], "codes": {}, "lost": 0}
            t0 = time.monotonic()
            watcher = threading.Thread(target=watch, args=(t0,), daemon=True)
            watcher.start()
            wall = asyncio.run(_burst(base, "default", terminals, stats))
            watcher.join(120)
            done.set()
        finally:
            proc.terminate()
            proc.wait(30)
        stored = stats["codes"].get(201, 0)
        rows += [("terminals uploading at once", len(terminals), ""),
                 ("service worker processes", _env_int("SMARTPOS_BENCH_SCALE_WORKERS", 1), ""),
                 ("sales in the database before the burst", before, ""),
                 ("uploads stored (201)", stored, ""),
                 ("answers 503 (Retry-After, retried)", stats["codes"].get(503, 0), ""),
                 ("uploads lost (no 201 after 10 tries)", stats["lost"], ""),
                 ("burst wall time", wall, "s"),
                 ("throughput", stored / wall if wall else 0.0, "uploads/s"),
                 ("p50 terminal's wait for its answer", _p(stats["answered"], 0.5) * 1000, "ms"),
                 ("p95 terminal's wait for its answer", _p(stats["answered"], 0.95) * 1000, "ms"),
                 ("p95 one request (connection held)", _p(stats["service"], 0.95) * 1000, "ms")]
        for frac, label in ((0.5, "half"), (0.95, "95%"), (1.0, "all")):
            rows.append(("burst visible to queries: %s of it after" % label, seen.get(frac, float("nan")), "s"))
        engine.dispose()
    return rows


BENCHES = {"cloud-scale-queries": queries, "cloud-sync-load": sync_load}
