from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The API floor: clients and tokens, roles, idempotency records. Imports no domain app."""

    name = "config.api"
    label = "api"
    verbose_name = "API clients"
