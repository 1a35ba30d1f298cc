"""claim_coupons / release_coupons: counted once per order, all or nothing, given back on
cancellation. (The race with real threads is tests/concurrency/test_coupon_races.py.)"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pricing import services
from pricing.errors import CouponUnavailable, InvalidState
from pricing.models import Coupon, CustomerPromotionUsage, Promotion, PromotionRedemption

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def promotion():
    return services.create_promotion(
        name="10% with a code",
        kind="percent_off",
        value=D("10"),
        requires_coupon=True,
        usage_limit=10,
        per_customer_limit=2,
    )


@pytest.fixture
def coupon(promotion):
    return services.create_coupon(promotion=promotion, code="spring", usage_limit=3)


def counts(promotion, coupon, customer_id=7):
    promotion.refresh_from_db()
    coupon.refresh_from_db()
    usage = CustomerPromotionUsage.objects.filter(promotion=promotion, customer_id=customer_id)
    return (
        coupon.used_count,
        promotion.used_count,
        usage.values_list("used_count", flat=True).first() or 0,
    )


def test_a_claim_counts_coupon_promotion_and_customer(promotion, coupon):
    claim = services.claim_coupons(codes=["Spring"], customer_id=7, order_reference="WEB-1")
    assert claim == services.Claim(
        order_reference="WEB-1", promotions=(promotion.pk,), coupons=("SPRING",)
    )
    assert counts(promotion, coupon) == (1, 1, 1)
    row = PromotionRedemption.objects.get()
    assert (row.order_reference, row.coupon_id, row.customer_id, row.released_at) == (
        "WEB-1",
        coupon.pk,
        7,
        None,
    )


def test_claiming_twice_for_one_order_counts_once(promotion, coupon):
    first = services.claim_coupons(codes=["SPRING"], customer_id=7, order_reference="WEB-1")
    again = services.claim_coupons(codes=["spring"], customer_id=7, order_reference="WEB-1")
    assert again == first
    assert counts(promotion, coupon) == (1, 1, 1)
    assert PromotionRedemption.objects.count() == 1


def test_one_order_cannot_claim_something_else_later(promotion, coupon):
    services.claim_coupons(codes=["SPRING"], customer_id=7, order_reference="WEB-1")
    with pytest.raises(InvalidState):
        services.claim_coupons(codes=[], customer_id=7, order_reference="WEB-1")
    assert counts(promotion, coupon) == (1, 1, 1)


def test_the_coupon_limit_is_enforced_and_nothing_is_counted_on_refusal(promotion, coupon):
    for n in range(3):
        services.claim_coupons(codes=["SPRING"], customer_id=n, order_reference=f"WEB-{n}")
    with pytest.raises(CouponUnavailable) as raised:
        services.claim_coupons(codes=["SPRING"], customer_id=99, order_reference="WEB-99")
    assert raised.value.status == 409
    assert raised.value.code == "coupon_unavailable"
    assert raised.value.errors == [
        {
            "attr": "coupon_codes.0",
            "code": "limit_reached",
            "detail": "Coupon SPRING has been used as often as it may.",
        }
    ]
    promotion.refresh_from_db()
    coupon.refresh_from_db()
    assert (coupon.used_count, promotion.used_count) == (3, 3)
    assert not PromotionRedemption.objects.filter(order_reference="WEB-99").exists()
    assert not CustomerPromotionUsage.objects.filter(customer_id=99).exists()


def test_the_per_customer_limit_is_enforced(promotion):
    services.create_coupon(promotion=promotion, code="OPEN")  # no limit of its own
    for n in range(2):
        services.claim_coupons(codes=["OPEN"], customer_id=7, order_reference=f"WEB-{n}")
    with pytest.raises(CouponUnavailable) as raised:
        services.claim_coupons(codes=["OPEN"], customer_id=7, order_reference="WEB-3")
    assert [e["code"] for e in raised.value.errors] == ["limit_reached"]
    services.claim_coupons(codes=["OPEN"], customer_id=8, order_reference="WEB-4")
    promotion.refresh_from_db()
    assert promotion.used_count == 3


def test_a_per_customer_promotion_needs_a_customer(promotion, coupon):
    with pytest.raises(CouponUnavailable) as raised:
        services.claim_coupons(codes=["SPRING"], customer_id=None, order_reference="WEB-1")
    assert [e["code"] for e in raised.value.errors] == ["not_applicable"]
    assert not PromotionRedemption.objects.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ends_at": timezone.now() - timedelta(hours=1)}, "expired"),
        ({"active": False}, "expired"),
        ({"starts_at": timezone.now() + timedelta(hours=1)}, "not_yet_valid"),
    ],
)
def test_a_promotion_out_of_its_window_cannot_be_claimed(promotion, coupon, change, reason):
    Promotion.objects.filter(pk=promotion.pk).update(**change)
    with pytest.raises(CouponUnavailable) as raised:
        services.claim_coupons(codes=["SPRING"], customer_id=7, order_reference="WEB-1")
    assert [e["code"] for e in raised.value.errors] == [reason]
    assert counts(promotion, coupon) == (0, 0, 0)


def test_unknown_and_switched_off_codes(promotion, coupon):
    Coupon.objects.filter(pk=coupon.pk).update(active=False)
    with pytest.raises(CouponUnavailable) as raised:
        services.claim_coupons(codes=["nope", "spring"], customer_id=7, order_reference="WEB-1")
    assert [(e["attr"], e["code"]) for e in raised.value.errors] == [
        ("coupon_codes.0", "unknown"),
        ("coupon_codes.1", "expired"),
    ]


def test_release_gives_everything_back_once(promotion, coupon):
    services.claim_coupons(codes=["SPRING"], customer_id=7, order_reference="WEB-1")
    released = services.release_coupons(order_reference="WEB-1")
    assert released.promotions == (promotion.pk,)
    assert released.coupons == ("SPRING",)
    assert counts(promotion, coupon) == (0, 0, 0)
    assert services.release_coupons(order_reference="WEB-1").promotions == ()
    assert counts(promotion, coupon) == (0, 0, 0)
    assert PromotionRedemption.objects.get().released_at is not None
    with pytest.raises(InvalidState):
        services.claim_coupons(codes=["SPRING"], customer_id=7, order_reference="WEB-1")


def test_unlimited_promotions_keep_no_hot_counter():
    """A promotion without limits is recorded per order but its row is not updated, so
    checkouts do not queue on it."""
    sale = services.create_promotion(name="Sale", kind="percent_off", value=D("10"))
    services.claim_coupons(codes=[], promotion_ids=[sale.pk], customer_id=1, order_reference="A")
    services.claim_coupons(codes=[], promotion_ids=[sale.pk], customer_id=1, order_reference="B")
    sale.refresh_from_db()
    assert sale.used_count == 0
    assert PromotionRedemption.objects.filter(promotion=sale).count() == 2
    # Setting a limit later counts what was used from the record.
    services.update_promotion(promotion=sale, usage_limit=5, per_customer_limit=3)
    sale.refresh_from_db()
    assert sale.used_count == 2
    assert CustomerPromotionUsage.objects.get(promotion=sale, customer_id=1).used_count == 2
    services.release_coupons(order_reference="A")
    sale.refresh_from_db()
    assert sale.used_count == 1


def test_a_coupon_limit_set_later_is_counted_from_the_record(promotion):
    open_coupon = services.create_coupon(promotion=promotion, code="OPEN")
    services.claim_coupons(codes=["open"], customer_id=1, order_reference="A")
    open_coupon.refresh_from_db()
    assert open_coupon.used_count == 0
    services.update_coupon(coupon=open_coupon, usage_limit=1)
    open_coupon.refresh_from_db()
    assert open_coupon.used_count == 1
    with pytest.raises(CouponUnavailable):
        services.claim_coupons(codes=["open"], customer_id=2, order_reference="B")


def test_a_quote_and_its_claim_agree(catalog, promotion, coupon):
    result = services.quote(
        channel="web",
        customer_id=7,
        lines=[services.CartItem("SHOE-1", 1)],
        coupon_codes=["spring"],
    )
    assert result.discount_total == D("8.00")
    claim = services.claim_coupons(
        codes=result.applied_coupons,
        promotion_ids=[p.promotion for p in result.applied_promotions],
        customer_id=7,
        order_reference="WEB-1",
    )
    assert claim.coupons == ("SPRING",)
