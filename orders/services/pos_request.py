"""What a POS sale is asked for, checked before anything is written (see
:mod:`orders.services.pos`): the lines by SKU or barcode, the customer by id or card, staff
overrides with their approval, the points and the tenders with the change. Each check
raises 400 naming the field (``lines.N.barcode``, ``tenders``, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password

from config.money import ZERO, to_cents
from inventory import selectors as inventory_selectors
from inventory.models import Location
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from orders.errors import NotFound, ValidationFailed
from orders.models import (
    ManagerApprovalCode,
    TenderMethod,
)
from orders.services.checkout_request import PrepaidInput, _reattr
from pricing import services as pricing_services

POS_CHANNEL = "pos"
MAX_LINES = pricing_services.MAX_LINES
MAX_QUANTITY = 100_000
HUNDRED = Decimal("100")


def approval_percent() -> Decimal:
    return Decimal(str(getattr(settings, "POS_OVERRIDE_APPROVAL_PERCENT", 20)))


@dataclass(frozen=True)
class SaleLine:
    quantity: int
    sku: str | None = None
    barcode: str | None = None
    unit_price: Decimal | None = None  # a manual price (staff override)
    discount_percent: Decimal | None = None  # a manual line discount
    reason: str = ""
    approval_code: str = ""
    fixed_price: Decimal | None = None  # agreed beforehand (an exchange): no promotions


@dataclass(frozen=True)
class TenderInput:
    method: str
    amount: Decimal
    reference: str = ""


@dataclass(frozen=True)
class SaleRequest:
    store: str
    lines: Sequence[SaleLine] = ()
    tenders: Sequence[TenderInput] = ()
    customer_id: int | None = None
    card_number: str | None = None
    coupon_codes: Sequence[str] = ()
    redeem_points: int = 0
    occurred_at: datetime | None = None
    cart_id: str | None = None
    prepaid: PrepaidInput | None = None  # an exchange's share of its return's refund
    email: str = ""  # a guest's e-mail address (an exchange of a guest's order)


@dataclass
class _Override:
    index: int
    sku: str
    list_price: Decimal
    unit_price: Decimal
    percent: Decimal
    reason: str
    approved_by: str


class _Problems:
    def __init__(self):
        self.errors: list[dict[str, str]] = []

    def add(self, attr: str, detail: str, code: str = "invalid") -> None:
        self.errors.append({"attr": attr, "code": code, "detail": detail})

    def raise_any(self) -> None:
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise ValidationFailed(f"{first['attr']}: {first['detail']}{more}", errors=self.errors)


def _store(code: str) -> Location:
    location = inventory_selectors.locations(codes=frozenset({code})).first()
    if location is None or location.type != Location.Type.STORE:
        raise ValidationFailed.field("store", f"{code!r} is not a store.", "unknown_location")
    return location


def _resolve_lines(lines: list[SaleLine]) -> list[str]:
    """The SKU of each line (by SKU or barcode); 400 naming every bad line."""
    problems = _Problems()
    if not lines:
        problems.add("lines", "At least one line.", "required")
    elif len(lines) > MAX_LINES:
        problems.add("lines", f"At most {MAX_LINES} lines.", "max_length")
    problems.raise_any()
    barcodes = {line.barcode for line in lines if line.barcode}
    by_barcode = dict(
        inventory_selectors.skus()
        .filter(barcode__in=barcodes, active=True)
        .values_list("barcode", "sku")
    )
    skus: list[str] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        quantity = line.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            problems.add(
                f"lines.{index}.quantity", "Must be a whole number of at least 1.", "min_value"
            )
        elif quantity > MAX_QUANTITY:
            problems.add(f"lines.{index}.quantity", f"At most {MAX_QUANTITY}.", "max_value")
        if bool(line.sku) == bool(line.barcode):
            problems.add(f"lines.{index}", "Give either sku or barcode.", "required")
            skus.append("")
            continue
        sku = line.sku or by_barcode.get(line.barcode, "")
        if not sku:
            problems.add(
                f"lines.{index}.barcode", f"Unknown barcode {line.barcode!r}.", "unknown_barcode"
            )
        elif sku in seen:
            problems.add(
                f"lines.{index}.sku",
                f"SKU {sku} is on line {seen[sku]} already: add the quantities up.",
                "duplicate",
            )
        seen.setdefault(sku, index)
        skus.append(sku)
    problems.raise_any()
    return skus


def _customer(request: SaleRequest, *, cart_customer: int | None) -> tuple[int | None, str, str]:
    """(customer id, card number, email) of the sale's customer, by id or loyalty card."""
    if request.customer_id and cart_customer and request.customer_id != cart_customer:
        raise ValidationFailed.field(
            "customer", "The cart is another customer's.", "not_cart_customer"
        )
    customer_id = request.customer_id or cart_customer
    if request.card_number:
        try:
            account = loyalty_selectors.account_by_card_number(
                request.card_number, attr="card_number"
            )
        except NotFound:
            raise ValidationFailed.field(
                "card_number", "No loyalty account with this card number.", "unknown_card"
            ) from None
        if customer_id is not None and account.customer_id != customer_id:
            raise ValidationFailed.field(
                "card_number", "This card is not the customer's.", "not_customers_card"
            )
        return account.customer_id, account.card_number, account.customer.email
    if customer_id is None:
        return None, "", ""
    customer = loyalty_selectors.customers().filter(pk=customer_id).first()
    if customer is None:
        raise ValidationFailed.field("customer", f"No customer {customer_id}.", "unknown_customer")
    return customer.pk, customer.account.card_number, customer.email


