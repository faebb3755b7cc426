from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from serviceloop.core.worker import run_worker


class Command(BaseCommand):
    help = "Run background work: event deliveries, scheduled sweeps and queued tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst", action="store_true", help="Do all work that is due now, then exit."
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between outbox polls (0.5)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Serviceloop worker started (Ctrl-C stops it).")
        try:
            run_worker(interval=options["interval"], burst=options["burst"])
        except KeyboardInterrupt:
            self.stdout.write("Worker stopped.")
