"""Payments: authorised at checkout, captured at the hand-over, voided on a cancellation
before capture, refunded after. Each outcome is recorded on the ``Payment`` rows and in the
order's history; the provider (``orders.payments``) is called inside the transaction so that
a failure rolls the change back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from config.money import ZERO, allocate, to_cents
from loyalty import services as loyalty_services
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


def record_prepaid(*, order: Order, prepaid, due: Decimal, actor: str = "") -> Decimal:
    """Up to ``prepaid.amount`` of ``due`` as a payment already captured (an exchange paid
    with its return's refund). Returns the amount recorded, 0.00 when nothing is due."""
    amount = min(to_cents(prepaid.amount), due)
    if amount <= 0:
        return ZERO
    payment = Payment.objects.create(
        order=order,
        method=prepaid.method,
        provider="manual",
        reference=prepaid.reference,
        amount=amount,
        captured_amount=amount,
        status=PaymentStatus.CAPTURED,
    )
    record_event(
        order=order,
        kind=EventKind.PAYMENT_CAPTURED,
        actor=actor,
        detail={
            "payment": payment.pk,
            "method": prepaid.method,
            "amount": str(amount),
            "reference": prepaid.reference,
        },
    )
    return amount


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
    send back); then captured money is refunded across the payments in proportion to what
    each took and has not given back, a tender that cannot take money back (an exchange's
    credit, store credit, …) as store credit to the order's e-mail address
    (:func:`refund_captured` is the returns' variant). Records an event
    ``payment_refunded`` and, with ``notify_customer``, a ``refunded`` notification (its
    ``points`` mention the points given back with it).

    Idempotent on ``reference`` (the refund's business key): a repeat returns the first
    amount and does nothing. Call it inside your transaction after locking the order row.
    Raises ``InvalidState`` when more would be refunded than was paid and not refunded."""
    amount = to_cents(amount)
    if amount < 0:
        raise ValidationFailed.field("amount", "A refund is not negative.")
    done = _refund_done(order, reference)
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
    for payment, back in _in_proportion(payments, left):
        credit = payment.method in CREDIT_ONLY_TENDERS and bool(order.email)
        if credit:
            loyalty_services.issue_store_credit(
                email=order.email,
                customer_id=order.customer_id,
                amount=back,
                currency=order.currency,
                reference=f"order:{order.number}:{reference}:{payment.pk}",
            )
        else:
            get_provider(payment.provider).refund(
                reference=payment.reference, amount=back, currency=order.currency
            )
        _mark_refunded(payment, back)
        parts.append({"payment": str(payment.pk), "refunded": str(back), "to_store_credit": credit})
        left -= back
    _record_refund(
        order=order,
        amount=amount,
        reference=reference,
        reason=reason,
        actor=actor,
        parts=parts,
        notify_customer=notify_customer,
        points=points,
    )
    return amount


def _refund_done(order: Order, reference: str):
    """The ``payment_refunded`` event of an earlier refund with this reference, if any."""
    return order.events.filter(kind=EventKind.PAYMENT_REFUNDED, detail__reference=reference).first()


def _record_refund(
    *,
    order: Order,
    amount: Decimal,
    reference: str,
    reason: str,
    actor: str,
    parts: list,
    notify_customer: bool,
    points: int,
) -> None:
    """The history entry that makes a refund idempotent, and the customer's notice."""
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


def _in_proportion(payments: Sequence[Payment], amount: Decimal) -> list[tuple[Payment, Decimal]]:
    """``amount`` over ``payments`` in proportion to what each captured and has not refunded
    (largest remainder, so the parts add up exactly and none exceeds its payment). Refunding
    in proportion to what is left keeps every tender's share of an order the same over any
    sequence of partial refunds, and the last refund takes exactly what is left of each."""
    open_ = [(p, p.captured_amount - p.refunded_amount) for p in payments]
    open_ = [(p, left) for p, left in open_ if left > 0]
    if not open_ or amount <= 0:
        return []
    parts = allocate(amount, [left for _, left in open_])
    return [(p, part) for (p, _), part in zip(open_, parts, strict=True) if part > 0]


def _mark_refunded(payment: Payment, amount: Decimal) -> None:
    payment.refunded_amount += amount
    if payment.refunded_amount == payment.amount:
        payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])


