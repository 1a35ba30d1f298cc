"""Store credit now lives in loyalty (loyalty/0003): drop the returns tables.

Data: there is no production data yet, so this is a plain drop, not a copy; a database
holding real balances would need a data migration copying accounts and entries (with
``ret`` as the ``return:<number>`` reference) before this one.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_initial"),
        ("loyalty", "0003_store_credit"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="storecreditentry",
            name="account",
        ),
        migrations.RemoveField(
            model_name="storecreditentry",
            name="ret",
        ),
        migrations.DeleteModel(
            name="StoreCreditAccount",
        ),
        migrations.DeleteModel(
            name="StoreCreditEntry",
        ),
    ]
