"""Fleet load test: many lightweight DDI clients polling and reporting against one service.

    smartpos cloud loadtest --url http://127.0.0.1:8700 --database-url postgresql+psycopg://... \\
        --clients 2000 --seconds 60

Terminals ``LOAD-00000`` ... are registered directly in the database with known TargetTokens
(enrollment is not what is measured), a firmware action is assigned to every other one, and
each client then loops: poll; on first contact PUT configData; on a deploymentBase link fetch
it, POST proceeding and closed/success feedback.  A client told 503 or 429 with Retry-After
waits that long, as the terminal's DDI client does.  Every answer is counted by request and
status; every feedback the service accepted is compared with the rows it stored in the run:
a lost feedback is a failure.
"""
import asyncio
import hashlib
import json
import random
import time

from sqlalchemy import func, select

from cloud.db import make_engine, migrate, utcnow
from cloud.tenants.models import Operator, Terminal
from cloud.tms.models import Action, ActionStatus, Artifact, SoftwareModule

PREFIX = "LOAD-"


def token_for(i):
    return hashlib.sha256(b"smartpos load test %d" % i).hexdigest()[:32]


def provision(database_url, clients, with_action_every=2):
    """Register `clients` terminals (idempotent) and one open action on every `with_action_every`th."""
    from sqlalchemy.orm import Session
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as db:
        op = db.scalar(select(Operator).order_by(Operator.id).limit(1))
        if op is None:
            raise RuntimeError("the database has no operator yet: start the service once first")
        have = {t.controller_id: t for t in db.scalars(select(Terminal).where(Terminal.controller_id.like(PREFIX + "%")))}
        module = db.scalar(select(SoftwareModule).where(SoftwareModule.name == "loadtest"))
        if module is None:
            module = SoftwareModule(operator_id=op.id, kind="firmware", name="loadtest", version="1")
            db.add(module)
            db.flush()
            db.add(Artifact(module_id=module.id, filename="f.img", size=1, sha256="0" * 64, sha1="0" * 40,
                            md5="0" * 32))
        rows = []
        for i in range(clients):
            cid = "%s%05d" % (PREFIX, i)
            t = have.get(cid)
            if t is None:
                t = Terminal(operator_id=op.id, controller_id=cid, serial=cid, state="enrolled",
                             target_token_hash=hashlib.sha256(token_for(i).encode()).hexdigest(),
                             enrolled_at=utcnow())
                db.add(t)
            rows.append(t)
        db.flush()
        for i, t in enumerate(rows):
            t.attributes_requested = True
            if i % with_action_every == 0:
                db.add(Action(operator_id=op.id, terminal_id=t.id, module_id=module.id, state="scheduled"))
        db.commit()
        slug = op.slug
    engine.dispose()
    return slug


RETRY_AFTER_MAX_S = 60          # a client honours Retry-After up to this (the run is bounded)


class Stats:
    def __init__(self):
        self.latencies = []
        self.requests = 0
        self.statuses = {}             # "poll 200", "feedback 503", "poll ReadTimeout" ... -> count
        self.feedback_sent = 0         # feedback requests sent (tries included)
        self.feedback_accepted = 0     # answered 200: the service says it stored them
        self.feedback_gone = 0         # answered 410: an earlier try had already closed the action
        self.retry_waits = 0           # waits taken on the service's Retry-After
        self.served_by = set()
        self.closed = set()            # action ids whose closed/success feedback was answered

    def add(self, dt, what, outcome):
        self.requests += 1
        self.latencies.append(dt)
        key = "%s %s" % (what, outcome)
        self.statuses[key] = self.statuses.get(key, 0) + 1

    def p(self, q):
        if not self.latencies:
            return 0.0
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(q * len(s)))]

    def by_status(self):
        out = {}
        for key, n in self.statuses.items():
            code = key.rsplit(" ", 1)[1]
            out[code] = out.get(code, 0) + n
        return out


