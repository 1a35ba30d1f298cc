"""Pricing's reads, shared by the API, the admin and the other apps."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from pricing.errors import NotFound
from pricing.models import Coupon, Price, PriceList, Promotion, PromotionRedemption


def price_lists(*, channel_code: str | None = None) -> QuerySet[PriceList]:
    queryset = PriceList.objects.select_related("channel").prefetch_related("locations")
    if channel_code:
        queryset = queryset.filter(channel__code=channel_code)
    return queryset.order_by("code")


def price_list_by_code(code: str) -> PriceList:
    price_list = price_lists().filter(code=code).first()
    if price_list is None:
        raise NotFound(f"No price list {code!r}.")
    return price_list


def prices(*, price_list: PriceList) -> QuerySet[Price]:
    return Price.objects.filter(price_list=price_list).select_related("sku").order_by("sku__sku")


def price_history(*, price_list: PriceList | None = None, sku_code: str | None = None):
    """Every change of a price, newest first, with who (``history_user``) and when."""
    queryset = Price.history.select_related("sku", "price_list").order_by("-history_date")
    if price_list is not None:
        queryset = queryset.filter(price_list_id=price_list.pk)
    if sku_code:
        queryset = queryset.filter(sku__sku=sku_code)
    return queryset


def promotions(
    *, active: bool | None = None, kind: str | None = None, live: bool | None = None
) -> QuerySet[Promotion]:
    """Promotions with their targets, in a constant number of queries. ``live``: running now
    (active and inside its window) or not."""
    queryset = Promotion.objects.prefetch_related("skus", "categories", "channels", "locations")
    if active is not None:
        queryset = queryset.filter(active=active)
    if kind:
        queryset = queryset.filter(kind=kind)
    if live is not None:
        now = timezone.now()
        running = (
            Q(active=True)
            & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
            & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        )
        queryset = queryset.filter(running if live else ~running)
    return queryset.order_by("-priority", "id")


def promotion_by_id(promotion_id: int | str) -> Promotion:
    if not str(promotion_id).isdigit():
        raise NotFound(f"No promotion {promotion_id!r}.")
    promotion = promotions().filter(pk=int(promotion_id)).first()
    if promotion is None:
        raise NotFound(f"No promotion {promotion_id}.")
    return promotion


def coupons(*, promotion: Promotion) -> QuerySet[Coupon]:
    return Coupon.objects.filter(promotion=promotion).order_by("code")


def redemptions(*, order_reference: str) -> list[PromotionRedemption]:
    """What an order claimed (released ones included), for screens and reports."""
    return list(
        PromotionRedemption.objects.filter(order_reference=order_reference).select_related(
            "promotion", "coupon"
        )
    )


__all__ = [
    "coupons",
    "price_history",
    "price_list_by_code",
    "price_lists",
    "prices",
    "promotion_by_id",
    "promotions",
    "redemptions",
]
