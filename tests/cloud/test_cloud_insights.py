"""Insights: the synthetic generator, the recommender, the credit score and its AUC, and their API
(privacy switch, consents, the lender's call, tenancy) on SQLite and PostgreSQL."""
import datetime

import pytest

from cloud.insights import association, credit, record, schedule, synthetic
from cloud.insights.models import CreditConsent


# ---------------------------------------------------------------- pure parts

def test_auc_matches_a_hand_checked_example():
    # failed merchants have risks 0.35 and 0.8, healthy ones 0.1 and 0.4: of the 4 (failed, healthy)
    # pairs, the failed one is riskier in 3 (0.35>0.1, 0.8>0.1, 0.8>0.4), not in 1 (0.35<0.4): 3/4
    assert credit.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # a tie counts one half: pairs (1 vs 1) = 0.5, (1 vs 2) = 0  ->  0.5 / 2
    assert credit.auc([1, 1, 2], [1, 0, 0]) == 0.25
    assert credit.auc([3, 2, 1], [True, False, False]) == 1.0
    assert credit.auc([1, 2, 3], [True, False, False]) == 0.0
    with pytest.raises(ValueError, match="at least one failed"):
        credit.auc([1, 2], [0, 0])


def test_generator_is_deterministic_and_failed_merchants_stop_trading():
    a = synthetic.generate(seed=5, merchants=6, days=60, fail_share=0.6)
    b = synthetic.generate(seed=5, merchants=6, days=60, fail_share=0.6)
    c = synthetic.generate(seed=6, merchants=6, days=60, fail_share=0.6)
    assert a == b
    assert a != c
    assert any(m.failed for m in a.merchants) and not all(m.failed for m in a.merchants)
    for m in a.merchants:
        sales = [x for x in m.baskets if x.kind == "sale"]
        assert sales and all(m.opens_on <= x.at.date() for x in sales)
        if m.failed:
            assert all(x.at.date() < m.fails_on for x in sales)
        assert all(x.amount > 0 and set(x.items) <= {i.code for i in m.items} for x in sales)


def test_recommender_learns_what_is_bought_together():
    baskets = [("coffee", "croissant")] * 6 + [("tea", "scone")] * 3 + [("coffee",), ("water",)] * 5
    model = association.learn(baskets)
    top = association.recommend(model, ["coffee"], limit=3)
    assert top[0][0] == "croissant" and top[0][2] == "coffee"
    # cosine: 6 together / sqrt(11 coffee * 6 croissant)
    assert top[0][1] == pytest.approx(6 / (11 * 6) ** 0.5, abs=1e-6)
    assert [i for i, _, _ in top[1:]] == ["water", "scone"]        # fill-up by popularity, never "coffee"
    assert association.popular_baseline(model, ["coffee"], 2) == ["croissant", "water"]
    cases = [(("coffee",), [], "croissant"), (("tea",), [], "scone"), (("water",), [], "tea")]
    assert association.hit_rate(model, cases, k=1) == pytest.approx(2 / 3)


def test_offline_evaluation_beats_its_baselines_on_a_small_world():
    from cloud.insights import evaluation
    rec = evaluation.recommendations(seed=2, merchants=3, days=60)
    assert rec["cases"] > 500
    assert rec["hit_rate_model"] > rec["hit_rate_popular"] + 0.1
    cr = evaluation.credit_auc(seed=2, merchants=40, days=200, observe_day=100)
    assert cr["failed"] >= 5 and cr["auc_score"] > cr["auc_volume_only"]


def _record(days, per_day, refund_every=0, start=datetime.date(2026, 1, 1), member_every=3):
    out = []
    for d in range(days):
        day = start + datetime.timedelta(days=d)
        for k in range(per_day):
            at = datetime.datetime(day.year, day.month, day.day, 9, k % 60)
            member = "M%d" % (k % 7) if k % member_every == 0 else ""
            out.append(credit.Sale(at=at, kind="sale", tender="card" if k % 2 else "cash", amount=1000, member=member))
            if refund_every and k % refund_every == 0:
                out.append(credit.Sale(at=at, kind="refund", tender="card", amount=1000, member=member))
    return out


def test_credit_score_is_the_sum_of_its_reasons():
    as_of = datetime.date(2026, 7, 1)
    healthy = credit.profile(_record(181, 40), as_of)
    assert healthy.score == round(credit.BASE + sum(f.points for f in healthy.factors))
    assert {f.name for f in healthy.factors} == set(credit.REFERENCE)
    assert healthy.months == 6
    refunds = credit.profile(_record(181, 40, refund_every=4), as_of)
    rr = next(f for f in refunds.factors if f.name == "refund_rate")
    assert rr.value == pytest.approx(0.25, abs=0.01)
    assert rr.points == -120.0 and "refunds 25.00% of sales: -120.0 points" in rr.reason
    assert refunds.score < healthy.score
    with pytest.raises(credit.CreditError, match="no sales"):
        credit.profile(_record(10, 5), datetime.date(2025, 1, 1))


