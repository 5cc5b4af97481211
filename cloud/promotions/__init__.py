"""Promotions on the cloud side (docs/promotions.md): the terminal's promotions engine run as is
(``cloud.promotions.engine``), coupons signed for the merchant's terminals
(``cloud.promotions.coupons``) and the ledger that lets each coupon be redeemed once
(``cloud.promotions.models``, ``redeem``)."""
