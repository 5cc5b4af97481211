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
