"""The orders app's Celery tasks: thin, idempotent wrappers over services."""

from celery import shared_task

from orders.services import notifications


@shared_task
def send_notification(notification_id: int) -> bool:
    """Send one recorded notification. Idempotent: a sent notification is never sent again,
    so a redelivered message (``acks_late``) is harmless."""
    return notifications.send_notification(notification_id=notification_id)


@shared_task
def resend_failed_notifications() -> int:
    """Retry notifications that failed or never left (broker down at commit time)."""
    return notifications.resend_failed_notifications()


@shared_task
def purge_stale_carts() -> int:
    """Carts not touched for ``CARTS_STALE_DAYS`` (beat, daily)."""
    from orders.services.carts import purge_stale_carts as purge

    return purge()
