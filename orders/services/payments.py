"""Payments: authorised at checkout, captured at the hand-over, voided on a cancellation
before capture, refunded after. Each outcome is recorded on the ``Payment`` rows and in the
order's history; the provider (``orders.payments``) is called inside the transaction so that
a failure rolls the change back.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from config.money import ZERO, to_cents
from orders.errors import InvalidState, ValidationFailed
from orders.models import EventKind, NotificationKind, Order, Payment, PaymentStatus
from orders.payments import get_provider
from orders.services.events import record_event
from orders.services.notifications import notify


def authorise_payment(
    *,
    order: Order,
    amount: Decimal,
    method: str,
    reference: str = "",
    provider: str = "manual",
    actor: str = "",
) -> Payment:
    """Authorise ``amount`` for ``order`` (checkout calls it inside its transaction)."""
    result = get_provider(provider).authorise(
        order_number=order.number,
        amount=amount,
        currency=order.currency,
        method=method,
        reference=reference,
    )
    payment = Payment.objects.create(
        order=order,
        method=method,
        provider=provider,
        reference=result.reference,
        amount=amount,
        status=PaymentStatus.AUTHORISED,
    )
    record_event(
        order=order,
        kind=EventKind.PAYMENT_AUTHORISED,
        actor=actor,
        detail={"payment": payment.pk, "method": method, "amount": str(amount)},
    )
    return payment


def _payments(order: Order) -> list[Payment]:
    return list(Payment.objects.select_for_update().filter(order=order).order_by("id"))


def capture_payment(
    *, order: Order, amount: Decimal | None = None, actor: str = ""
) -> list[Payment]:
    """Capture ``amount`` (default: everything authorised and not yet captured) from the
    order's payments, oldest first. The colleague's hand-over calls it with the value of
    the units handed over (:func:`orders.services.units_value`), or with None at the last
    hand-over. Call it inside the hand-over's transaction.

    Idempotent when ``amount`` is None (nothing left to capture: nothing happens). Raises
    ``InvalidState`` when ``amount`` is more than is left to capture. Returns the payments
    that changed."""
    payments = [p for p in _payments(order) if p.status != PaymentStatus.VOIDED]
    open_amount = sum((p.amount - p.captured_amount for p in payments), ZERO)
    wanted = open_amount if amount is None else to_cents(amount)
    if wanted < 0 or wanted > open_amount:
        raise InvalidState(f"Only {open_amount} of order {order.number} is left to capture.")
    changed = []
    for payment in payments:
        if not wanted:
            break
        take = min(wanted, payment.amount - payment.captured_amount)
        if not take:
            continue
        get_provider(payment.provider).capture(
            reference=payment.reference, amount=take, currency=order.currency
        )
        payment.captured_amount += take
        payment.status = PaymentStatus.CAPTURED
        payment.save(update_fields=["captured_amount", "status", "updated_at"])
        record_event(
            order=order,
            kind=EventKind.PAYMENT_CAPTURED,
            actor=actor,
            detail={"payment": payment.pk, "amount": str(take)},
        )
        wanted -= take
        changed.append(payment)
    return changed


def void_payments(*, order: Order, actor: str = "") -> list[Payment]:
    """Let go of every authorisation not captured (a whole-order cancellation). Payments
    with something captured keep it (refund it with :func:`refund_payment`). Idempotent."""
    changed = []
    for payment in _payments(order):
        if payment.status != PaymentStatus.AUTHORISED:
            continue
        get_provider(payment.provider).void(
            reference=payment.reference, amount=payment.amount, currency=order.currency
        )
        payment.status = PaymentStatus.VOIDED
        payment.save(update_fields=["status", "updated_at"])
        record_event(
            order=order,
            kind=EventKind.PAYMENT_VOIDED,
            actor=actor,
            detail={"payment": payment.pk, "amount": str(payment.amount)},
        )
        changed.append(payment)
    return changed


def refund_payment(
    *,
    order: Order,
    amount: Decimal,
    reference: str,
    reason: str = "",
    actor: str = "",
    notify_customer: bool = True,
    points: int = 0,
) -> Decimal:
    """Give back ``amount`` of money paid for ``order`` (units cancelled after a short pick,
    a return). What is still only authorised is reduced first (never taken, so nothing to
    send back); then captured money is refunded, oldest payment first. Records an event
    ``payment_refunded`` and, with ``notify_customer``, a ``refunded`` notification (its
    ``points`` mention the points given back with it).

    Idempotent on ``reference`` (the refund's business key): a repeat returns the first
    amount and does nothing. Call it inside your transaction after locking the order row.
    Raises ``InvalidState`` when more would be refunded than was paid and not refunded."""
    amount = to_cents(amount)
    if amount < 0:
        raise ValidationFailed.field("amount", "A refund is not negative.")
    done = order.events.filter(kind=EventKind.PAYMENT_REFUNDED, detail__reference=reference).first()
    if done is not None:
        return Decimal(done.detail["amount"])
    payments = [p for p in _payments(order) if p.status != PaymentStatus.VOIDED]
    refundable = sum((p.amount - p.refunded_amount for p in payments), ZERO)
    if amount > refundable:
        raise InvalidState(f"Only {refundable} of order {order.number} can be refunded.")
    left = amount
    parts: list[dict[str, str]] = []
    # Authorised and not captured first: reduce the hold.
    for payment in payments:
        release = min(left, payment.amount - payment.captured_amount)
        if release <= 0:
            continue
        get_provider(payment.provider).void(
            reference=payment.reference, amount=release, currency=order.currency
        )
        payment.amount -= release
        if payment.amount == 0:
            payment.status = PaymentStatus.VOIDED
        payment.save(update_fields=["amount", "status", "updated_at"])
        parts.append({"payment": str(payment.pk), "released": str(release)})
        left -= release
    for payment in payments:
        back = min(left, payment.captured_amount - payment.refunded_amount)
        if back <= 0:
            continue
        get_provider(payment.provider).refund(
            reference=payment.reference, amount=back, currency=order.currency
        )
        payment.refunded_amount += back
        if payment.refunded_amount == payment.amount:
            payment.status = PaymentStatus.REFUNDED
        payment.save(update_fields=["refunded_amount", "status", "updated_at"])
        parts.append({"payment": str(payment.pk), "refunded": str(back)})
        left -= back
    record_event(
        order=order,
        kind=EventKind.PAYMENT_REFUNDED,
        actor=actor,
        detail={"reference": reference, "amount": str(amount), "reason": reason, "parts": parts},
    )
    if notify_customer and (amount or points):
        notify(
            order=order,
            kind=NotificationKind.REFUNDED,
            key=f"{order.number}:refunded:{reference}",
            context={"amount": str(amount), "points": points, "reason": reason},
        )
    return amount


def payment_summary(payments: Sequence[Payment]) -> dict[str, Decimal]:
    """Authorised, captured and refunded money over ``payments``."""
    live = [p for p in payments if p.status != PaymentStatus.VOIDED]
    return {
        "authorised": sum((p.amount for p in live), ZERO),
        "captured": sum((p.captured_amount for p in live), ZERO),
        "refunded": sum((p.refunded_amount for p in live), ZERO),
    }
