"""The `serviceloop` command: the operator's entry point.

`serviceloop run | demo | worker | createadmin | token | check | smtpd ...`; any other
Django management command works too (`serviceloop migrate`, `serviceloop shell`).
"""

import os
import sys

# Our names for commands whose Django names are taken or less clear.
ALIASES = {"check": "check_setup"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    if args and args[0] == "worker":
        # RQ forks a child per job; pooled connections would be shared across the fork.
        # The worker's few threads keep ordinary persistent connections instead.
        os.environ.setdefault("SERVICELOOP_DATABASE_POOL", "false")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["serviceloop", *args])


if __name__ == "__main__":
    main()
