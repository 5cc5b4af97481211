"""The seeded generator (cloud.seed, `smartpos cloud seed`): the same seed gives the same data, every
document passes the upload contract's checks, and a data folder it seeded is what the cloud then
serves: the owners sign in and see their own merchant's sales, adding up to the generated totals."""
import datetime

from fastapi.testclient import TestClient

from cloud import seed
from cloud.sales.contract import SaleIn, card_number_problems, sum_problems
from conftest import ADMIN_PASSWORD, login
from smartpos.cli import main

END = datetime.date(2026, 6, 30)


def test_same_seed_same_data_other_seed_other_data():
    plan = seed.Plan(seed=7, merchants=4, days=21, end=END)
    first, again = seed.totals(plan), seed.totals(plan)
    assert first == again
    assert first.sales > 4 * 3 * 21 * 4 and first.refunds > 0
    assert [d for _, d in seed.merchant_sales(plan, 2)] == [d for _, d in seed.merchant_sales(plan, 2)]
    other = seed.totals(seed.Plan(seed=8, merchants=4, days=21, end=END))
    assert other != first
    # a merchant's data does not depend on how many others are generated
    assert seed.totals(plan, [1]) == seed.totals(seed.Plan(seed=7, merchants=2, days=21, end=END), [1])


def test_every_document_passes_the_upload_checks():
    plan = seed.Plan(seed=3, merchants=5, days=14, end=END)
    kinds, tenders, last, tipped = set(), set(), {}, set()
    for i in range(plan.merchants):
        for cid, doc in seed.merchant_sales(plan, i):
            sale = SaleIn.model_validate(doc)
            assert card_number_problems(sale.model_dump(mode="json")) == []
            assert sum_problems(sale) == [], doc
            assert doc["invoice"] == last.get(cid, 0) + 1          # each terminal numbers its invoices 1, 2, 3 ...
            last[cid] = doc["invoice"]
            kinds.add(doc["kind"])
            if doc["tip"]:
                tipped.add(seed.merchant_shape(plan, i).trade)
            tenders.update(t["type"] for t in doc["tenders"])
            day = datetime.datetime.fromisoformat(doc["terminal_time"].replace("Z", "+00:00")).date()
            assert plan.first_day - datetime.timedelta(days=1) <= day <= plan.last_day + datetime.timedelta(days=1)
    assert kinds == {"sale", "refund"}
    assert tipped == {"Cafe"}                                  # seed 3 has a cafe; only cafes take tips
    assert tenders == {"cash", "card", "wallet", "gift_card"}


def _sales(client, auth, merchant_id):
    out, offset = [], 0
    while True:
        page = client.get("/api/v1/sales", params={"merchant_id": merchant_id, "day_from": "2000-01-01",
                                                   "limit": 1000, "offset": offset}, headers=auth)
        assert page.status_code == 200, page.text
        out += page.json()
        if len(page.json()) < 1000:
            return out
        offset += 1000


def test_cli_seeds_a_data_folder_the_cloud_then_serves(settings):
    from cloud.app import create_app
    argv = ["cloud", "seed", "--merchants", "3", "--terminals-per-merchant", "2", "--days", "12", "--seed", "5",
            "--data", settings.data_dir, "--database-url", settings.database_url, "--admin-password", ADMIN_PASSWORD]
    assert main(argv) == 0
    assert main(argv) == 2                                  # a seeded database is refused, not seeded twice
    plan = seed.Plan(seed=5, merchants=3, terminals_per_merchant=2, days=12)
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            admin = login(client)
            merchants = {m["name"]: m["id"] for m in client.get("/api/v1/merchants", headers=admin).json()}
            assert len(merchants) == 3
            for i in (0, 2):
                shape = seed.merchant_shape(plan, i)
                want = seed.totals(plan, [i])
                owner = login(client, shape.owner, seed.owner_password(5))
                mid = merchants[shape.name]
                got = _sales(client, owner, mid)
                assert sum(1 for s in got if s["kind"] == "sale") == want.sales
                assert sum(1 for s in got if s["kind"] == "refund") == want.refunds
                assert sum(s["total"] for s in got if s["kind"] == "sale") == want.sales_total
                assert sum(s["total"] for s in got if s["kind"] == "refund") == want.refunds_total
                assert sum(s["tip"] for s in got) == want.tips
                tax = client.get("/api/v1/merchants/%d/tax-report" % mid, headers=owner,
                                 params={"day_from": str(plan.first_day - datetime.timedelta(days=1)),
                                         "day_to": str(plan.last_day + datetime.timedelta(days=1))}).json()
                assert sum(r["sales_net"] + r["sales_tax"] for r in tax) == want.sales_lines
                # the back office's facts came with the seed (written by the same storing step)
                dash = client.get("/api/v1/merchants/%d/dashboard" % mid, headers=owner,
                                  params={"day_from": str(plan.first_day - datetime.timedelta(days=1)),
                                          "day_to": str(plan.last_day + datetime.timedelta(days=1))}).json()
                assert (dash["current"]["transactions"], dash["current"]["refund_count"]) == (want.sales, want.refunds)
                assert dash["current"]["tips"] == want.tips
                other = merchants[seed.merchant_shape(plan, 1).name]
                assert client.get("/api/v1/sales", params={"merchant_id": other}, headers=owner).status_code == 404
            # a seeded terminal uploads its next invoice through the device endpoint with its token
            cid = seed.merchant_shape(plan, 0).terminals[0][0]
            n = sum(1 for c, _ in seed.merchant_sales(plan, 0) if c == cid)
            doc = next(d for c, d in seed.merchant_sales(plan, 0) if c == cid and d["kind"] == "sale")
            r = client.post("/default/controller/v1/%s/sales" % cid, json=dict(doc, invoice=n + 1),
                            headers={"Authorization": "TargetToken " + seed.terminal_token(5, cid)})
            assert r.status_code == 201, r.text
    finally:
        app.state.engine.dispose()


