"""Every change that can alter which promotions a quote sees reloads the per-process
promotion catalogue (:mod:`pricing.services.promotion_catalog`): a promotion saved or
deleted, its targets or scope changed, a category moved (its path is how promotions aim at
categories). Usage counts are not here: quotes read them fresh."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from inventory.models import Category
from pricing.models import Promotion
from pricing.services import promotion_catalog


def _changed(**kwargs) -> None:
    # At once for this process and its transaction, and again after the commit, so that
    # another process cannot load the old state under the new version in between.
    promotion_catalog.changed()
    transaction.on_commit(promotion_catalog.changed)


@receiver(post_save, sender=Promotion, dispatch_uid="promotion_catalog_saved")
@receiver(post_delete, sender=Promotion, dispatch_uid="promotion_catalog_deleted")
@receiver(post_save, sender=Category, dispatch_uid="promotion_catalog_category")
def promotion_changed(sender, **kwargs) -> None:
    _changed()


for _field in ("skus", "categories", "channels", "locations"):
    m2m_changed.connect(
        _changed,
        sender=getattr(Promotion, _field).through,
        dispatch_uid=f"promotion_catalog_{_field}",
    )
