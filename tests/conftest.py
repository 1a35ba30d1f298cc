"""Shared fixtures. ``api_for(role, locations=...)`` gives a DRF client holding a real token."""

from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from rest_framework.test import APIClient

from config.api.roles import Role
from config.api.services import create_api_client
from tests.factories import StoreFactory, WarehouseFactory


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_broker = pytest.mark.skip(reason="needs a real broker: set CELERY_BROKER_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and engine != "django.db.backends.postgresql":
            item.add_marker(skip_pg)
        if "broker" in item.keywords and settings.CELERY_TASK_ALWAYS_EAGER:
            item.add_marker(skip_broker)


@pytest.fixture(autouse=True)
def _isolated_cache_and_eager_tasks(request):
    """Throttle buckets and login counters live in the cache: start every test with an empty
    one. Tasks run in-process unless a test is marked ``broker`` (a real worker on Redis),
    so ``.delay()`` in a test never leaves messages in a real queue."""
    from django.core.cache import cache

    from config.celery import app

    cache.clear()
    # The app reads Django settings under the CELERY_ namespace, so that is the key to set.
    eager = app.conf.CELERY_TASK_ALWAYS_EAGER
    if "broker" not in request.keywords:
        app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = eager
    cache.clear()


# Rows that data migrations create and tests rely on: (migration module, function).
DATA_MIGRATIONS = [
    ("inventory.migrations.0002_default_channels", "create_channels"),
    ("loyalty.migrations.0002_default_programme", "add_defaults"),
]


@pytest.fixture(autouse=True)
def _rows_from_data_migrations(request):
    """A transactional test ends with a flush, which also empties what data migrations made
    (channels ``web`` and ``pos``, the loyalty programme and its tiers). Put those rows back
    before every test that uses the database, with the migrations' own idempotent code."""
    from pytest_django.plugin import is_django_unittest

    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if not uses_db or is_django_unittest(request):
        return
    request.getfixturevalue("_django_db_helper")
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(django_apps, None)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def api_for(db):
    """``api_for(Role.POS, locations=["STORE-001"])`` → an APIClient authenticated as that role."""

    def make(role: Role | str, *, locations=(), customer_id=None, name=None) -> APIClient:
        role = Role(role)
        _, key = create_api_client(
            name=name or f"test {role}",
            role=role,
            location_codes=list(locations),
            customer_id=customer_id,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.principal_locations = list(locations)
        return client

    return make


@pytest.fixture
def store(db):
    return StoreFactory(code="STORE-001")


@pytest.fixture
def other_store(db):
    return StoreFactory(code="STORE-002", latitude="52.090737", longitude="5.121420")


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="WH-01")


@pytest.fixture
def merchandiser(api_for):
    return api_for(Role.MERCHANDISER)


@pytest.fixture
def storefront(api_for):
    return api_for(Role.STOREFRONT)


@pytest.fixture
def pos(api_for, store):
    return api_for(Role.POS, locations=[store.code])


@pytest.fixture
def store_staff(api_for, store):
    return api_for(Role.STORE_STAFF, locations=[store.code])


@pytest.fixture
def customer_api(api_for):
    return api_for(Role.CUSTOMER, customer_id=1)
