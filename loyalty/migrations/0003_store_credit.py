"""Store credit moves to loyalty: a customer's balance, like points, below orders so that a
POS sale can spend it (returns/0002 drops the old tables).

Data: there is no production data yet, so the tables are created empty here and the returns
ones are dropped, not copied. The ``ret`` foreign key is gone: an entry's unique
``reference`` (``return:R-000001``, ``pos:P-000001:store_credit``) names what moved it.
"""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0002_default_programme"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoreCreditAccount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=254, unique=True)),
                ("currency", models.CharField(max_length=3)),
                (
                    "balance",
                    models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=12),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="loyalty.customer",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="StoreCreditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=12),
                ),
                ("reference", models.CharField(max_length=120, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="loyalty.storecreditaccount",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "store credit entries",
                "ordering": ["account", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="storecreditaccount",
            constraint=models.CheckConstraint(
                condition=models.Q(("balance__gte", 0)), name="store_credit_balance_not_negative"
            ),
        ),
    ]