def retry_after(r):
    """The wait an overloaded service asked for (503/429 with Retry-After in seconds), bounded; else 0."""
    if r.status_code not in (429, 503):
        return 0
    try:
        return min(RETRY_AFTER_MAX_S, max(1, int(r.headers.get("retry-after", ""))))
    except ValueError:
        return 0


class Links:
    """The clients' shared HTTP connections.  Requests queue for one on a semaphore (as many under
    way as connections): httpx's own queue of waiting requests costs time in proportion to its
    length on every request, which made the load generator, not the service, the bottleneck at
    2,000 clients."""

    def __init__(self, http, connections):
        self.http = http
        self.free = asyncio.Semaphore(connections)


async def _call(links, stats, what, method, url, **kw):
    """One request, counted by its answer; None when it got no answer (refused, reset, timed out).
    Its latency is timed from when it has a connection (a terminal has its own link) to its answer."""
    async with links.free:
        t0 = time.monotonic()
        try:
            r = await links.http.request(method, url, **kw)
        except Exception as e:                # a refused or reset connection is a result too
            stats.add(time.monotonic() - t0, what, type(e).__name__)
            return None
        stats.add(time.monotonic() - t0, what, r.status_code)
    stats.served_by.add(r.headers.get("x-served-by", "?"))
    return r


async def _feedback(links, stats, url, hdr, execution, finished, until, tries=6):
    """A DDI client sends feedback until the service answers it: 200, or 410 when an earlier try
    that timed out on the way back had already closed the action; on 503/429 it waits the
    Retry-After first.  It keeps trying a little past the end of the run (a terminal keeps
    its result until delivered).  True once delivered."""
    body = {"status": {"execution": execution, "result": {"finished": finished}}}
    for _ in range(tries):
        stats.feedback_sent += 1
        r = await _call(links, stats, "feedback", "POST", url, headers=hdr, json=body)
        if r is not None and r.status_code == 200:
            stats.feedback_accepted += 1
            return True
        if r is not None and r.status_code == 410:
            stats.feedback_gone += 1
            return True
        wait = retry_after(r) if r is not None else 0
        if wait:
            stats.retry_waits += 1
        await asyncio.sleep(min(wait or 1, max(1.0, until + 30 - time.monotonic())))
    return False


async def _client(links, base, tenant, i, until, stats, poll_gap):
    cid = "%s%05d" % (PREFIX, i)
    root = "%s/%s/controller/v1/%s" % (base, tenant, cid)
    hdr = {"Authorization": "TargetToken " + token_for(i)}
    await asyncio.sleep(random.random() * poll_gap)
    while time.monotonic() < until:
        wait = poll_gap * (0.5 + random.random())
        r = await _call(links, stats, "poll", "GET", root, headers=hdr)
        offered = r.json().get("_links", {}) if r is not None and r.status_code == 200 else {}
        if "configData" in offered:
            r = await _call(links, stats, "configData", "PUT", root + "/configData", headers=hdr,
                            json={"mode": "merge", "data": {"model": "load", "heap_free": str(100000 + i)}})
        if "deploymentBase" in offered and r is not None and r.status_code == 200:
            r = await _call(links, stats, "deploymentBase", "GET", offered["deploymentBase"]["href"], headers=hdr)
            if r is not None and r.status_code == 200:
                aid = r.json()["id"]
                for execution, finished in (("proceeding", "none"), ("closed", "success")):
                    delivered = await _feedback(links, stats, "%s/deploymentBase/%s/feedback" % (root, aid), hdr,
                                                execution, finished, until)
                    if not delivered:
                        break
                    if execution == "closed":
                        stats.closed.add(int(aid))
        told = retry_after(r) if r is not None else 0
        if told:                               # the service said when to come back
            stats.retry_waits += 1
            wait = told
        await asyncio.sleep(wait)


