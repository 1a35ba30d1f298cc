"""Many orders want the last uses of a coupon at once: the database decides, in the UPDATE
that counts the use, and exactly the limit gets the discount."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from pricing import services
from pricing.errors import CouponUnavailable
from pricing.models import Coupon, CustomerPromotionUsage, Promotion, PromotionRedemption

pytestmark = [pytest.mark.postgres]

THREADS = 20


def race(work, count=THREADS):
    """Run ``work(n)`` in ``count`` threads released together; return (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(n):
        try:
            barrier.wait(timeout=10)
            results.append(work(n))
        except Exception as exc:  # refusals are CouponUnavailable; anything else fails below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_a_coupon_limited_to_5_is_used_by_exactly_5_of_20_orders(transactional_db):
    promotion = services.create_promotion(
        name="First five", kind="percent_off", value=Decimal("50"), requires_coupon=True
    )
    services.create_coupon(promotion=promotion, code="FIRST5", usage_limit=5)

    claims, refusals = race(
        lambda n: services.claim_coupons(
            codes=["first5"], customer_id=n, order_reference=f"ORDER-{n}"
        )
    )

    assert len(claims) == 5
    assert len(refusals) == 15
    assert all(isinstance(e, CouponUnavailable) for e in refusals), refusals
    assert {e.errors[0]["code"] for e in refusals} == {"limit_reached"}
    assert Coupon.objects.get().used_count == 5
    assert PromotionRedemption.objects.count() == 5
    assert sorted(c.order_reference for c in claims) == sorted(
        PromotionRedemption.objects.values_list("order_reference", flat=True)
    )


def test_a_promotion_limit_holds_across_several_coupons(transactional_db):
    promotion = services.create_promotion(
        name="Ten in all", kind="amount_off", value=Decimal("5"), usage_limit=10
    )
    for n in range(4):
        services.create_coupon(promotion=promotion, code=f"CODE-{n}")

    claims, refusals = race(
        lambda n: services.claim_coupons(
            codes=[f"CODE-{n % 4}"], customer_id=n, order_reference=f"ORDER-{n}"
        )
    )

    assert (len(claims), len(refusals)) == (10, 10)
    assert {e.errors[0]["code"] for e in refusals} == {"limit_reached"}
    assert Promotion.objects.get().used_count == 10
    assert PromotionRedemption.objects.count() == 10


def test_one_customer_on_many_devices_gets_a_once_per_customer_promotion_once(transactional_db):
    promotion = services.create_promotion(
        name="Welcome", kind="amount_off", value=Decimal("10"), per_customer_limit=1
    )

    claims, refusals = race(
        lambda n: services.claim_coupons(
            codes=[], promotion_ids=[promotion.pk], customer_id=77, order_reference=f"ORDER-{n}"
        ),
        count=10,
    )

    assert (len(claims), len(refusals)) == (1, 9)
    assert CustomerPromotionUsage.objects.get(customer_id=77).used_count == 1
    assert PromotionRedemption.objects.count() == 1


def test_the_same_order_claimed_twice_at_once_counts_once(transactional_db):
    promotion = services.create_promotion(
        name="Limited", kind="amount_off", value=Decimal("5"), usage_limit=100
    )
    services.create_coupon(promotion=promotion, code="ONCE", usage_limit=100)

    claims, errors = race(
        lambda n: services.claim_coupons(codes=["ONCE"], customer_id=1, order_reference="ORDER-1"),
        count=8,
    )

    assert errors == []
    assert len(claims) == 8
    assert len(set(claims)) == 1
    assert Coupon.objects.get().used_count == 1
    assert Promotion.objects.get().used_count == 1
    assert PromotionRedemption.objects.count() == 1