# ---------------------------------------------------------------- the API, on both databases

def _basket(db, merchant_id, items, member="", day=1, kind="sale", tender="card"):
    at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(days=day)
    record.record_basket(db, merchant_id, at, kind, tender, 500 * len(items) or 500, items, member)


@pytest.fixture
def shop(app, client, tenancy):
    """Merchant A with baskets: member M1 buys coffee with a croissant; M2 (who will opt out) tea with a scone."""
    a = tenancy["merchant_a"]["id"]
    with app.state.sessionmaker() as db:
        for d in range(1, 61):
            _basket(db, a, ["coffee", "croissant"], "M1", day=d)
            _basket(db, a, ["tea", "scone"], "M2", day=d)
            _basket(db, a, ["coffee", "water"] if d % 3 else ["water"], "", day=d, tender="cash")
        db.commit()
    return tenancy


def test_recommendations_and_the_privacy_switch(app, client, shop):
    a, owner = shop["merchant_a"]["id"], shop["owner-a"]
    r = client.post("/api/v1/merchants/%d/recommendations" % a, json={"basket": ["coffee"]}, headers=owner)
    assert r.status_code == 409 and "no recommendation model yet" in r.json()["detail"]
    r = client.put("/api/v1/merchants/%d/members/M2/privacy" % a, json={"recommendations_opt_out": True},
                   headers=shop["staff-a"])
    assert r.status_code == 200 and r.json()["recommendations_opt_out"] is True
    assert client.post("/api/v1/merchants/%d/recommendations/recompute" % a, headers=shop["staff-a"]).status_code == 403
    r = client.post("/api/v1/merchants/%d/recommendations/recompute" % a, headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["baskets_used"] == 120 and r.json()["members_excluded"] == 1      # M2's 60 left out
    r = client.post("/api/v1/merchants/%d/recommendations" % a, json={"member": "M1", "basket": ["coffee"]},
                    headers=shop["staff-a"])
    assert r.status_code == 200, r.text
    first = r.json()["items"][0]
    assert (first["code"], first["because"]) == ("croissant", "coffee")
    # coffee (the basket, weight 1) and coffee again (M1's past, weight 0.3): 60 together / sqrt(100 * 60)
    assert first["score"] == pytest.approx(1.3 * 60 / (100 * 60) ** 0.5, abs=1e-5)
    # M2's tea-and-scone baskets were not learnt: tea has no neighbour, scone comes up in no list
    r = client.post("/api/v1/merchants/%d/recommendations" % a, json={"basket": ["tea"], "limit": 5}, headers=owner)
    assert all(i["because"] == "" for i in r.json()["items"])
    assert "scone" not in [i["code"] for i in r.json()["items"]]
    r = client.post("/api/v1/merchants/%d/recommendations" % a, json={"member": "M2", "basket": ["coffee"]},
                    headers=owner)
    assert r.json()["opted_out"] is True and r.json()["items"] == []
    # the scheduled job recomputes every merchant with baskets; opting back in brings M2 back
    client.put("/api/v1/merchants/%d/members/M2/privacy" % a, json={"recommendations_opt_out": False}, headers=owner)
    assert schedule.recompute(app.state.sessionmaker) == {a: 180}
    r = client.post("/api/v1/merchants/%d/recommendations" % a, json={"member": "M2", "basket": ["tea"]},
                    headers=owner)
    assert r.json()["items"][0]["code"] == "scone"
    r = client.post("/api/v1/merchants/%d/recommendations" % a, json={"basket": ["bad code"]}, headers=owner)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "basket", 0]


