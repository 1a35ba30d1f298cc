"""POS sales (API.md, "POS"): a basket sold over a store's counter, in one transaction.

The sale is an order of channel ``pos`` handed over at once: its lines priced by the same
engine as quotes, carts and web orders (the store's prices and tax, the customer's member
prices, coupons), one ``collected`` fulfilment at the store, a captured payment per money
tender, a :class:`~orders.models.PosSale` with the tenders and the change. The stock leaves
the store at once and is never refused (:func:`inventory.services.store_sales.sell_at_store`
books a ``discrepancy`` for what the ledger did not know of, and a sale that eats units held
for a pickup order shorts that order, which the orders app repairs through the short-pick
path). Points are redeemed and earned, and store credit spent (the customer's, or for a guest
the e-mail address in the tender's ``reference``), in the same transaction.

An offline terminal replays its queue with ``occurred_at``: the order, the ledger and the
points keep that time, and prices are those of that moment. Exactly-once is the API's
``Idempotency-Key``.

Staff discounts: a line may carry a manual ``unit_price`` or a ``discount_percent`` with a
``reason``; above ``POS_OVERRIDE_APPROVAL_PERCENT`` (default 20) it needs a manager's
approval code for the store (:class:`~orders.models.ManagerApprovalCode`). Every override is
a :class:`~orders.models.PriceOverride` row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from config.api.errors import DomainError
from config.money import ZERO, allocate, to_cents
from inventory import selectors as inventory_selectors
from inventory.models import Channel, Location
from inventory.services.stock import Entry
from inventory.services.store_sales import SoldLine, sell_at_store
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from orders.errors import ValidationFailed
from orders.models import (
    EventKind,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
    PosSale,
    PriceOverride,
    Tender,
    TenderMethod,
)
from orders.routing.service import local_date
from orders.services.carts import close_cart, lines_for_order
from orders.services.checkout import order_number, points_reference
from orders.services.checkout_request import PrepaidInput, _reattr
from orders.services.events import refresh_status
from orders.services.order_lines import write_order_lines
from orders.services.payments import record_prepaid
from orders.services.pos_request import (
    POS_CHANNEL,
    SaleLine,
    SaleRequest,
    TenderInput,
    _customer,
    _Override,
    _overrides,
    _points,
    _resolve_lines,
    _store,
    _tenders,
    approval_percent,
)
from pricing import services as pricing_services
from pricing.engine import price_cart
from pricing.errors import CouponUnavailable

logger = logging.getLogger(__name__)

__all__ = ["SaleLine", "SaleRequest", "TenderInput", "approval_percent", "sell"]


# --- The sale ------------------------------------------------------------------------------


def sell(*, request: SaleRequest, actor: str = "", now: datetime | None = None) -> Order:
    """Record a POS sale: the whole of it or nothing.

    Atomic: the order (status ``completed``), its lines, the collected fulfilment, payments,
    tenders, overrides, coupon use, points redeemed and earned and the stock taken commit
    together. Never refused for lack of recorded stock. Not idempotent by itself (the API's
    ``Idempotency-Key`` is).

    Errors (nothing written): 400 for no lines, a bad quantity, an unknown SKU or barcode,
    an unknown customer or card, tenders that do not cover the total exactly (cash may
    overpay: the change is computed), an override without a reason or above the limit
    without a valid approval code, a guest's store credit tender whose ``reference`` is not
    an e-mail address; 409 ``coupon_unavailable``, ``insufficient_points``,
    ``insufficient_store_credit`` (attr ``tenders.N.amount``), ``invalid_state`` (a cart
    ordered meanwhile).
    """
    now = now or timezone.now()
    occurred_at = request.occurred_at or now
    store = _store(request.store)
    channel = Channel.objects.get(code=POS_CHANNEL)
    cart = None
    if request.cart_id:
        if request.lines:
            raise ValidationFailed.field("cart", "Send either lines or a cart, not both.")
        cart, cart_lines = lines_for_order(request.cart_id)
        lines = [SaleLine(quantity=q, sku=sku) for sku, q in cart_lines]
        coupon_codes = list(request.coupon_codes or cart.coupon_codes)
    else:
        lines = list(request.lines)
        coupon_codes = list(request.coupon_codes)
    skus = _resolve_lines(lines)
    customer_id, card_number, email = _customer(request, cart_customer=cart and cart.customer_id)

    snapshot = pricing_services.build_snapshot(
        channel=channel,
        lines=[
            pricing_services.CartItem(sku, line.quantity, line.fixed_price)
            for sku, line in zip(skus, lines, strict=True)
        ],
        location=store,
        customer_id=customer_id,
        coupon_codes=coupon_codes,
        now=occurred_at,
    )
    overrides = _overrides(lines, skus, snapshot, store)
    if overrides:
        priced_lines = list(snapshot.lines)
        for o in overrides:
            priced_lines[o.index] = replace(priced_lines[o.index], unit_price=o.unit_price)
        snapshot = replace(snapshot, lines=tuple(priced_lines))
    quote = price_cart(snapshot)
    if quote.rejected_coupons:
        errors = [
            {
                "attr": f"coupon_codes.{coupon_codes.index(r.code) if r.code in coupon_codes else 0}",
                "code": str(r.reason),
                "detail": f"Coupon {r.code} does not apply: {str(r.reason).replace('_', ' ')}.",
            }
            for r in quote.rejected_coupons
        ]
        raise CouponUnavailable(errors[0]["detail"], errors=errors)

    points, points_value = _points(request, card_number, quote.total)
    due = quote.total - points_value
    prepaid = min(to_cents(request.prepaid.amount), due) if request.prepaid else ZERO
    tenders, change = _tenders(request.tenders, due=due - prepaid, points=points_value)
    credit = _store_credit(request, customer_id=customer_id, email=email)
    if credit and not email:
        email = credit[0].email  # a guest's: a return of the sale credits the same address
    email = email or request.email
    order = _commit(
        channel=channel,
        store=store,
        quote=quote,
        skus=skus,
        customer_id=customer_id,
        card_number=card_number,
        email=email,
        points=points,
        points_value=points_value,
        tenders=tenders,
        credit=credit,
        change=change,
        overrides=overrides,
        prepaid=request.prepaid if prepaid else None,
        cart_id=cart.pk if cart else None,
        actor=actor,
        occurred_at=occurred_at,
    )
    logger.info("POS sale %s at %s: %s %s", order.number, store.code, order.total, order.currency)
    return order


@transaction.atomic
def _commit(
    *,
    channel: Channel,
    store: Location,
    quote,
    skus: list[str],
    customer_id: int | None,
    card_number: str,
    email: str,
    points: int,
    points_value: Decimal,
    tenders: list[TenderInput],
    credit: list[_CreditSpend],
    change: Decimal,
    overrides: list[_Override],
    prepaid: PrepaidInput | None,
    cart_id,
    actor: str,
    occurred_at: datetime,
) -> Order:
    number = order_number(channel)
    names = dict(inventory_selectors.skus().filter(sku__in=skus).values_list("sku", "name"))
    order = Order.objects.create(
        number=number,
        channel=channel,
        customer_id=customer_id,
        email=email,
        currency=quote.currency,
        method=FulfilmentMethod.PICKUP,
        prices_include_tax=quote.prices_include_tax,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        tax_total=quote.tax_total,
        total=quote.total,
        points_redeemed=points,
        points_value=points_value,
        loyalty_card_number=card_number if points else "",
        coupon_codes=list(quote.applied_coupons),
        created_by=actor,
    )
    # The sale's own time, also for an offline terminal's replay (auto_now_add set "now").
    Order.objects.filter(pk=order.pk).update(created_at=occurred_at)
    order.created_at = occurred_at
    shares = (
        allocate(points_value, [line.total for line in quote.lines])
        if points
        else [ZERO] * len(quote.lines)
    )
    lines = write_order_lines(
        order=order, priced_lines=quote.lines, names=names, points_shares=shares
    )
    fulfilment = Fulfilment.objects.create(
        order=order,
        location=store,
        method=FulfilmentMethod.PICKUP,
        status=FulfilmentStatus.COLLECTED,
        ready_at=occurred_at,
        handed_over_at=occurred_at,
        local_date=local_date(store, occurred_at),
    )
    FulfilmentLine.objects.bulk_create(
        FulfilmentLine(
            fulfilment=fulfilment,
            order_line=line,
            quantity=line.quantity,
            picked_quantity=line.quantity,
        )
        for line in lines
    )
    sale = PosSale.objects.create(
        order=order,
        location=store,
        occurred_at=occurred_at,
        tendered=sum((t.amount for t in tenders), ZERO) + ZERO,
        change=change,
        cart_id=cart_id,
    )
    Tender.objects.bulk_create(
        Tender(sale=sale, method=t.method, amount=t.amount, reference=t.reference) for t in tenders
    )
    change_left = change
    payments = []
    for t in tenders:
        if t.method == TenderMethod.POINTS:
            continue
        amount = t.amount
        if t.method == TenderMethod.CASH and change_left:
            kept = min(change_left, amount)
            amount -= kept
            change_left -= kept
        if amount > 0:
            payments.append(
                Payment(
                    order=order,
                    method=t.method,
                    provider="manual",  # the till took the money; refunds are manual too
                    reference=t.reference,
                    amount=amount,
                    captured_amount=amount,
                    status=PaymentStatus.CAPTURED,
                )
            )
    Payment.objects.bulk_create(payments)
    if prepaid is not None:
        record_prepaid(order=order, prepaid=prepaid, due=quote.total - points_value, actor=actor)
    PriceOverride.objects.bulk_create(
        PriceOverride(
            order=order,
            order_line=lines[o.index],
            location=store,
            sku=o.sku,
            list_price=o.list_price,
            unit_price=o.unit_price,
            percent=o.percent,
            reason=o.reason,
            approved_by=o.approved_by,
            actor=actor,
            created_at=occurred_at,
        )
        for o in overrides
    )
    events = [
        OrderEvent(
            order=order,
            kind=EventKind.PLACED,
            actor=actor,
            detail={
                "total": str(quote.total),
                "pos_sale": {"store": store.code, "occurred_at": occurred_at.isoformat()},
                "tenders": [{"method": t.method, "amount": str(t.amount)} for t in tenders],
                "change": str(change),
                "overrides": [
                    {"sku": o.sku, "unit_price": str(o.unit_price), "reason": o.reason}
                    for o in overrides
                ],
            },
        ),
        *(
            OrderEvent(
                order=order,
                kind=EventKind.PAYMENT_CAPTURED,
                actor=actor,
                detail={"method": p.method, "amount": str(p.amount), "reference": p.reference},
            )
            for p in payments
        ),
    ]
    if quote.applied_promotions:
        claim = pricing_services.claim_coupons(
            codes=list(quote.applied_coupons),
            customer_id=customer_id,
            order_reference=number,
            promotion_ids=[p.promotion for p in quote.applied_promotions],
        )
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.COUPONS_CLAIMED,
                actor=actor,
                detail={"coupons": list(claim.coupons), "promotions": list(claim.promotions)},
            )
        )
    for index, spend in enumerate(credit):
        loyalty_services.spend_store_credit(
            email=spend.email,
            customer_id=customer_id,
            amount=spend.amount,
            currency=quote.currency,
            reference=f"pos:{number}:store_credit" + (f":{index}" if index else ""),
            attr=spend.attr,
        )
    balance = None
    if points:
        try:
            redemption = loyalty_services.redeem_points(
                points=points,
                reference=points_reference(order),
                card_number=card_number,
                occurred_at=occurred_at,
                actor=actor,
            )
        except DomainError as exc:
            raise _reattr(exc, "loyalty.redeem_points") from None
        balance = redemption.balance
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.POINTS_REDEEMED,
                actor=actor,
                detail={"points": points, "amount": str(redemption.amount), "card": card_number},
            )
        )

    sell_at_store(
        location=store.code,
        lines=[SoldLine(line.sku, line.quantity) for line in lines],
        entry=Entry(
            reason="POS sale", reference=f"order:{number}", actor=actor, occurred_at=occurred_at
        ),
    )
    events.append(
        OrderEvent(
            order=order,
            kind=EventKind.COLLECTED,
            actor=actor,
            detail={"fulfilment": fulfilment.pk, "location": store.code, "pos_sale": True},
        )
    )
    earned = _earn(order=order, fulfilment=fulfilment, lines=lines, occurred_at=occurred_at)
    if earned is not None:
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.POINTS_EARNED,
                actor=actor,
                detail={
                    "fulfilment": fulfilment.pk,
                    "reference": earned.reference,
                    "card_number": earned.card_number,
                    "net_amount": str(earned.net_amount),
                    "points": earned.points,
                    "bonus_points": earned.bonus_points,
                },
            )
        )
        sale.points_earned = earned.total_points
        balance = loyalty_selectors.balance(customer_id=earned.customer_id)
    elif balance is None and card_number:
        balance = loyalty_selectors.balance(card_number=card_number)
    sale.points_balance = balance
    PosSale.objects.filter(pk=sale.pk).update(
        points_earned=sale.points_earned, points_balance=balance
    )
    OrderEvent.objects.bulk_create(events)
    if cart_id:
        close_cart(cart_id=cart_id, order=order, now=occurred_at)
    refresh_status(order=order, actor=actor)
    return order


@dataclass(frozen=True)
class _CreditSpend:
    email: str
    amount: Decimal
    attr: str


def _store_credit(
    request: SaleRequest, *, customer_id: int | None, email: str
) -> list[_CreditSpend]:
    """Whose store credit each ``store_credit`` tender spends: the sale's customer's (by the
    customer's e-mail, or the account linked to the customer) when the sale has a customer or
    card, its ``reference`` is then free text; for a guest sale the tender's ``reference`` is
    the e-mail address the credit was issued to (400 ``tenders.N.reference`` otherwise)."""
    out = []
    for index, tender in enumerate(request.tenders):
        if tender.method != TenderMethod.STORE_CREDIT:
            continue
        owner = email
        if customer_id is None:
            owner = loyalty_services.normalise_email(
                tender.reference, attr=f"tenders.{index}.reference"
            )
        out.append(_CreditSpend(owner, Decimal(tender.amount), f"tenders.{index}.amount"))
    return out


def _earn(*, order: Order, fulfilment: Fulfilment, lines: list[OrderLine], occurred_at):
    """Points for the goods handed over, as a collected pickup earns them (same reference
    shape, so returns reverse them the same way)."""
    if order.customer_id is None:
        return None
    categories = dict(
        inventory_selectors.skus()
        .filter(sku__in=[line.sku for line in lines])
        .values_list("sku", "product__category__code")
    )
    return loyalty_services.earn_points(
        reference=f"fulfilment:{fulfilment.pk}",
        lines=[(categories.get(line.sku), line.total - line.tax_total) for line in lines],
        customer_id=order.customer_id,
        occurred_at=occurred_at,
        actor=f"order:{order.number}",
    )
