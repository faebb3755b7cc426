"""The `serviceloop` command: the operator's entry point.

`serviceloop run | demo | worker | createadmin | token | check | smtpd ...`; any other
Django management command works too (`serviceloop migrate`, `serviceloop shell`).
"""

import importlib
import os
import sys

# Our names for commands whose Django names are taken or less clear.
ALIASES = {"check": "check_setup"}

# Commands that serve web requests keep settings.py's PostgreSQL connection pool. `run`
# only prepares the database and then starts the web server and a worker, as child
# processes that inherit the environment and choose for themselves.
WEB_SERVERS = {"run", "runserver"}


def choose_database_pool(command: str) -> None:
    """Decide, before the settings load, whether this process may use a connection pool."""
    if command == "worker":
        # RQ forks a child per job, and a pool belongs to the whole process: the child
        # would take the parent's idle pooled sockets and both would talk over them at
        # once. Forced, so that SERVICELOOP_DATABASE_POOL=true exported for the web server
        # never reaches the worker.
        os.environ["SERVICELOOP_DATABASE_POOL"] = "false"
    elif command not in WEB_SERVERS:
        # migrate, demo, mail import, smtpd, shell...: one thread uses the database, so a
        # pool would only hold idle connections, and with a wrong DATABASE_URL they would
        # wait out the pool's timeout instead of failing at once with PostgreSQL's reason.
        os.environ.setdefault("SERVICELOOP_DATABASE_POOL", "false")


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    if args:
        choose_database_pool(args[0])
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # The settings read the environment: a variable whose value makes no sense stops
        # the command here, with a sentence rather than a traceback.
        importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    except ImproperlyConfigured as error:
        sys.exit(f"serviceloop: {error}")
    execute_from_command_line(["serviceloop", *args])


if __name__ == "__main__":
    main()
