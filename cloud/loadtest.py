"""Fleet load test: many lightweight DDI clients polling and reporting against one service.

    smartpos cloud loadtest --url http://127.0.0.1:8700 --database-url postgresql+psycopg://... \\
        --clients 2000 --seconds 60

Terminals ``LOAD-00000`` ... are registered directly in the database with known TargetTokens
(enrollment is not what is measured), a firmware action is assigned to every other one, and
each client then loops: poll; on first contact PUT configData; on a deploymentBase link fetch
it, POST proceeding and closed/success feedback.  Every feedback the clients sent is counted
and compared with the rows the service stored: a lost or doubled feedback is a failure.
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


class Stats:
    def __init__(self):
        self.latencies = []
        self.requests = 0
        self.errors = {}
        self.feedback_sent = 0
        self.served_by = set()
        self.closed = set()            # action ids whose closed/success feedback was answered

    def add(self, dt, ok, what=""):
        self.requests += 1
        self.latencies.append(dt)
        if not ok:
            self.errors[what] = self.errors.get(what, 0) + 1

    def p(self, q):
        if not self.latencies:
            return 0.0
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(q * len(s)))]


async def _feedback(http, stats, url, hdr, execution, finished, tries=3):
    """A DDI client sends feedback until the service answers it: 200, or 410 when an earlier try
    that timed out on the way back had already closed the action.  True once delivered."""
    body = {"status": {"execution": execution, "result": {"finished": finished}}}
    for _ in range(tries):
        t0 = time.monotonic()
        try:
            r = await http.post(url, headers=hdr, json=body)
        except Exception as e:
            stats.add(time.monotonic() - t0, False, "feedback " + type(e).__name__)
            continue
        ok = r.status_code in (200, 410)
        stats.add(time.monotonic() - t0, ok, "feedback %d" % r.status_code)
        if ok:
            stats.feedback_sent += 1
            return True
    return False


async def _client(http, base, tenant, i, until, stats, poll_gap):
    cid = "%s%05d" % (PREFIX, i)
    root = "%s/%s/controller/v1/%s" % (base, tenant, cid)
    hdr = {"Authorization": "TargetToken " + token_for(i)}
    await asyncio.sleep(random.random() * poll_gap)
    while time.monotonic() < until:
        t0 = time.monotonic()
        try:
            r = await http.get(root, headers=hdr)
            stats.served_by.add(r.headers.get("x-served-by", "?"))
            stats.add(time.monotonic() - t0, r.status_code == 200, "poll %d" % r.status_code)
            links = r.json().get("_links", {}) if r.status_code == 200 else {}
            if "configData" in links:
                t0 = time.monotonic()
                r = await http.put(root + "/configData", headers=hdr,
                                   json={"mode": "merge", "data": {"model": "load", "heap_free": str(100000 + i)}})
                stats.add(time.monotonic() - t0, r.status_code == 200, "configData %d" % r.status_code)
            if "deploymentBase" in links:
                t0 = time.monotonic()
                r = await http.get(links["deploymentBase"]["href"], headers=hdr)
                stats.add(time.monotonic() - t0, r.status_code == 200, "deploymentBase %d" % r.status_code)
                aid = r.json()["id"]
                for execution, finished in (("proceeding", "none"), ("closed", "success")):
                    delivered = await _feedback(http, stats, "%s/deploymentBase/%s/feedback" % (root, aid), hdr,
                                                execution, finished)
                    if delivered and execution == "closed":
                        stats.closed.add(int(aid))
        except Exception as e:                    # a refused or reset connection is a result too
            stats.add(time.monotonic() - t0, False, type(e).__name__)
        await asyncio.sleep(poll_gap * (0.5 + random.random()))


async def _swarm(base, tenant, clients, seconds, poll_gap, connections):
    import httpx
    stats = Stats()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0)) as http:
        await asyncio.gather(*(_client(http, base, tenant, i, until, stats, poll_gap) for i in range(clients)))
    return stats


def stored_success(database_url, action_ids):
    """Of `action_ids`, those the service has as succeeded; and all feedback rows of the run."""
    from sqlalchemy.orm import Session
    engine = make_engine(database_url)
    with Session(engine) as db:
        ok = set(db.scalars(select(Action.id).where(Action.state == "success", Action.id.in_(list(action_ids))))) \
            if action_ids else set()
        rows = db.scalar(select(func.count()).select_from(ActionStatus).join(Action).join(
            Terminal, Action.terminal_id == Terminal.id).where(Terminal.controller_id.like(PREFIX + "%")))
    engine.dispose()
    return ok, rows


def run(url, database_url, clients=2000, seconds=60, poll_gap=2.0, connections=256):
    """Returns a dict of figures; `lost` (closed feedback answered but not stored) must be 0."""
    tenant = provision(database_url, clients)
    t0 = time.monotonic()
    stats = asyncio.run(_swarm(url.rstrip("/"), tenant, clients, seconds, poll_gap, connections))
    wall = time.monotonic() - t0
    stored, rows = stored_success(database_url, stats.closed)
    return {"clients": clients, "seconds": round(wall, 1), "requests": stats.requests,
            "requests_per_s": round(stats.requests / wall, 1), "p50_ms": round(stats.p(0.5) * 1000, 1),
            "p95_ms": round(stats.p(0.95) * 1000, 1), "p99_ms": round(stats.p(0.99) * 1000, 1),
            "errors": stats.errors, "feedback_answered": stats.feedback_sent, "feedback_rows": rows,
            "actions_closed_by_clients": len(stats.closed), "lost": len(stats.closed - stored),
            "workers_seen": len(stats.served_by)}


def report(fig):
    return json.dumps(fig, sort_keys=True)
