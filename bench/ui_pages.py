"""Server time of the agent's queue page and ticket page over bulk-loaded tickets.

Reuses the ticket list benchmark's database (bench/bulk_load.py: 100k or 1M tickets) and
times the Django request handling in this process, with a signed-in agent session:

    GET /tickets/?view=open            the shared queue (counts, filters, first page)
    GET /tickets/<n>/?view=open        a ticket with its timeline, panels and neighbours

It also records how many SQL queries each page runs. Target: p95 <= 100 ms at 1M tickets
on PostgreSQL.

    python -m bench.ui_pages --db postgres --tickets 1000000
"""

import argparse
import sys
import time
from typing import Any

from bench import bulk_load, harness
from bench.ticket_list import size_label

TARGET_P95_MS = 100.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets in the database")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES)


def _time_page(client: Any, url: str, count: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise harness.BenchmarkFailed(f"GET {url}: HTTP {response.status_code}")
    queries = len(captured.captured_queries)
    latencies = []
    for _n in range(count):
        started = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise harness.BenchmarkFailed(f"GET {url}: HTTP {response.status_code}")
    return latencies, queries


def run(args: argparse.Namespace) -> int:
    label = size_label(args.tickets)
    target = harness.Target(db=args.db, name=label, postgres_server=args.postgres_url)
    load = bulk_load.ensure_loaded(target, args.tickets)

    from django.conf import settings
    from django.test import Client

    from serviceloop.tickets.models import Ticket

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    agent = harness.bench_agent("bench-ui")
    client = Client()
    client.force_login(agent)
    ticket = Ticket.objects.filter(status="open").order_by("-updated_at", "-id").first()
    if ticket is None:
        raise harness.BenchmarkFailed("The bench database holds no open ticket.")
    pages = {
        "queue": "/tickets/?view=open",
        "queue_filtered": "/tickets/?view=open&priority=high&sort=-created_at",
        "ticket": f"/tickets/{ticket.number}/?view=open",
    }
    figures: dict[str, Any] = {}
    for name, url in pages.items():
        latencies, queries = _time_page(client, url, args.requests)
        figures[name] = {"url": url, "sql_queries": queries, **harness.latency_summary(latencies)}
    worst = max(f["p95_ms"] for f in figures.values())
    result = {
        "db": args.db,
        "tickets": args.tickets,
        "requests_per_page": args.requests,
        "load": load,
        "pages": figures,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": worst <= TARGET_P95_MS,
    }
    path = harness.write_result(f"ui_pages-{args.db}-{label}", result)
    summary = ", ".join(
        f"{name} p95 {f['p95_ms']:.1f} ms ({f['sql_queries']} queries)"
        for name, f in figures.items()
    )
    print(f"ui_pages {args.db} {label}: {summary}; result {path.name}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ui_pages", description=__doc__)
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except harness.BenchmarkFailed as error:
        print(f"ui_pages: FAILED: {error}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
