"""``create_store_staff USERNAME --location CODE [--location CODE ...] [--password ...]``:
a Django user who signs in at ``/store/`` and works at those locations (an ``ApiClient``
with role ``store_staff`` bound to the user)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.api.errors import DomainError
from config.api.models import ApiClient
from config.api.roles import Role
from config.api.services import create_api_client
from inventory import selectors as inventory_selectors


class Command(BaseCommand):
    help = "Create (or re-bind) a store-staff user for the click-and-collect screens at /store/."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--location",
            action="append",
            required=True,
            dest="locations",
            metavar="CODE",
            help="A store or warehouse code; repeat for several.",
        )
        parser.add_argument(
            "--password", help="Without it the user has no usable password until one is set."
        )

    def handle(self, *args, username, locations, password=None, **options):
        codes = sorted(set(locations))
        found = set(
            inventory_selectors.locations(codes=frozenset(codes)).values_list("code", flat=True)
        )
        missing = [code for code in codes if code not in found]
        if missing:
            raise CommandError(f"Unknown location(s): {', '.join(missing)}")
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(username=username)
            if password:
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.save()
            binding = ApiClient.objects.filter(user=user).first()
            if binding is not None and binding.role != Role.STORE_STAFF:
                raise CommandError(f"{username} is already bound as {binding.role}.")
            if binding is None:
                try:
                    create_api_client(
                        name=f"store staff {username}",
                        role=Role.STORE_STAFF,
                        location_codes=codes,
                        user=user,
                    )
                except DomainError as exc:
                    raise CommandError(exc.detail) from exc
            else:
                binding.location_codes, binding.active = codes, True
                binding.save(update_fields=["location_codes", "active"])
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} store staff {username} at {', '.join(codes)}.")
