# The counter's promotions: the engine that applies the store's programs to a basket
# (engine.py, the same file the cloud runs) and coupons as signed QR codes (coupon.py).
# docs/promotions.md.  Loaded only with the basket, never at boot or at Ready.

COUPON_PREFIX = "CPN1:"      # a scanned code that starts so is a coupon (coupon.py)
