"""The programme's settings row and three tiers to start from; merchandisers change them in
the admin. Reversible: the reverse removes what this added, if nothing uses it yet."""

from decimal import Decimal

from django.db import migrations

TIERS = [
    ("member", "Member", 0, Decimal("0.00"), Decimal("1.000")),
    ("silver", "Silver", 1, Decimal("500.00"), Decimal("1.250")),
    ("gold", "Gold", 2, Decimal("1500.00"), Decimal("1.500")),
]


def add_defaults(apps, schema_editor):
    LoyaltyProgram = apps.get_model("loyalty", "LoyaltyProgram")
    Tier = apps.get_model("loyalty", "Tier")
    LoyaltyProgram.objects.get_or_create(pk=1)
    for code, name, rank, spend, multiplier in TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "qualifying_spend": spend,
                "points_multiplier": multiplier,
            },
        )


def remove_defaults(apps, schema_editor):
    Tier = apps.get_model("loyalty", "Tier")
    Tier.objects.filter(code__in=[code for code, *_ in TIERS], accounts__isnull=True).delete()
    apps.get_model("loyalty", "LoyaltyProgram").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
