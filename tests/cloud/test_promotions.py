"""The cloud's side of promotions on both databases: a coupon is redeemed once per merchant (a
second terminal's redemption of the same serial is refused at upload, the same upload sent
again is the same redemption), and the terminal's engine file runs unchanged in the cloud."""
from datetime import datetime

import pytest

from cloud.db import make_engine, migrate
from cloud.promotions import coupons, engine
from cloud.promotions.models import CouponRedemption, redeem
from cloud.tenants.models import Merchant, Operator


def test_a_coupon_is_redeemed_once_per_merchant(db_url):
    from sqlalchemy.orm import sessionmaker
    eng = make_engine(db_url)
    migrate(eng)
    Session = sessionmaker(eng, expire_on_commit=False)
    when = datetime(2026, 11, 28, 12, 0)
    with Session() as s:
        op = Operator(slug="op", name="Operator")
        s.add(op)
        s.flush()
        m1, m2 = Merchant(operator_id=op.id, name="One"), Merchant(operator_id=op.id, name="Two")
        s.add_all([m1, m2])
        s.flush()
        redeem(s, m1.id, "100001", "WELCOME5", "T0000001", 12, 500, when)
        redeem(s, m1.id, "100001", "WELCOME5", "T0000001", 12, 500, when)        # the upload again
        with pytest.raises(coupons.CouponError, match="100001 already redeemed on terminal T0000001, invoice 12"):
            redeem(s, m1.id, "100001", "WELCOME5", "T0000002", 3, 500, when)
        redeem(s, m2.id, "100001", "WELCOME5", "T0000009", 1, 500, when)         # another merchant's serials
        s.commit()
        assert s.query(CouponRedemption).count() == 2
    eng.dispose()


def test_the_engine_is_the_terminals_file():
    assert engine.SOURCE.endswith("firmware/pos/promo/engine.py")
    progs = engine.compile_programs([{"id": "P", "name": "10% OFF", "reward": {"percent": 1000}}])
    out = engine.apply(engine.Basket([("A", 1, 1, 1005)]), progs)
    assert (out.discount, [r.text for r in out.rewards]) == (101, ["10% OFF"])      # 100.5 half up
    with pytest.raises(engine.PromoError, match="program Q: unknown type gift"):
        engine.compile_programs([{"id": "Q", "type": "gift"}])


def test_coupons_uploaded_with_a_sale_are_marked_used_and_a_second_use_is_flagged(client, tenancy):
    """A sale's coupons are marked used in the commit that stores it; another terminal's sale
    with the same coupon (both offline) is stored and flagged, the coupon counted once; the
    terminals learn the used serials from the device API."""
    from sales_fixtures import place_terminal, sale
    admin, m = tenancy["admin"], tenancy["merchant_a"]
    t1 = place_terminal(client, admin, tenancy["store_a"]["id"], "POS-C1")
    t2 = place_terminal(client, admin, tenancy["store_a"]["id"], "POS-C2")
    used = [{"serial": "100001", "program": "WELCOME5", "discount": 140}]
    off = [{"label": "BASKET", "amount": 140, "tax_rate_bp": 1000, "funder": "shop"}]
    paid = [{"type": "cash", "amount": 1400}]
    first = sale(7, coupons=used, discounts=off, tenders=paid)
    r = client.post(t1["url"], json=first, headers=t1["dev"])
    assert r.status_code == 201, r.text
    assert client.post(t1["url"], json=first, headers=t1["dev"]).json()["status"] == "duplicate"
    # a sale without coupons keeps its content digest as before the field existed
    assert client.post(t1["url"], json=sale(8), headers=t1["dev"]).status_code == 201
    # the same coupon redeemed offline at the other terminal: the sale is stored, the use flagged
    r = client.post(t2["url"], json=sale(3, coupons=used, discounts=off, tenders=paid), headers=t2["dev"])
    assert r.status_code == 201, r.text
    staff = tenancy["staff-a"]
    ledger = client.get("/api/v1/merchants/%d/coupon-redemptions" % m["id"], headers=staff).json()
    assert [(x["serial"], x["terminal"], x["invoice"], x["discount"]) for x in ledger] == [
        ("100001", "POS-C1", 7, 140)]
    doubles = client.get("/api/v1/merchants/%d/coupon-double-redemptions" % m["id"], headers=staff).json()
    assert [(d["serial"], d["terminal"], d["invoice"], d["first_terminal"], d["first_invoice"]) for d in doubles] == [
        ("100001", "POS-C2", 3, "POS-C1", 7)]
    other = client.get("/api/v1/merchants/%d/coupon-double-redemptions" % tenancy["merchant_b"]["id"], headers=staff)
    assert other.status_code == 404
    # the other terminal learns the used serial (the record its coupons.used file holds)
    got = client.get("/default/controller/v1/POS-C2/coupons/redeemed?after=0", headers=t2["dev"])
    assert got.status_code == 200 and got.content == b"100001" + b" " * 14
    through = int(got.headers["x-coupons-through"])
    again = client.get("/default/controller/v1/POS-C2/coupons/redeemed?after=%d" % through, headers=t2["dev"])
    assert again.content == b"" and again.headers["x-coupons-through"] == str(through)
    # a coupon of a malformed serial is refused with the upload (nothing stored)
    bad = sale(9, coupons=[{"serial": "bad serial", "program": "WELCOME5"}])
    assert client.post(t1["url"], json=bad, headers=t1["dev"]).status_code == 422
