"""``/healthz``: 200 when the database (and the broker, when one is configured) answer."""

import logging

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


def _broker_ok() -> bool:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("health check: broker unreachable")
        return False


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
