import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from serviceloop.accounts import services
from serviceloop.accounts.models import Role, User
from serviceloop.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an admin who can sign in, and print the username and password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Default: a new random password.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="If the user exists, give them a new password (and the admin role).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        password = options["password"] or secrets.token_urlsafe(12)
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            if not options["reset"]:
                raise CommandError(
                    "%s exists already; add --reset to give them a new password." % username
                )
            existing.set_password(password)
            existing.role = Role.ADMIN
            existing.is_staff = existing.is_superuser = existing.is_active = True
            existing.save()
        else:
            try:
                services.create_agent(
                    actor=None,
                    username=username,
                    email=options["email"],
                    role=Role.ADMIN,
                    password=password,
                )
            except DomainError as error:
                raise CommandError(error.message) from None
        self.stdout.write(f"Username: {username}")
        self.stdout.write(f"Password: {password}")
