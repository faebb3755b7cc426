from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Check that this installation is ready to serve: settings, database, Redis, files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--deploy", action="store_true", help="Also run Django's production checks."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        try:
            call_command("check", deploy=options["deploy"], fail_level="ERROR")
        except (CommandError, SystemExit) as error:
            problems.append("Configuration: %s" % error)
        try:
            connection.ensure_connection()
            plan = MigrationExecutor(connection).migration_plan(
                MigrationExecutor(connection).loader.graph.leaf_nodes()
            )
            if plan:
                problems.append(
                    "The database needs %d migrations: run `serviceloop migrate`." % len(plan)
                )
            self.stdout.write(
                "Database: %s (%s) answers." % (connection.vendor, connection.settings_dict["NAME"])
            )
        except DatabaseError as error:
            problems.append("Database: cannot connect (%s)." % error)
        if settings.REDIS_URL:
            import redis

            try:
                redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3).ping()
                self.stdout.write("Redis: %s answers." % settings.REDIS_URL)
            except redis.RedisError as error:
                problems.append("Redis: cannot reach %s (%s)." % (settings.REDIS_URL, error))
        else:
            self.stdout.write("Redis: not configured (tasks in the database, in-memory realtime).")
        media = settings.MEDIA_ROOT
        try:
            media.mkdir(parents=True, exist_ok=True)
            probe = media / ".write-check"
            probe.write_text("ok")
            probe.unlink()
            self.stdout.write("Uploads: %s is writable." % media)
        except OSError as error:
            problems.append("Uploads: cannot write to %s (%s)." % (media, error))
        self.stdout.write("Email: %s" % (settings.EMAIL_HOST or "console (EMAIL_HOST not set)"))
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError("%d problem(s) found." % len(problems))
        self.stdout.write(self.style.SUCCESS("Everything looks ready."))
