"""The five roles of DESIGN.md and the principal a request acts as.

A principal carries its role, the location codes it is bound to and (for customers) the
customer id as plain values, so that no app has to be imported to check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class Role(models.TextChoices):
    MERCHANDISER = "merchandiser", "Merchandiser"
    STOREFRONT = "storefront", "Storefront"
    POS = "pos", "POS terminal"
    STORE_STAFF = "store_staff", "Store staff"
    CUSTOMER = "customer", "Customer"


STAFF_ROLES = frozenset({Role.MERCHANDISER, Role.POS, Role.STORE_STAFF})
LOCATION_BOUND_ROLES = frozenset({Role.POS, Role.STORE_STAFF})


@dataclass(frozen=True)
class Principal:
    """Who is calling. DRF puts it on ``request.user``."""

    role: Role
    name: str
    client_id: int | None = None
    location_codes: frozenset[str] = field(default_factory=frozenset)
    customer_id: int | None = None
    user_id: int | None = None

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> str:
        return self.ident

    @property
    def ident(self) -> str:
        """A stable identity for throttling and idempotency scopes."""
        if self.client_id is not None:
            return f"client:{self.client_id}"
        return f"user:{self.user_id}"

    @property
    def is_location_bound(self) -> bool:
        return self.role in LOCATION_BOUND_ROLES

    def may_act_at(self, location_code: str) -> bool:
        """Location-bound roles act only at their own locations; others everywhere."""
        return not self.is_location_bound or location_code in self.location_codes

    def __str__(self) -> str:
        return f"{self.role}:{self.name}"
