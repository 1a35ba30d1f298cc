import logging

from celery import shared_task

from config.api.idempotency import purge_expired_keys

logger = logging.getLogger(__name__)


@shared_task
def purge_idempotency_keys() -> int:
    deleted = purge_expired_keys()
    logger.info("purged %d expired idempotency keys", deleted)
    return deleted