def _overrides(lines, skus, snapshot, store: Location) -> list[_Override]:
    """Staff price overrides and line discounts, checked: a reason, never above the list
    price, and a valid manager approval code above the configured percentage."""
    problems = _Problems()
    limit = approval_percent()
    found: list[_Override] = []
    codes = None
    for index, (line, priced) in enumerate(zip(lines, snapshot.lines, strict=True)):
        if line.unit_price is None and line.discount_percent is None:
            continue
        attr = f"lines.{index}"
        list_price = priced.unit_price
        if line.unit_price is not None and line.discount_percent is not None:
            problems.add(attr, "Give unit_price or discount_percent, not both.")
            continue
        if line.unit_price is not None:
            unit_price = to_cents(Decimal(line.unit_price))
        else:
            percent = Decimal(line.discount_percent)
            if not ZERO < percent <= HUNDRED:
                problems.add(f"{attr}.discount_percent", "Above 0 and at most 100.", "invalid")
                continue
            unit_price = (list_price * (HUNDRED - percent) / HUNDRED).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
        if unit_price < 0 or unit_price > list_price:
            problems.add(
                f"{attr}.unit_price",
                f"A manual price is between 0.00 and the list price {list_price}.",
                "invalid",
            )
            continue
        percent = (
            ((list_price - unit_price) * HUNDRED / list_price).quantize(Decimal("0.01"))
            if list_price
            else ZERO
        )
        if not line.reason.strip():
            problems.add(f"{attr}.reason", "A price override needs a reason.", "required")
            continue
        approved_by = ""
        if percent > limit:
            if codes is None:
                codes = list(
                    ManagerApprovalCode.objects.filter(location=store, active=True).values_list(
                        "manager", "code_hash"
                    )
                )
            approved_by = next(
                (
                    manager
                    for manager, code_hash in codes
                    if line.approval_code and check_password(line.approval_code, code_hash)
                ),
                "",
            )
            if not approved_by:
                problems.add(
                    f"{attr}.approval_code",
                    f"A discount of {percent}% is above {limit}%: a manager's approval code "
                    "is needed."
                    if not line.approval_code
                    else "This approval code is not valid at this store.",
                    "approval_required" if not line.approval_code else "invalid_approval_code",
                )
                continue
        found.append(
            _Override(
                index=index,
                sku=skus[index],
                list_price=list_price,
                unit_price=unit_price,
                percent=percent,
                reason=line.reason.strip()[:300],
                approved_by=approved_by,
            )
        )
    problems.raise_any()
    return found


def _points(request: SaleRequest, card_number: str, total: Decimal) -> tuple[int, Decimal]:
    if not request.redeem_points:
        return 0, ZERO
    if not card_number:
        raise ValidationFailed.field(
            "loyalty.card_number", "Redeeming points needs the customer's card.", "required"
        )
    try:
        value = loyalty_services.points_value(points=request.redeem_points)
    except ValidationFailed as exc:
        raise _reattr(exc, "loyalty.redeem_points") from None
    if value > total:
        raise ValidationFailed.field(
            "loyalty.redeem_points",
            f"{request.redeem_points} points are worth {value}, more than the {total} due.",
            "exceeds_total",
        )
    return request.redeem_points, value


def _tenders(
    tenders: Sequence[TenderInput], *, due: Decimal, points: Decimal
) -> tuple[list[TenderInput], Decimal]:
    """The tenders (with the points as a ``points`` tender) and the change. Card, points and
    store credit pay exactly; cash may overpay, and the excess is the change."""
    problems = _Problems()
    out: list[TenderInput] = []
    given_points = ZERO
    for index, tender in enumerate(tenders):
        amount = Decimal(tender.amount)
        if tender.method not in TenderMethod.values:
            problems.add(f"tenders.{index}.method", f"One of {', '.join(TenderMethod.values)}.")
        elif amount <= 0 or to_cents(amount) != amount:
            problems.add(f"tenders.{index}.amount", "An amount above 0.00, in cents.", "invalid")
        elif tender.method == TenderMethod.CARD and not tender.reference.strip():
            problems.add(
                f"tenders.{index}.reference",
                "A card tender carries the terminal's reference.",
                "required",
            )
        elif tender.method == TenderMethod.POINTS:
            given_points += amount
        else:
            out.append(TenderInput(tender.method, amount, tender.reference.strip()[:200]))
    problems.raise_any()
    if given_points and given_points != points:
        raise ValidationFailed.field(
            "tenders",
            f"The points tender is {given_points}; the points redeemed are worth {points}.",
            "points_mismatch",
        )
    cash = sum((t.amount for t in out if t.method == TenderMethod.CASH), ZERO)
    exact = sum((t.amount for t in out if t.method != TenderMethod.CASH), ZERO)
    if exact > due:
        raise ValidationFailed.field(
            "tenders",
            f"Card and store credit ({exact}) pay more than the {due} due; only cash gives change.",
            "tenders_exceed_total",
        )
    if exact + cash < due:
        raise ValidationFailed.field(
            "tenders",
            f"The tenders ({exact + cash}) do not cover the {due} due.",
            "tenders_do_not_cover",
        )
    change = exact + cash - due
    if points:
        out.append(TenderInput(TenderMethod.POINTS, points, "loyalty points"))
    return out, change
