"""Inventory's writes: one function per use case, one transaction each."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from inventory.errors import ValidationFailed
from inventory.models import SKU, Category, Channel, Location, Product

logger = logging.getLogger(__name__)


# --- Categories ---------------------------------------------------------------------------


def _category_path(code: str, parent: Category | None) -> str:
    return f"{parent.path if parent else ''}{code}/"


@transaction.atomic
def create_category(*, code: str, name: str, parent: Category | None = None) -> Category:
    category = Category(code=code, name=name, parent=parent, path=_category_path(code, parent))
    category.full_clean()
    category.save()
    logger.info("category %s created under %s", code, parent.code if parent else "the root")
    return category


@transaction.atomic
def update_category(
    *, category: Category, name: str | None = None, parent: Category | Any | None = ...
) -> Category:
    """Rename or move a category; moving rewrites the path of everything below it."""
    if name is not None:
        category.name = name
    if parent is not ...:
        if parent is not None and parent.path.startswith(category.path):
            raise ValidationFailed.field("parent", "A category cannot move below itself.")
        old_path = category.path
        category.parent = parent
        category.path = _category_path(category.code, parent)
        if old_path != category.path:
            Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk).update(
                path=Concat(Value(category.path), Substr("path", len(old_path) + 1))
            )
    category.full_clean()
    category.save()
    return category


# --- Products and SKUs --------------------------------------------------------------------

PRODUCT_FIELDS = ("name", "description", "category", "active")
SKU_FIELDS = ("barcode", "name", "attributes", "active")


@transaction.atomic
def create_product(
    *,
    name: str,
    category: Category,
    description: str = "",
    active: bool = True,
    skus: Iterable[Mapping[str, Any]] = (),
) -> Product:
    """Create a product with its SKUs (all or none)."""
    product = Product.objects.create(
        name=name, category=category, description=description, active=active
    )
    _upsert_skus(product=product, skus=skus)
    logger.info("product %s created with %d SKUs", product.pk, product.skus.count())
    return product


@transaction.atomic
def update_product(
    *, product: Product, skus: Iterable[Mapping[str, Any]] | None = None, **fields: Any
) -> Product:
    """Change a product's fields; ``skus`` adds new SKUs and updates existing ones by code.
    SKUs are never deleted (stock and orders refer to them): deactivate them instead."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    for field, value in fields.items():
        setattr(product, field, value)
    product.save()
    if skus is not None:
        _upsert_skus(product=product, skus=skus)
    return product


def _upsert_skus(*, product: Product, skus: Iterable[Mapping[str, Any]]) -> None:
    skus = list(skus)
    codes = [item["sku"] for item in skus]
    existing = SKU.objects.in_bulk(codes, field_name="sku")
    for index, item in enumerate(skus):
        sku = existing.get(item["sku"])
        if sku is not None and sku.product_id != product.pk:
            raise ValidationFailed.field(
                f"skus.{index}.sku", f"SKU {sku.sku} belongs to another product.", code="unique"
            )
        sku = sku or SKU(product=product, sku=item["sku"])
        for field in SKU_FIELDS:
            if field in item:
                setattr(sku, field, item[field])
        if not sku.name:
            sku.name = product.name
        sku.barcode = sku.barcode or None
        sku.save()


# --- Channels and locations ---------------------------------------------------------------


@transaction.atomic
def create_channel(**fields: Any) -> Channel:
    channel = Channel(**fields)
    channel.full_clean()
    channel.save()
    return channel


@transaction.atomic
def create_location(**fields: Any) -> Location:
    location = Location(**fields)
    location.full_clean()
    location.save()
    logger.info("location %s (%s) created", location.code, location.type)
    return location


@transaction.atomic
def update_location(*, location: Location, **fields: Any) -> Location:
    for field, value in fields.items():
        setattr(location, field, value)
    location.full_clean()
    location.save()
    logger.info("location %s updated: %s", location.code, ", ".join(sorted(fields)))
    return location
