"""Who may use the screens, and at which store.

A store-staff user is a Django user bound by an active ``ApiClient`` with role
``store_staff`` (``ApiClient.user``) to its location codes: the same binding the API's session
authentication uses. The store being worked on is part of every URL (``/store/<code>/...``);
a code the user is not bound to is 404, so stores cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils import timezone

from config.api.errors import NotFound
from config.api.models import ApiClient
from config.api.roles import Principal, Role
from inventory import selectors as inventory_selectors
from inventory.models import Location

LOGIN_URL = "store:login"


def staff_binding(user) -> ApiClient | None:
    """The user's active store-staff binding, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    return ApiClient.objects.filter(user=user, role=Role.STORE_STAFF, active=True).first()


def staff_locations(user) -> list[Location]:
    """The locations the user works at, by code."""
    binding = staff_binding(user)
    if binding is None or not binding.location_codes:
        return []
    return list(
        inventory_selectors.locations(codes=frozenset(binding.location_codes)).order_by("code")
    )


@dataclass(frozen=True)
class StoreContext:
    location: Location
    principal: Principal

    @property
    def actor(self) -> str:
        return self.principal.ident


def store_page(view):
    """Signed-in store staff working at the ``code`` of the URL; anything else is 404
    (anonymous: the sign-in page). The view gets ``request.store`` (:class:`StoreContext`)
    whose principal sees this one store only, and renders in the store's time zone."""

    @wraps(view)
    def wrapped(request, code: str, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        binding = staff_binding(request.user)
        if binding is None or code not in binding.location_codes:
            raise Http404("No such store.")
        try:
            location = inventory_selectors.location_by_code(code)
        except NotFound as exc:
            raise Http404("No such store.") from exc
        request.store = StoreContext(
            location=location,
            principal=Principal(
                role=Role.STORE_STAFF,
                name=request.user.get_username(),
                client_id=binding.pk,
                location_codes=frozenset({code}),
                user_id=request.user.pk,
            ),
        )
        timezone.activate(location.timezone)  # times on the page are the store's own
        try:
            return view(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapped
