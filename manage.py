#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    from serviceloop.cli import choose_database_pool

    # The same choice as the `serviceloop` command: `manage.py migrate` needs no pool.
    if len(sys.argv) > 1:
        choose_database_pool(sys.argv[1])
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
