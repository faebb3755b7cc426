from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from serviceloop.accounts import services
from serviceloop.accounts.models import ApiToken, User
from serviceloop.core import clock
from serviceloop.core.errors import DomainError


class Command(BaseCommand):
    help = "Manage personal API tokens: create, list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Issue a token; it is printed once, last.")
        create.add_argument("username")
        create.add_argument("--scope", choices=["read", "write"], default="read")
        create.add_argument("--name", default="")
        listing = actions.add_parser("list", help="List a user's tokens (never the secrets).")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("token_id", type=int)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError("There is no user %r." % username)
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = self._user(options["username"])
            try:
                token, key = services.create_api_token(
                    owner=user, scope=options["scope"], name=options["name"]
                )
            except DomainError as error:
                raise CommandError(error.message) from None
            self.stderr.write(
                "Token %s (%s) for %s. Store it now; it is not shown again:"
                % (token.pk, token.scope, user.username)
            )
            self.stdout.write(key)
        elif action == "list":
            user = self._user(options["username"])
            for token in ApiToken.objects.filter(user=user):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.pk}\t{token.prefix}…\t{token.scope}\t{state}\t{token.name}"
                )
        else:
            found = ApiToken.objects.filter(pk=options["token_id"]).first()
            if found is None:
                raise CommandError("There is no token %s." % options["token_id"])
            if found.revoked_at is None:
                found.revoked_at = clock.now()
                found.save(update_fields=["revoked_at"])
            self.stdout.write("Token %s revoked." % found.pk)
