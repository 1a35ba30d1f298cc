"""Loyalty test data, made through the services (so every customer is enrolled)."""

import factory

from loyalty import services
from loyalty.models import Customer

PASSWORD = "correct-horse-battery-staple"


class CustomerFactory(factory.Factory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Anna"
    last_name = factory.Sequence(lambda n: f"Jansen {n}")
    phone = ""
    password = PASSWORD
    marketing_consent = False

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_customer(**kwargs)
