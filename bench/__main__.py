"""`python -m bench`: every benchmark at the sizes the issues name, or one of them.

python -m bench                                    # all of them, one process each
python -m bench create --db postgres --count 3000 --clients 8
python -m bench list --db sqlite --tickets 1000000
python -m bench ui --db postgres --tickets 1000000        # the queue and ticket pages
python -m bench mail_import --db postgres                 # any bench/<module>.py
"""

import argparse
import importlib
import subprocess
import sys
import time
from typing import Any

from bench import harness, ticket_create, ticket_list, ui_pages

# The default run. Each benchmark runs in its own process: Django is set up once per
# process, against that benchmark's own database. The list and UI page benchmarks share
# the bulk-loaded databases, so the 1M load happens once per database kind.
DEFAULT_RUN = [
    ["create", "--db", "sqlite"],
    ["create", "--db", "postgres"],
    ["list", "--db", "sqlite", "--tickets", "100000"],
    ["list", "--db", "postgres", "--tickets", "100000"],
    ["list", "--db", "sqlite", "--tickets", "1000000"],
    ["list", "--db", "postgres", "--tickets", "1000000"],
    ["ui", "--db", "sqlite", "--tickets", "1000000"],
    ["ui", "--db", "postgres", "--tickets", "1000000"],
    ["mail_import", "--db", "sqlite"],
    ["mail_import", "--db", "postgres"],
]


BENCHMARKS: dict[str, Any] = {"create": ticket_create, "list": ticket_list, "ui": ui_pages}


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog="Every benchmark writes bench/results/*.json; see bench/README.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="benchmark")
    create = commands.add_parser("create", help="API ticket creation: tickets/s and latency")
    ticket_create.add_arguments(create)
    listing = commands.add_parser("list", help="ticket list API at 100k/1M tickets")
    ticket_list.add_arguments(listing)
    ui = commands.add_parser("ui", help="queue and ticket page server time at 100k/1M tickets")
    ui_pages.add_arguments(ui)
    return main


def run_all() -> int:
    """Run every benchmark in its own process; exit non-zero if any of them failed."""
    failed = []
    started = time.monotonic()
    for arguments in DEFAULT_RUN:
        code = subprocess.call([sys.executable, "-m", "bench", *arguments], cwd=harness.REPO)
        if code:
            failed.append(" ".join(arguments))
    minutes = (time.monotonic() - started) / 60
    if failed:
        print(f"bench: {len(failed)} failed ({'; '.join(failed)}) in {minutes:.1f} min")
        return 1
    print(f"bench: all {len(DEFAULT_RUN)} benchmarks ran in {minutes:.1f} min")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return run_all()
    if argv[0] not in BENCHMARKS and not argv[0].startswith("-"):
        # Benchmarks with their own command line: bench/<name>.py with main(argv).
        try:
            module = importlib.import_module(f"bench.{argv[0]}")
        except ModuleNotFoundError as error:
            if error.name != f"bench.{argv[0]}":
                raise
            parser().error(f"there is no benchmark {argv[0]!r}")
        code: int = module.main(argv[1:])
        return code
    args = parser().parse_args(argv)
    benchmark = BENCHMARKS[args.benchmark]
    try:
        return benchmark.run(args)
    except harness.BenchmarkFailed as error:
        print(f"{args.benchmark} {args.db}: FAILED: {error}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
