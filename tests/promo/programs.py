"""The program list the promotions tests share: one of each of Odoo's program types the engine
knows, with conditions of every kind (items, categories, minimum amount and quantity, time
windows, members only, a promo code, a coupon)."""
# 2026-11-23 was a Monday; store time, seconds since 1970-01-01
MONDAY = 1795392000
HOUR = 3600
DAY = 86400

PROGRAMS = [
    {"id": "TEA3FOR2", "type": "buy_x_get_y", "name": "TEA 3 FOR 2", "sequence": 10,
     "rule": {"skus": ["TEA", "TEA2"]}, "reward": {"buy": 2, "free": 1}},
    {"id": "DAIRY10", "name": "10% OFF DAIRY", "sequence": 20,
     "rule": {"categories": [3], "min_qty": 2}, "reward": {"percent": 1000, "on": "items"}},
    {"id": "HAPPYHR", "name": "HAPPY HOUR SNACKS 1.00 OFF", "sequence": 30,
     "rule": {"categories": [5], "hours": [16, 18], "days": [0, 1, 2, 3, 4]}, "reward": {"fixed": 100, "on": "items"}},
    {"id": "SPEND50", "name": "5.00 OFF OVER 50.00", "sequence": 40,
     "rule": {"min_amount": 5000}, "reward": {"fixed": 500}},
    {"id": "MEMBER5", "name": "MEMBERS 5% OFF", "sequence": 50,
     "rule": {"members_only": True}, "reward": {"percent": 500, "max": 1000}},
    {"id": "CODE15", "type": "promo_code", "code": "1515", "name": "CODE 1515: 15% OFF", "sequence": 60,
     "rule": {"start": MONDAY, "end": MONDAY + 7 * DAY}, "reward": {"percent": 1500, "max": 2000, "exclusive": True}},
    {"id": "WELCOME5", "type": "coupons", "name": "WELCOME COUPON 5.00 OFF", "sequence": 70,
     "rule": {"min_amount": 2000}, "reward": {"fixed": 500}},
    {"id": "POINTS", "type": "loyalty", "name": "POINTS",
     "rule": {}, "reward": {"points_per_amount": 1, "per": 100, "points_per_order": 5}},
    {"id": "TEAPTS", "type": "loyalty", "name": "TEA POINTS",
     "rule": {"skus": ["TEA", "TEA2"]}, "reward": {"points_per_item": 10}},
    {"id": "NEXT", "type": "next_order_coupons", "name": "NEXT VISIT",
     "rule": {"min_amount": 3000}, "reward": {"issues": "WELCOME5"}},
]

# sku -> category
SKUS = {"TEA": 1, "TEA2": 1, "MILK": 3, "YOGURT": 3, "CHEESE": 3, "CHIPS": 5, "NUTS": 5,
        "RICE": 2, "SOAP": 4, "BREAD": 6, "APPLES": 7, "WINE": 8}