async def _swarm(base, tenant, clients, seconds, poll_gap, connections):
    import httpx
    stats = Stats()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0)) as http:
        links = Links(http, connections)
        await asyncio.gather(*(_client(links, base, tenant, i, until, stats, poll_gap) for i in range(clients)))
    return stats


def _load_feedback_rows(database_url):
    from sqlalchemy.orm import Session
    engine = make_engine(database_url)
    with Session(engine) as db:
        rows = db.scalar(select(func.count()).select_from(ActionStatus).join(Action).join(
            Terminal, Action.terminal_id == Terminal.id).where(Terminal.controller_id.like(PREFIX + "%")))
    engine.dispose()
    return rows


def stored_success(database_url, action_ids):
    """Of `action_ids`, those the service has as succeeded."""
    from sqlalchemy.orm import Session
    if not action_ids:
        return set()
    engine = make_engine(database_url)
    with Session(engine) as db:
        ok = set(db.scalars(select(Action.id).where(Action.state == "success", Action.id.in_(list(action_ids)))))
    engine.dispose()
    return ok


def run(url, database_url, clients=2000, seconds=60, poll_gap=2.0, connections=256):
    """Returns a dict of figures.  `lost` must be 0: actions whose closing feedback the service
    answered but does not hold as succeeded, plus feedback answered 200 beyond the rows stored."""
    tenant = provision(database_url, clients)
    rows_before = _load_feedback_rows(database_url)
    t0 = time.monotonic()
    stats = asyncio.run(_swarm(url.rstrip("/"), tenant, clients, seconds, poll_gap, connections))
    wall = time.monotonic() - t0
    stored = stored_success(database_url, stats.closed)
    rows = _load_feedback_rows(database_url) - rows_before
    statuses = stats.by_status()
    return {"clients": clients, "seconds": round(wall, 1), "poll_gap_s": poll_gap, "connections": connections,
            "requests": stats.requests, "requests_per_s": round(stats.requests / wall, 1),
            "answered_2xx_per_s": round(sum(n for k, n in statuses.items() if k.startswith("2")) / wall, 1),
            "p50_ms": round(stats.p(0.5) * 1000, 1), "p95_ms": round(stats.p(0.95) * 1000, 1),
            "p99_ms": round(stats.p(0.99) * 1000, 1), "status_counts": statuses, "by_request": stats.statuses,
            "server_errors": sum(n for k, n in statuses.items() if k.startswith("5") and k != "503"),
            "retry_after_waits": stats.retry_waits,
            "feedback_sent": stats.feedback_sent, "feedback_accepted": stats.feedback_accepted,
            "feedback_already_closed": stats.feedback_gone, "feedback_rows_stored": rows,
            "actions_closed_by_clients": len(stats.closed),
            "lost": len(stats.closed - stored) + max(0, stats.feedback_accepted - rows),
            "workers_seen": len(stats.served_by - {"?"})}


def report(fig):
    """A readable summary, then every figure as one JSON line."""
    return ("%(clients)d clients, %(seconds)ss: %(requests)d requests, %(requests_per_s)s/s "
            "(%(answered_2xx_per_s)s/s answered 2xx); latency p50 %(p50_ms)s ms, p95 %(p95_ms)s ms, "
            "p99 %(p99_ms)s ms\n" % fig
            + "status: %s; server errors (5xx but 503): %d; Retry-After waits: %d\n"
            % (", ".join("%s x%d" % kv for kv in sorted(fig["status_counts"].items())), fig["server_errors"],
               fig["retry_after_waits"])
            + "feedback: %(feedback_sent)d sent, %(feedback_accepted)d accepted, %(feedback_rows_stored)d stored, "
              "%(feedback_already_closed)d already closed; actions closed %(actions_closed_by_clients)d; "
              "lost %(lost)d; workers seen %(workers_seen)d\n" % fig
            + json.dumps(fig, sort_keys=True))
