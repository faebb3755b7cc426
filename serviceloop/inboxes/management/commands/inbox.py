from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from serviceloop.core.errors import DomainError
from serviceloop.inboxes import services
from serviceloop.inboxes.models import Inbox


class Command(BaseCommand):
    help = "Manage email inboxes: add, list."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Add an address the business owns.")
        add.add_argument("address")
        add.add_argument("--name", default="")
        add.add_argument("--imap-host", default="")
        add.add_argument("--imap-port", type=int, default=None)
        add.add_argument(
            "--imap-security", choices=[c.value for c in Inbox.ImapSecurity], default="ssl"
        )
        add.add_argument("--imap-username", default="")
        add.add_argument("--imap-password", default="")
        add.add_argument("--imap-folder", default="INBOX")
        add.add_argument("--imap-move-to", default="", help="move imported mail here")
        add.add_argument("--no-acknowledgement", action="store_true")
        actions.add_parser("list", help="List inboxes.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for inbox in Inbox.objects.all():
                imap = (
                    "imap %s@%s/%s" % (inbox.imap_username, inbox.imap_host, inbox.imap_folder)
                    if inbox.has_imap
                    else "no imap"
                )
                self.stdout.write(
                    "%s\t%s\t/contact/%s/\t%s\t%s"
                    % (
                        inbox.pk,
                        inbox.address,
                        inbox.slug,
                        imap,
                        "active" if inbox.is_active else "inactive",
                    )
                )
            return
        settings: dict[str, Any] = {
            "imap_host": options["imap_host"],
            "imap_port": options["imap_port"],
            "imap_security": options["imap_security"],
            "imap_username": options["imap_username"],
            "imap_password": options["imap_password"],
            "imap_folder": options["imap_folder"],
            "send_acknowledgement": not options["no_acknowledgement"],
        }
        if options["name"]:
            settings["name"] = options["name"]
        if options["imap_move_to"]:
            settings["imap_after_import"] = Inbox.ImapAfterImport.MOVE
            settings["imap_move_to"] = options["imap_move_to"]
        try:
            inbox = services.create_inbox(actor=None, address=options["address"], **settings)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            "Inbox %s: %s (contact page /contact/%s/)" % (inbox.pk, inbox.address, inbox.slug)
        )
