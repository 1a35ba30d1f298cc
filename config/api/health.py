"""``/healthz``: 200 when the database (and the broker, when one is configured) answer."""

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from config.api.errors import unavailable_response

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database unreachable")
        return False


# A load balancer calls /healthz every few seconds on every worker: a broker that answered
# this recently is taken as up rather than opening a connection per call. A failure is
# never remembered, so an outage shows on the next call.
BROKER_OK_FOR_SECONDS = 5.0
_broker_ok_at = float("-inf")


def _broker_ok() -> bool:
    global _broker_ok_at
    if time.monotonic() - _broker_ok_at < BROKER_OK_FOR_SECONDS:
        return True
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        logger.exception("health check: broker unreachable")
        _broker_ok_at = float("-inf")
        return False
    _broker_ok_at = time.monotonic()
    return True


@csrf_exempt
@require_safe
def healthz(request: HttpRequest):
    checks = {"database": _database_ok()}
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _broker_ok()
    if all(checks.values()):
        return JsonResponse({"status": "ok", "checks": dict.fromkeys(checks, "ok")})
    failed = ", ".join(name for name, ok in checks.items() if not ok)
    return unavailable_response(detail=f"Unavailable: {failed}.")
