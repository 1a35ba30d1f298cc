"""Customers and loyalty accounts. Thin: validate, call a service or selector, render.

Scoping: a customer token sees only its own customer and account; anyone else's answers
404 (not 403), a valid but foreign card number included, so identifiers cannot be probed.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from config.api.permissions import PUBLIC, RolePermission, principal_of
from config.api.roles import Principal, Role
from config.api.throttling import CallerRateThrottle
from loyalty import selectors, services
from loyalty.api import serializers as s
from loyalty.errors import NotFound, ValidationFailed
from loyalty.models import Customer, EntryKind, LoyaltyAccount, PointsEntry

STAFF = frozenset({Role.MERCHANDISER, Role.STOREFRONT, Role.POS, Role.STORE_STAFF})
SIGN_UP_ROLES = frozenset({Role.MERCHANDISER, Role.STOREFRONT, Role.POS})
PROFILE_EDITORS = frozenset({Role.MERCHANDISER, Role.STOREFRONT, Role.CUSTOMER})
CUSTOMER_ONLY = frozenset({Role.CUSTOMER})
MERCHANDISER_ONLY = frozenset({Role.MERCHANDISER})
LOOKUP_FILTERS = ("email", "phone", "card_number")


def _principal(request) -> Principal | None:
    return principal_of(request)


def _visible_customer(request, customer_id: int) -> None:
    """Customers see themselves only: anybody else is 404."""
    principal = _principal(request)
    if (
        principal is not None
        and principal.role == Role.CUSTOMER
        and principal.customer_id != customer_id
    ):
        raise NotFound(f"No customer {customer_id}.")


def _actor(request) -> str:
    principal = _principal(request)
    return str(principal) if principal else "anonymous"


class SignUpPermission(BasePermission):
    """Anyone may sign up (anonymous shoppers themselves), and the storefront, the tills and
    merchandisers may enrol a customer; store staff and customers may not."""

    def has_permission(self, request, view) -> bool:
        if request.method != "POST":
            return True
        principal = _principal(request)
        return principal is None or principal.role in SIGN_UP_ROLES


# --- Customers ------------------------------------------------------------------------------


class CustomerListView(mixins.ListModelMixin, GenericAPIView):
    roles_by_method = {"GET": STAFF, "POST": PUBLIC}
    permission_classes = [RolePermission, SignUpPermission]
    serializer_class = s.CustomerSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Customer.objects.none()
        params = self.request.query_params
        filters = {name: params[name] for name in LOOKUP_FILTERS if params.get(name)}
        if not filters and _principal(self.request).role != Role.MERCHANDISER:
            raise ValidationFailed.field(
                "email",
                "Look a customer up by email, phone or card_number.",
                code="filter_required",
            )
        return selectors.customers(**filters)

    @extend_schema(
        summary="Look customers up (staff): by email, phone or card number",
        description="A filter is required, except for merchandisers.",
        parameters=[
            OpenApiParameter("email", str, description="Any case."),
            OpenApiParameter("phone", str, description="Any notation; compared in E.164."),
            OpenApiParameter("card_number", str, description="400 on a wrong check digit."),
        ],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Sign up, or enrol a customer at a till or the storefront",
        request=s.CustomerCreateSerializer,
        responses={201: s.CustomerSerializer},
    )
    def post(self, request, *args, **kwargs):
        serializer = s.CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if _principal(request) is None and not data.get("password"):
            raise ValidationFailed.field(
                "password", "Choose a password to sign up.", code="required"
            )
        customer = services.create_customer(**data)
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerMeView(GenericAPIView):
    roles_by_method = {"GET": CUSTOMER_ONLY, "PATCH": CUSTOMER_ONLY}
    serializer_class = s.CustomerSerializer
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(summary="The signed-in customer's profile and loyalty summary")
    def get(self, request, *args, **kwargs):
        customer = selectors.customer_by_id(_principal(request).customer_id)
        return Response(s.CustomerSerializer(customer).data)

    @extend_schema(
        summary="Change the signed-in customer's profile",
        request=s.CustomerUpdateSerializer,
        responses={200: s.CustomerSerializer},
    )
    def patch(self, request, *args, **kwargs):
        return _update(request, _principal(request).customer_id)


class CustomerDetailView(GenericAPIView):
    roles_by_method = {"GET": STAFF | CUSTOMER_ONLY, "PATCH": PROFILE_EDITORS}
    serializer_class = s.CustomerSerializer
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(summary="One customer (staff; a customer only themselves)")
    def get(self, request, pk: int, *args, **kwargs):
        _visible_customer(request, pk)
        return Response(s.CustomerSerializer(selectors.customer_by_id(pk)).data)

    @extend_schema(
        summary="Change a customer's profile (merchandiser, storefront, the customer)",
        request=s.CustomerUpdateSerializer,
        responses={200: s.CustomerSerializer},
    )
    def patch(self, request, pk: int, *args, **kwargs):
        _visible_customer(request, pk)
        return _update(request, pk)


def _update(request, customer_id: int) -> Response:
    serializer = s.CustomerUpdateSerializer(data=request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    customer = services.update_customer(customer_id=customer_id, **serializer.validated_data)
    return Response(s.CustomerSerializer(customer).data)


# --- Customer tokens ------------------------------------------------------------------------


class FailedSignInThrottle(BaseThrottle):
    """Refuses an email from an address after too many failed sign-ins (the service counts
    them and refuses too; this adds the ``Retry-After`` header)."""

    def allow_request(self, request, view) -> bool:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        self._wait = None
        if isinstance(email, str) and email:
            self._wait = services.sign_in_retry_after(
                email=email, client_ip=self.get_ident(request)
            )
        return self._wait is None

    def wait(self):
        return self._wait


class TokenView(GenericAPIView):
    roles_by_method = {"POST": PUBLIC}
    throttle_classes = [CallerRateThrottle, FailedSignInThrottle]
    serializer_class = s.TokenInSerializer

    @extend_schema(
        summary="Sign a customer in: a token for email and password",
        request=s.TokenInSerializer,
        responses={
            200: s.TokenOutSerializer,
            400: OpenApiResponse(
                description="`invalid_credentials`: the email or the password is not right."
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = s.TokenInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = services.issue_customer_token(
            **serializer.validated_data, client_ip=BaseThrottle().get_ident(request)
        )
        return Response({"token": key})


# --- Loyalty accounts -----------------------------------------------------------------------


def _visible_account(request, card_number: str) -> LoyaltyAccount:
    account = selectors.account_by_card_number(card_number)
    principal = _principal(request)
    if principal.role == Role.CUSTOMER and principal.customer_id != account.customer_id:
        raise NotFound("No loyalty account with this card number.")
    return account


CARD_PARAMETER = OpenApiParameter(
    "card_number",
    str,
    OpenApiParameter.PATH,
    description="13 digits; a wrong check digit is 400 `invalid_card_number`, an unknown card 404.",
)


class AccountView(GenericAPIView):
    read_roles = STAFF | CUSTOMER_ONLY
    serializer_class = s.AccountSerializer

    @extend_schema(
        summary="A loyalty account: balance, tier, next tier, points expiring",
        parameters=[CARD_PARAMETER],
    )
    def get(self, request, card_number: str, *args, **kwargs):
        account = _visible_account(request, card_number)
        account.next_tier = selectors.next_tier(account)
        account.points_expiring = selectors.points_expiring(account.pk)
        return Response(s.AccountSerializer(account).data)


class LedgerView(mixins.ListModelMixin, GenericAPIView):
    read_roles = STAFF | CUSTOMER_ONLY
    serializer_class = s.EntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return PointsEntry.objects.none()
        account = _visible_account(self.request, self.kwargs["card_number"])
        kind = self.request.query_params.get("kind") or None
        if kind is not None and kind not in EntryKind.values:
            raise ValidationFailed.field("kind", f"Must be one of: {', '.join(EntryKind.values)}.")
        return selectors.ledger(account.pk, kind=kind)

    @extend_schema(
        summary="The account's points ledger, newest first",
        parameters=[
            CARD_PARAMETER,
            OpenApiParameter("kind", str, enum=list(EntryKind.values)),
        ],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class AdjustmentView(GenericAPIView):
    write_roles = MERCHANDISER_ONLY
    serializer_class = s.AdjustmentInSerializer

    @extend_schema(
        summary="Adjust points by hand, with a reason (merchandiser)",
        parameters=[CARD_PARAMETER],
        request=s.AdjustmentInSerializer,
        responses={201: s.EntrySerializer},
    )
    def post(self, request, card_number: str, *args, **kwargs):
        serializer = s.AdjustmentInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.adjust_points(
            card_number=card_number, actor=_actor(request), **serializer.validated_data
        )
        return Response(s.EntrySerializer(entry).data, status=status.HTTP_201_CREATED)
