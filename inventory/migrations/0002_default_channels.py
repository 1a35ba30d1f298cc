from django.db import migrations

DEFAULT_CHANNELS = [
    {"code": "web", "name": "Web shop", "currency": "EUR", "prices_include_tax": True},
    {"code": "pos", "name": "Stores (POS)", "currency": "EUR", "prices_include_tax": True},
]


def create_channels(apps, schema_editor):
    Channel = apps.get_model("inventory", "Channel")
    for fields in DEFAULT_CHANNELS:
        Channel.objects.get_or_create(code=fields["code"], defaults=fields)


def remove_channels(apps, schema_editor):
    Channel = apps.get_model("inventory", "Channel")
    Channel.objects.filter(code__in=[c["code"] for c in DEFAULT_CHANNELS]).delete()


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(create_channels, remove_channels)]