def test_a_lender_reads_the_profile_only_with_live_consent(app, client, shop):
    a, b, owner = shop["merchant_a"]["id"], shop["merchant_b"]["id"], shop["owner-a"]
    path = "/api/v1/lending/merchants/%d/credit-profile" % a
    assert client.post("/api/v1/lenders", json={"name": "Bank"}, headers=owner).status_code == 403
    r = client.post("/api/v1/lenders", json={"name": "Factoring Partner"}, headers=shop["admin"])
    assert r.status_code == 201, r.text
    lender_id, key = r.json()["id"], r.json()["key"]
    lender = {"Authorization": "Bearer " + key}
    assert client.get(path).status_code == 401
    assert client.get(path, headers=owner).status_code == 401            # a person's token is not a lender key
    r = client.get(path, headers=lender)
    assert r.status_code == 403 and "has not consented" in r.json()["detail"]
    for who in ("staff-a", "admin", "owner-b"):
        r = client.post("/api/v1/merchants/%d/credit-consents" % a, json={"lender_id": lender_id}, headers=shop[who])
        assert r.status_code in (403, 404), (who, r.text)
    r = client.post("/api/v1/merchants/%d/credit-consents" % a, json={"lender_id": lender_id, "days": 30},
                    headers=owner)
    assert r.status_code == 201 and r.json()["state"] == "active"
    consent = r.json()["id"]
    r = client.get(path, headers=lender)
    assert r.status_code == 200, r.text
    prof = r.json()
    assert 300 <= prof["score"] <= 900 and len(prof["factors"]) == 8
    assert prof["score"] == round(600 + sum(f["points"] for f in prof["factors"]))
    assert client.get("/api/v1/merchants/%d/credit-profile" % a, headers=owner).json()["score"] == prof["score"]
    assert client.get("/api/v1/merchants/%d/credit-profile" % a, headers=shop["staff-a"]).status_code == 403
    # consent for A opens nothing of B
    r = client.get("/api/v1/lending/merchants/%d/credit-profile" % b, headers=lender)
    assert r.status_code == 403 and "merchant %d has not consented" % b in r.json()["detail"]
    r = client.delete("/api/v1/merchants/%d/credit-consents/%d" % (a, consent), headers=owner)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert client.delete("/api/v1/merchants/%d/credit-consents/%d" % (a, consent), headers=owner).status_code == 409
    r = client.get(path, headers=lender)
    assert r.status_code == 403 and "revoked its consent" in r.json()["detail"]
    r = client.post("/api/v1/merchants/%d/credit-consents" % a, json={"lender_id": lender_id, "days": 1}, headers=owner)
    with app.state.sessionmaker() as db:
        db.get(CreditConsent, r.json()["id"]).expires_at = datetime.datetime(2026, 1, 2, 3, 4, 5)
        db.commit()
    r = client.get(path, headers=lender)
    assert r.status_code == 403 and r.json()["detail"].endswith("expired on 2026-01-02T03:04:05Z")
    states = [c["state"] for c in client.get("/api/v1/merchants/%d/credit-consents" % a, headers=owner).json()]
    assert states == ["revoked", "expired"]
    audit = client.get("/api/v1/audit?entity=merchants", headers=owner).json()
    actions = [e["action"] for e in audit if e["actor"].startswith("lender:")]
    assert actions == ["credit_profile_refused", "credit_profile_refused", "credit_profile_read",
                       "credit_profile_refused"]
    assert client.get(path, headers={"Authorization": "Bearer lk_not-a-key"}).status_code == 401


def test_another_merchants_token_gets_404_on_every_merchant_scoped_endpoint(app, client, shop):
    from cloud.insights.router import router
    a = shop["merchant_a"]["id"]
    r = client.post("/api/v1/lenders", json={"name": "Bank"}, headers=shop["admin"])
    lender_id = r.json()["id"]
    consent = client.post("/api/v1/merchants/%d/credit-consents" % a, json={"lender_id": lender_id},
                          headers=shop["owner-a"]).json()["id"]
    client.post("/api/v1/merchants/%d/recommendations/recompute" % a, headers=shop["owner-a"])
    bodies = {"PUT": {"recommendations_opt_out": True}, "POST": {"lender_id": lender_id, "basket": ["coffee"]}}
    tried = 0
    for route in router.routes:
        if not route.path.startswith("/api/v1/merchants/{merchant_id}/"):   # the lender's route: see above
            continue
        path = route.path.format(merchant_id=a, member="M1", consent_id=consent)
        for method in route.methods:
            for who in ("owner-b", "staff-b"):
                r = client.request(method, path, json=bodies.get(method), headers=shop[who])
                assert r.status_code == 404, (method, path, who, r.status_code, r.text)
                assert "merchant %d not found" % a in r.json()["detail"]
            tried += 1
    assert tried == 8
    # nothing changed for A
    r = client.get("/api/v1/merchants/%d/members/M1/privacy" % a, headers=shop["owner-a"])
    assert r.json()["recommendations_opt_out"] is False
    assert client.get("/api/v1/merchants/%d/credit-consents" % a, headers=shop["owner-a"]).json()[0]["state"] == "active"