# Tenders whose money cannot go back the way it came: their share of a refund is store credit.
CREDIT_ONLY_TENDERS = frozenset({"store_credit", "gift_card", "voucher", "exchange"})
# Tenders that only a till can pay back (a cash sale refunded as cash at the counter).
TILL_ONLY_TENDERS = frozenset({"cash"})


@dataclass(frozen=True)
class RefundPart:
    """One part of a refund: from which payment (None: beyond what any payment captured),
    how much, and whether it goes back to the tender or to store credit."""

    payment_id: int | None
    method: str
    amount: Decimal
    to_store_credit: bool

    def as_json(self) -> dict[str, object]:
        return {
            "payment": self.payment_id,
            "method": self.method,
            "amount": str(self.amount),
            "to_store_credit": self.to_store_credit,
        }


def refund_captured(
    *,
    order: Order,
    amount: Decimal,
    reference: str,
    reason: str = "",
    actor: str = "",
    to_store_credit: bool = False,
    at_till: bool = False,
    notify_customer: bool = True,
    points: int = 0,
) -> list[RefundPart]:
    """Give back ``amount`` of captured money (a return): split across the payments in
    proportion to what each captured and has not refunded, so a 60/40 card and cash sale is
    refunded 60/40 however many partial returns there are. Each part goes back to its tender
    through the provider, unless ``to_store_credit`` (the customer chose credit), the tender
    cannot take money back (store credit, gift card, voucher, an exchange's credit) or it is
    cash away from a till (``at_till`` false): those parts are store credit, which the caller
    issues (loyalty's, with its own reference). Money beyond what the payments captured, if
    any, is a store-credit part without a payment. Every part is recorded on its payment's
    ``refunded_amount`` and in one ``payment_refunded`` event.

    Idempotent on ``reference``: a repeat returns the first parts and does nothing. Call it
    inside your transaction after locking the order row."""
    amount = to_cents(amount)
    if amount < 0:
        raise ValidationFailed.field("amount", "A refund is not negative.")
    done = _refund_done(order, reference)
    if done is not None:
        return [
            RefundPart(
                part.get("payment"),
                part.get("method", ""),
                Decimal(part["amount"]),
                bool(part.get("to_store_credit")),
            )
            for part in done.detail.get("parts", [])
            if "amount" in part
        ]
    payments = [p for p in _payments(order) if p.status != PaymentStatus.VOIDED]
    parts: list[RefundPart] = []
    left = amount
    for payment, back in _in_proportion(payments, amount):
        credit = (
            to_store_credit
            or payment.method in CREDIT_ONLY_TENDERS
            or (payment.method in TILL_ONLY_TENDERS and not at_till)
        )
        if not credit:
            get_provider(payment.provider).refund(
                reference=payment.reference, amount=back, currency=order.currency
            )
        _mark_refunded(payment, back)
        parts.append(RefundPart(payment.pk, payment.method, back, credit))
        left -= back
    if left > 0:
        parts.append(RefundPart(None, "", left, True))
    _record_refund(
        order=order,
        amount=amount,
        reference=reference,
        reason=reason,
        actor=actor,
        parts=[part.as_json() for part in parts],
        notify_customer=notify_customer,
        points=points,
    )
    return parts


def payment_summary(payments: Sequence[Payment]) -> dict[str, Decimal]:
    """Authorised, captured and refunded money over ``payments``."""
    live = [p for p in payments if p.status != PaymentStatus.VOIDED]
    return {
        "authorised": sum((p.amount for p in live), ZERO),
        "captured": sum((p.captured_amount for p in live), ZERO),
        "refunded": sum((p.refunded_amount for p in live), ZERO),
    }
