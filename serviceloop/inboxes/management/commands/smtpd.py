import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from serviceloop.inboxes.smtp_server import make_controller


class Command(BaseCommand):
    help = "Receive mail over SMTP; the recipient address chooses the inbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        # Handlers first: a supervisor may stop us as soon as we say we are ready.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_args: stop.set())
        controller = make_controller(options["host"], options["port"])
        controller.start()
        self.stdout.write("Receiving mail on %s:%s" % (options["host"], options["port"]))
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
