import errno
import os
import secrets
import signal
import socket
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

# How long the web server and the worker get to finish what they are doing after Ctrl-C.
STOP_SECONDS = 15


def web_server_command(host: str, port: int, *, workers: int, threads: int) -> list[str]:
    """The production web server: granian running Django's WSGI handler (serviceloop/wsgi.py).

    Each of `workers` processes runs requests on `threads` threads. The benchmarks start
    the server with this same command.
    """
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "serviceloop.wsgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--no-ws",
        "--log-level",
        "warning",
    ]


def _refuse_a_taken_address(host: str, port: int) -> None:
    """Say so at once when the address cannot be served, before preparing anything."""
    try:
        socket.getaddrinfo(host, port)
    except socket.gaierror as error:
        raise CommandError(
            f"Cannot serve at {host}:{port}: {error.strerror}. Check --host (or HOST)."
        ) from None
    try:
        # As the web server will: SO_REUSEADDR, so a port left in TIME_WAIT is free.
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        hint = (
            "Stop what uses it, or choose another port with --port (or PORT)."
            if error.errno == errno.EADDRINUSE
            else "Check --host (or HOST)."
        )
        raise CommandError(
            f"Cannot serve at {host}:{port}: {os.strerror(error.errno or 0)}. {hint}"
        ) from None


class Command(BaseCommand):
    help = (
        "Prepare and serve Serviceloop: migrate, load demo data once, make sure an admin "
        "exists, then run the web server and a background worker (Ctrl-C stops both)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.SERVICELOOP_HOST)
        parser.add_argument("--port", type=int, default=settings.SERVICELOOP_PORT)
        parser.add_argument(
            "--web-workers",
            type=int,
            default=settings.SERVICELOOP_WEB_WORKERS,
            help="Server processes (use more only with PostgreSQL).",
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args: Any, **options: Any) -> None:
        _refuse_a_taken_address(options["host"], options["port"])
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
        # Each process leads a process group of its own, so Ctrl-C, which the terminal
        # sends to this command's group, reaches only this command, and it asks each process
        # to stop exactly once: a second SIGINT makes the worker abandon the task it runs.
        processes = {
            "web server": subprocess.Popen(
                web_server_command(
                    host, port, workers=web_workers, threads=settings.SERVICELOOP_WEB_THREADS
                ),
                process_group=0,
            ),
            "worker": subprocess.Popen(
                [sys.executable, "-m", "serviceloop.cli", "worker"], process_group=0
            ),
        }
        self.stdout.write(f"Serviceloop is running at http://{host}:{port}/ (Ctrl-C stops it).")
        # SIGTERM (a service manager, `docker stop`) stops it the way Ctrl-C does, and so
        # does SIGINT even when it was started in the background of a script, which
        # ignores SIGINT in what it starts.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + STOP_SECONDS
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    # The process and its group: the web server with its worker processes.
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        # A process stopped by Ctrl-C exits with 0, or by the signal if it was still starting.
        failed = [
            f"the {name} (exit status {process.returncode})"
            for name, process in processes.items()
            if process.returncode not in (0, -signal.SIGINT)
        ]
        if failed:
            self.stderr.write(
                "Serviceloop stopped: %s ended unexpectedly; see the output above."
                % " and ".join(failed)
            )
            sys.exit(1)
        self.stdout.write("Serviceloop stopped.")