def test_seeded_synthetic_merchants_get_a_model_and_a_profile(app, client, admin):
    from cloud.accounts.models import Account
    with app.state.sessionmaker() as db:
        operator_id = db.query(Account).filter_by(username="admin").one().operator_id
    made = record.seed(app.state.sessionmaker, operator_id, seed=3, merchants=2, days=40,
                       start=datetime.date.today() - datetime.timedelta(days=45))
    assert len(made) == 2
    done = schedule.recompute(app.state.sessionmaker)
    assert set(done) == {mid for mid, _ in made}
    for mid, gm in made:
        assert done[mid] == sum(1 for b in gm.baskets if b.kind == "sale" and b.items)
        r = client.get("/api/v1/merchants/%d/credit-profile" % mid, headers=admin)
        assert r.status_code == 403 and "only the merchant's owner" in r.json()["detail"]
        with app.state.sessionmaker() as db:
            assert 300 <= credit.profile(record.sales(db, mid), datetime.date.today()).score <= 900
        r = client.post("/api/v1/merchants/%d/recommendations" % mid,
                        json={"basket": [gm.items[0].code]}, headers=admin)
        assert r.status_code == 200 and len(r.json()["items"]) == 5
        names = {i.code: i.name for i in gm.items}
        assert all(i["name"] == names[i["code"]] for i in r.json()["items"])
    # seeding again refills, never doubles
    again = record.seed(app.state.sessionmaker, operator_id, seed=3, merchants=2, days=40,
                        start=datetime.date.today() - datetime.timedelta(days=45))
    assert [m for m, _ in again] == [m for m, _ in made]
    assert schedule.recompute(app.state.sessionmaker) == done


def test_cli_seeds_synthetic_merchants_and_recomputes(tmp_path, capsys):
    from sqlalchemy import func, select
    from smartpos.cli import main
    from cloud.db import open_database
    from cloud.insights.models import InsightBasket, InsightModel
    data = str(tmp_path / "data")
    assert main(["cloud", "insights", "seed", "--merchants", "3", "--days", "30", "--seed", "4", "--data", data,
                 "--admin-password", "pw-admin-0123"]) == 0
    out = capsys.readouterr().out
    # the CLI's period ends today (UTC): the same world generated from the day it names (a
    # generator's default start gave another count on days whose weekday differs)
    import datetime
    import re
    start = datetime.date.fromisoformat(re.search(r"baskets from (\d{4}-\d\d-\d\d)", out).group(1))
    assert start == datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=30) or \
        start == datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=31)
    world = synthetic.generate(seed=4, merchants=3, days=30, start=start)
    baskets = sum(len(m.baskets) for m in world.merchants)
    assert "seeded 3 SYNTHETIC merchants" in out and "%d baskets" % baskets in out
    engine, sessionmaker = open_database("sqlite:///" + str(tmp_path / "data" / "cloud.db"))
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(InsightBasket)) == baskets
        assert db.scalar(select(func.count()).select_from(InsightModel)) == 3
    engine.dispose()
    assert main(["cloud", "insights", "recompute", "--data", data]) == 0
    assert "recomputed for 3 merchants" in capsys.readouterr().out
    assert main(["cloud", "insights", "seed", "--merchants", "0", "--data", data]) == 2


def test_a_terminal_gets_the_recommendations_of_its_stores_merchant(client, shop):
    a, admin = shop["merchant_a"]["id"], shop["admin"]
    reg = client.post("/api/v1/terminals", json={"serial": "R-01"}, headers=admin).json()
    e = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "R-01"}).json()
    url, dev = "/default/controller/v1/R-01/recommendations", {"Authorization": "TargetToken " + e["target_token"]}
    body = {"member": "M1", "basket": ["coffee"], "limit": 2}
    assert client.post(url, json=body, headers={"Authorization": "TargetToken wrong"}).status_code == 401
    r = client.post(url, json=body, headers=dev)
    assert r.status_code == 409 and "not placed in a store" in r.json()["detail"]
    client.patch("/api/v1/terminals/%d" % reg["terminal"]["id"], json={"store_id": shop["store_a"]["id"]},
                 headers=admin)
    r = client.post(url, json=body, headers=dev)
    assert r.status_code == 409 and "merchant %d" % a in r.json()["detail"]
    client.post("/api/v1/merchants/%d/recommendations/recompute" % a, headers=shop["owner-a"])
    r = client.post(url, json=body, headers=dev)
    assert r.status_code == 200, r.text
    assert [(i["code"], i["because"]) for i in r.json()["items"]] == [("croissant", "coffee"), ("water", "coffee")]
    client.put("/api/v1/merchants/%d/members/M1/privacy" % a, json={"recommendations_opt_out": True},
               headers=shop["staff-a"])
    r = client.post(url, json=body, headers=dev)
    assert r.json()["opted_out"] is True and r.json()["items"] == []
