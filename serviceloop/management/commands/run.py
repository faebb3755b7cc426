import os
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from serviceloop.accounts import services as accounts
from serviceloop.accounts.models import Role, User
from serviceloop.core.models import SetupStep
from serviceloop.demo import DEMO_STEP


class Command(BaseCommand):
    help = (
        "Prepare and serve Serviceloop: migrate, load demo data once, make sure an admin "
        "exists, then run the ASGI server and a background worker (Ctrl-C stops both)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--web-workers",
            type=int,
            default=int(os.environ.get("WEB_WORKERS", "1")),
            help="Server processes (use more only with PostgreSQL).",
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"] and not SetupStep.objects.filter(name=DEMO_STEP).exists():
            self.stdout.write("Loading demo data (once)…")
            try:
                # The demo marks itself loaded, and refuses a database with real data in it.
                call_command("demo")
            except CommandError as refusal:
                self.stdout.write("No demo data: %s" % refusal)
        self._print_admin_credentials()
        self._serve(options["host"], options["port"], options["web_workers"])

    def _print_admin_credentials(self) -> None:
        credentials = settings.VAR_DIR / "admin-credentials.txt"
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            password = secrets.token_urlsafe(12)
            accounts.create_agent(
                actor=None,
                username="admin",
                role=Role.ADMIN,
                password=password,
                first_name="Admin",
            )
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            credentials.write_text(password)
            credentials.chmod(0o600)
            admin = User.objects.get(username="admin")
        self.stdout.write("Sign in at the admin account:")
        self.stdout.write("Username: admin")
        saved = credentials.read_text().strip() if credentials.exists() else ""
        if saved and admin.check_password(saved):
            self.stdout.write(f"Password: {saved}")
        else:
            self.stdout.write(
                "Password: (changed since it was created; `serviceloop createadmin --reset` "
                "sets a new one)"
            )

    def _serve(self, host: str, port: int, web_workers: int) -> None:
        python = sys.executable
        worker = subprocess.Popen([python, "-m", "serviceloop.cli", "worker"])
        server = subprocess.Popen(
            [
                python,
                "-m",
                "uvicorn",
                "serviceloop.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(web_workers),
                "--lifespan",
                "off",
                "--no-access-log",
            ]
        )
        self.stdout.write(f"Serviceloop is running at http://{host}:{port}/ (Ctrl-C stops it).")
        processes = [server, worker]
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        failed = [p for p in processes if p.returncode not in (0, -signal.SIGINT, None)]
        if failed and not all(p.returncode in (0, -2, 130) for p in processes):
            self.stderr.write("A Serviceloop process stopped unexpectedly; see the output above.")
            sys.exit(1)
        self.stdout.write("Serviceloop stopped.")
