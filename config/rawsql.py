"""Names for raw SQL taken from the models, so that a hand-written query follows a renamed
table or column: used where the ORM cannot say a query efficiently (the books' checks join
each ledger, summed once, to its balances)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Model


def table(model: type[Model]) -> str:
    """The quoted table name of ``model``."""
    return connection.ops.quote_name(model._meta.db_table)


def columns(model: type[Model]) -> dict[str, str]:
    """Field name -> quoted column name, for every concrete field of ``model``."""
    return {f.name: connection.ops.quote_name(f.column) for f in model._meta.concrete_fields}
