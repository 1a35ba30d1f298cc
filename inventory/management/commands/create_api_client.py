from django.core.management.base import BaseCommand, CommandError

from config.api.errors import DomainError
from config.api.roles import Role
from config.api.services import create_api_client
from inventory.models import Location


class Command(BaseCommand):
    help = "Create an API client with a role (and locations) and print its token as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--role", required=True, choices=[role.value for role in Role if role != Role.CUSTOMER]
        )
        parser.add_argument(
            "--location",
            action="append",
            default=[],
            dest="locations",
            metavar="CODE",
            help="A location code; repeat for store staff at several locations. POS: exactly one store.",
        )

    def handle(self, *args, name, role, locations, **options):
        role = Role(role)
        found = {loc.code: loc for loc in Location.objects.filter(code__in=locations)}
        missing = sorted(set(locations) - set(found))
        if missing:
            raise CommandError(f"Unknown location(s): {', '.join(missing)}")
        if role == Role.POS and any(loc.type != Location.Type.STORE for loc in found.values()):
            raise CommandError("A POS terminal belongs to a store, not a warehouse.")
        try:
            client, key = create_api_client(name=name, role=role, location_codes=locations)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        where = f" at {', '.join(client.location_codes)}" if client.location_codes else ""
        self.stdout.write(f"Created {role.label.lower()} client {client.name!r}{where}. Token:")
        self.stdout.write(key)
