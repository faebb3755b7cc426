import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from serviceloop.inboxes import mail_sources, services
from serviceloop.inboxes.models import InboundMessage, Inbox


class Command(BaseCommand):
    help = "Import mail (Maildir, mbox, folder of .eml, or - for stdin) or reprocess stored mail."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser(
            "import", help="Import messages; ends with 'N imported, N duplicates, N failed'."
        )
        importing.add_argument("path", help="a Maildir, an mbox file, a folder of .eml, or -")
        importing.add_argument(
            "--inbox", default="", help="the inbox address (default: the only or first inbox)"
        )
        importing.add_argument("--no-progress", action="store_true")
        importing.add_argument(
            "--batch",
            type=int,
            default=50,
            help="messages stored per transaction (default 50; a batch also ends at 32 MiB "
            "of mail); a crash loses at most one batch, which the next run imports",
        )
        reprocess = actions.add_parser(
            "reprocess", help="Run stored messages that made no ticket message through again."
        )
        reprocess.add_argument("--failed", action="store_true", help="only failed messages")

    def _inbox(self, address: str) -> Inbox | None:
        if address:
            inbox = Inbox.objects.filter(address=address.strip().lower()).first()
            if inbox is None:
                raise CommandError(
                    "There is no inbox %s; add it with `serviceloop inbox add %s`."
                    % (address, address)
                )
            return inbox
        return Inbox.objects.filter(is_active=True).order_by("id").first()

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reprocess":
            self._reprocess(failed_only=options["failed"])
            return
        inbox = self._inbox(options["inbox"])
        counts = {"imported": 0, "duplicate": 0, "failed": 0}
        if options["path"] == "-":
            result = services.receive_raw_email(
                inbox=inbox, raw=sys.stdin.buffer.read(), via=InboundMessage.Via.IMPORT
            )
            counts[result.outcome] += 1
        else:
            path = Path(options["path"])
            if not path.exists():
                raise CommandError("%s does not exist." % path)
            progress = tqdm(
                total=mail_sources.count_messages(path),
                unit="msg",
                disable=options["no_progress"],
                file=sys.stderr,
            )
            source = (raw for _name, raw in mail_sources.raw_messages(path))
            batches = mail_sources.batches(source, max_count=options["batch"])
            for batch, parsed in mail_sources.parsed_ahead(batches):
                for result in services.import_raw_emails(
                    inbox=inbox, raws=batch, via=InboundMessage.Via.IMPORT, parsed=parsed
                ):
                    counts[result.outcome] += 1
                progress.update(len(batch))
            progress.close()
        self.stdout.write(
            "%(imported)s imported, %(duplicate)s duplicates, %(failed)s failed" % counts
        )

    def _reprocess(self, *, failed_only: bool) -> None:
        ids = services.inbound_messages_to_reprocess(failed_only=failed_only)
        states: dict[str, int] = {}
        for inbound_id in tqdm(ids, unit="msg", file=sys.stderr):
            state = services.reprocess_inbound(inbound_id=inbound_id)
            states[state] = states.get(state, 0) + 1
        self.stdout.write(
            "%s reprocessed: %s"
            % (len(ids), ", ".join("%s %s" % (n, s) for s, n in sorted(states.items())) or "none")
        )
