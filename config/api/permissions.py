"""Which roles may call which view.

Each view names the roles it admits per kind of method::

    read_roles = PUBLIC                     # anonymous callers too
    write_roles = {Role.MERCHANDISER}

Location scoping (a POS terminal acts only at its store) is the business of the selectors
and services, which receive the principal; an object outside the caller's scope is 404.
"""

from __future__ import annotations

from rest_framework import permissions

from config.api.roles import Principal, Role

PUBLIC = "public"
ALL_ROLES = frozenset(Role)


def allowed_roles(view, method: str):
    """The roles ``view`` admits for ``method``: a set of roles, or :data:`PUBLIC`."""
    method_roles = getattr(view, "roles_by_method", None) or {}
    if method in method_roles:
        return method_roles[method]
    if method in permissions.SAFE_METHODS:
        return getattr(view, "read_roles", ())
    return getattr(view, "write_roles", ())


class RolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        allowed = allowed_roles(view, request.method)
        if allowed == PUBLIC:
            return True
        principal = request.user
        if not isinstance(principal, Principal):
            return False  # DRF turns this into 401 for anonymous callers
        return principal.role in allowed


def principal_of(request) -> Principal | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, Principal) else None