def test_the_batch_path_refuses_what_the_endpoint_refuses_and_stores_nothing(settings):
    import pytest
    from sqlalchemy import func, select
    from cloud import bootstrap
    from cloud.db import open_database
    from cloud.sales.ingest import BatchRefused, book_batch
    from cloud.sales.models import Posting, Sale
    from cloud.tenants.models import Merchant, Operator, Store, Terminal
    plan = seed.Plan(seed=3, merchants=1, terminals_per_merchant=1, days=3, end=END)
    engine, sessionmaker = open_database(settings.resolved_database_url())
    try:
        bootstrap.ensure_operator(sessionmaker, settings)
        with sessionmaker() as db:
            op = db.scalar(select(Operator))
        seed.load(sessionmaker, op.id, plan)
        with sessionmaker() as db:
            stored = db.scalar(select(func.count(Sale.id)))
            posted = db.scalar(select(func.count(Posting.id)))
            t = db.scalar(select(Terminal).where(Terminal.controller_id.like(seed.TERMINAL_PREFIX + "%")))
            store, merchant = db.get(Store, t.store_id), db.scalar(select(Merchant).where(Merchant.name.like("Seed %")))
            _, doc = next(seed.merchant_sales(plan, 0))
            good = SaleIn.model_validate(dict(doc, invoice=10_000))
            wrong_sum = SaleIn.model_validate(dict(doc, invoice=10_001, tip=doc["tip"] + 1))
            full_pan = SaleIn.model_validate(dict(doc, invoice=10_002, cashier="4761739001010119"))
            at = good.terminal_time.replace(tzinfo=None)
            for bad, says in ((wrong_sum, "tenders pay"), (full_pan, "full card number")):
                with pytest.raises(BatchRefused, match=says):
                    book_batch(db, store, merchant, [(t, good, at), (t, bad, at)])
                db.rollback()
            assert db.scalar(select(func.count(Sale.id))) == stored
            assert db.scalar(select(func.count(Posting.id))) == posted
            assert book_batch(db, store, merchant, [(t, good, at)]) == 1
            db.commit()
            assert db.scalar(select(func.count(Sale.id))) == stored + 1
    finally:
        engine.dispose()


def test_seeding_in_processes_books_the_same_sales(settings):
    """--jobs 2 books the merchants in two processes on PostgreSQL (the same totals, per merchant, as
    generated; the dashboard's rollup equal to its facts); SQLite, one writer, refuses it clearly."""
    import pytest
    from sqlalchemy import select
    from cloud import bootstrap
    from cloud.backoffice import dashboard
    from cloud.db import open_database
    from cloud.tenants.models import Merchant, Operator
    plan = seed.Plan(seed=4, merchants=3, terminals_per_merchant=2, days=6, end=END)
    engine, sessionmaker = open_database(settings.resolved_database_url())
    try:
        bootstrap.ensure_operator(sessionmaker, settings)
        with sessionmaker() as db:
            op = db.scalar(select(Operator))
        if engine.dialect.name != "postgresql":
            with pytest.raises(seed.SeedError, match="one writer"):
                seed.load(sessionmaker, op.id, plan, jobs=2)
            return
        rep = seed.load(sessionmaker, op.id, plan, jobs=2)
        assert rep.totals == seed.totals(plan) and rep.terminals == 6
        a, b = plan.first_day - datetime.timedelta(days=1), plan.last_day + datetime.timedelta(days=1)
        with sessionmaker() as db:
            for i in range(plan.merchants):
                m = db.scalar(select(Merchant).where(Merchant.name == seed.merchant_shape(plan, i).name))
                got, want = dashboard.totals(db, m.id, a, b), seed.totals(plan, [i])
                assert (got["transactions"], got["refund_count"], got["sales"], got["refunds"], got["tips"]) == \
                    (want.sales, want.refunds, want.sales_total, want.refunds_total, want.tips)
                assert got == dashboard.totals_of_facts(db, m.id, a, b)
    finally:
        engine.dispose()


def test_migration_0015_fills_the_rollup_from_the_facts_already_stored(settings):
    """A database that had sales before the rollup existed: upgrading to 0015 sums its facts once."""
    from alembic import command
    from sqlalchemy import select
    from cloud import bootstrap
    from cloud.backoffice import dashboard
    from cloud.db import alembic_config, migrate, open_database
    from cloud.tenants.models import Merchant, Operator
    plan = seed.Plan(seed=6, merchants=2, terminals_per_merchant=2, days=5, end=END)
    engine, sessionmaker = open_database(settings.resolved_database_url())
    try:
        bootstrap.ensure_operator(sessionmaker, settings)
        with sessionmaker() as db:
            op = db.scalar(select(Operator))
        seed.load(sessionmaker, op.id, plan)
        a, b = plan.first_day - datetime.timedelta(days=1), plan.last_day + datetime.timedelta(days=1)
        with sessionmaker() as db:
            ids = list(db.scalars(select(Merchant.id).where(Merchant.name.like(seed.PREFIX + "%"))))
            before = [dashboard.totals(db, m, a, b) for m in ids]
        command.downgrade(alembic_config(engine), "0016")         # the rollup's table goes
        migrate(engine)                                            # and comes back, summed from the facts
        with sessionmaker() as db:
            assert [dashboard.totals(db, m, a, b) for m in ids] == before
            assert before == [dashboard.totals_of_facts(db, m, a, b) for m in ids]
        assert sum(t["transactions"] for t in before) == seed.totals(plan).sales
    finally:
        engine.dispose()
