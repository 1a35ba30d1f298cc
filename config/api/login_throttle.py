"""Failed sign-ins, counted in the cache: after too many, the next attempt is refused before
its password is even checked, until the window that the first failure opened ends.

One mechanism for every door: customers' ``POST /api/v1/auth/token/`` (loyalty), the store
screens' ``/store/login/`` and the admin's ``/admin/login/``. Failures are counted per
username and client address (a guesser is stopped without locking the person out
everywhere) and, for staff, per address whatever the username (password spraying). The
address is DRF's (``REST_FRAMEWORK["NUM_PROXIES"]`` says which X-Forwarded-For entry to
trust). Counters live in the default cache: set ``CACHE_URL`` to Redis when several
processes serve, so that they share them.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


@dataclass(frozen=True)
class LoginLimits:
    scope: str
    max_failures: int  # per username and address
    window: int  # seconds, from the first failure
    max_failures_per_address: int | None = None  # any username


def staff_limits() -> LoginLimits:
    return LoginLimits(
        scope="staff-login",
        max_failures=settings.STAFF_LOGIN_MAX_FAILURES,
        window=settings.STAFF_LOGIN_FAILURE_WINDOW,
        max_failures_per_address=settings.STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS,
    )


def client_address(request: HttpRequest) -> str:
    return BaseThrottle().get_ident(request)


def _keys(limits: LoginLimits, who: str) -> tuple[str, str]:
    digest = hashlib.sha256(who.encode()).hexdigest()[:40]
    return f"{limits.scope}:failures:{digest}", f"{limits.scope}:until:{digest}"


def _counters(limits: LoginLimits, username: str, address: str):
    """(count key, until key, limit) for the pair and, if limited, for the address."""
    pair = _keys(limits, f"{username.strip().lower()}|{address}")
    yield (*pair, limits.max_failures)
    if limits.max_failures_per_address:
        yield (*_keys(limits, f"address|{address}"), limits.max_failures_per_address)


def retry_after(limits: LoginLimits, *, username: str, address: str) -> int | None:
    """Seconds until this username may try again from this address, or None. Reads only."""
    waits = []
    for count_key, until_key, limit in _counters(limits, username, address):
        if (cache.get(count_key) or 0) >= limit:
            until = cache.get(until_key) or time.time() + limits.window
            waits.append(max(1, math.ceil(until - time.time())))
    return max(waits) if waits else None


def record_failure(limits: LoginLimits, *, username: str, address: str) -> None:
    for count_key, until_key, _ in _counters(limits, username, address):
        cache.add(until_key, time.time() + limits.window, limits.window)
        cache.add(count_key, 0, limits.window)
        try:
            cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, limits.window)


def clear_failures(limits: LoginLimits, *, username: str, address: str) -> None:
    """A success forgets the pair's failures. The address's count stays: one good password
    must not reset a spraying run from the same address."""
    cache.delete_many(_keys(limits, f"{username.strip().lower()}|{address}"))


def throttled_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


class ThrottledLoginMixin:
    """For a Django ``AuthenticationForm``: refuses (``throttled_for`` seconds) before the
    password is checked once the limits are reached; counts failures, clears on success."""

    throttled_for: int | None = None

    def clean(self):
        limits = staff_limits()
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        wait = retry_after(limits, username=username, address=address)
        if wait is not None:
            self.throttled_for = wait
            raise forms.ValidationError(throttled_message(wait), code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(limits, username=username, address=address)
            raise
        if self.get_user() is not None:  # signed in (not merely a form missing its password)
            clear_failures(limits, username=username, address=address)
        return cleaned


class StaffLoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The store screens' sign-in."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's sign-in (staff users only, as Django's)."""


def mark_throttled(response, form) -> None:
    """429 with Retry-After when ``form`` refused a throttled attempt."""
    wait = getattr(form, "throttled_for", None)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)


def admin_login(request: HttpRequest, extra_context=None):
    """The admin site's login view (config/urls.py gives the site :class:`AdminLoginForm`);
    429 with Retry-After when throttled."""
    response = admin.site.login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    mark_throttled(response, form)
    return response
