"""factory_boy factories, all in one place."""

from decimal import Decimal

import factory

from inventory.models import SKU, Category, Channel, Location, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else ''}{o.code}/")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU
        django_get_or_create = ("sku",)

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    barcode = factory.Sequence(lambda n: f"871{n:010d}")
    name = factory.LazyAttribute(lambda o: o.product.name)
    attributes = factory.LazyFunction(lambda: {"size": "M", "colour": "red"})


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ch-{n}")
    name = factory.LazyAttribute(lambda o: o.code)
    currency = "EUR"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"LOC-{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")
    type = Location.Type.STORE
    latitude = Decimal("52.370216")
    longitude = Decimal("4.895168")
    timezone = "Europe/Amsterdam"
    pickup_enabled = True
    ship_enabled = False


class StoreFactory(LocationFactory):
    code = factory.Sequence(lambda n: f"STORE-{n:03d}")
    type = Location.Type.STORE
    pickup_enabled = True


class WarehouseFactory(LocationFactory):
    code = factory.Sequence(lambda n: f"WH-{n:02d}")
    type = Location.Type.WAREHOUSE
    pickup_enabled = False
    ship_enabled = True
