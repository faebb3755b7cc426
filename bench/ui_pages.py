"""Server time of the agent's queue page and ticket page over bulk-loaded tickets.

Reuses the ticket list benchmark's database (bench/bulk_load.py: 100k or 1M tickets) and
times the Django request handling in this process, signed in as an agent of the biggest
team (so "my open tickets" and "my teams" hold tickets):

    GET /tickets/?view=<view>          every built-in view: counts, filters, first page
    GET /tickets/?view=open&priority=high&sort=-created_at     a filtered, re-sorted view
    GET /tickets/?view=open&cursor=... the next page of a view
    GET /tickets/<n>/?view=mine        a ticket with a conversation, panels and neighbours

The ticket gets a conversation of CONVERSATION messages and a few changes the first time
(the bulk load writes no messages). Each page records p50/p95/p99, the SQL queries it
runs, and the CPU it cost per request in this process (Django) and in PostgreSQL; the
load average before and after says how busy the machine was. Target: p95 <= 100 ms at 1M
tickets on PostgreSQL.

    python -m bench ui --db postgres --tickets 1000000
"""

import argparse
import os
import re
import sys
import time
from typing import Any

from bench import bulk_load, harness
from bench.ticket_list import size_label

TARGET_P95_MS = 100.0
QUEUE_VIEWS = ("mine", "unassigned", "my-teams", "open", "pending", "on-hold", "solved")
CONVERSATION = 12


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets in the database")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES)


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise harness.BenchmarkFailed(f"GET {url}: HTTP {response.status_code}")
    return response


def _time_page(client: Any, url: str, count: int, database: str) -> dict[str, Any]:
    from django.db import connection

    queries = []

    def count_query(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    # An execute wrapper, not CaptureQueriesContext: that context slices the connection's
    # query log, which each later request of the test client empties, so reading it
    # after the timed requests reported 0 queries.
    with connection.execute_wrapper(count_query):
        _get(client, url)  # also the warm-up
    latencies = []
    before = harness.sample_cpu(None, database=database)
    for _n in range(count):
        started = time.perf_counter()
        _get(client, url)
        latencies.append(time.perf_counter() - started)
    after = harness.sample_cpu(None, database=database)
    cpu = harness.cpu_usage(before, after, requests=count)["ms_per_request"]
    return {
        "url": url,
        "sql_queries": len(queries),
        **harness.latency_summary(latencies),
        "cpu_ms_per_request": {
            "django": cpu["client"],
            "postgres_own_backends": cpu["postgres_own_backends"],
        },
    }


def _queue_agent() -> Any:
    """An agent of the biggest team of the bulk load, with tickets of their own."""
    from serviceloop.accounts.models import User

    agent = User.objects.filter(teams__name=bulk_load.TEAMS[0], is_active=True).order_by("pk")
    return agent.first() or harness.bench_agent("bench-ui")


def _ticket_with_conversation(agent: Any) -> Any:
    """The agent's most recently updated open ticket, given a conversation once."""
    from serviceloop.tickets import services
    from serviceloop.tickets.models import Ticket

    ticket = (
        Ticket.objects.filter(assignee=agent, status="open").order_by("-updated_at", "-id").first()
    )
    if ticket is None:
        raise harness.BenchmarkFailed("The bench database holds no open ticket of the agent.")
    for n in range(CONVERSATION - ticket.messages.count()):
        body = f"Message {n} about the order: where it is, what went wrong, what happens next."
        if n % 3 == 0:
            services.add_customer_message(ticket_id=ticket.pk, customer=ticket.requester, body=body)
        elif n % 3 == 1:
            services.reply_to_ticket(number=ticket.number, agent=agent, body=body)
        else:
            services.add_internal_note(number=ticket.number, agent=agent, body=body)
            services.update_ticket(
                number=ticket.number,
                agent=agent,
                changes=services.TicketChanges(add_tags=[f"bench-{n}"]),
            )
    return Ticket.objects.get(pk=ticket.pk)


def run(args: argparse.Namespace) -> int:
    label = size_label(args.tickets)
    target = harness.Target(db=args.db, name=label, postgres_server=args.postgres_url)
    load = bulk_load.ensure_loaded(target, args.tickets)

    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    agent = _queue_agent()
    ticket = _ticket_with_conversation(agent)
    client = Client()
    client.force_login(agent)
    first_page = _get(client, "/tickets/?view=open").text
    next_link = re.search(r'href="\?([^"]*cursor=[^"]*)" rel="next"', first_page)
    if next_link is None:
        raise harness.BenchmarkFailed("The open view has no next page.")
    pages = {f"queue_{slug.replace('-', '_')}": f"/tickets/?view={slug}" for slug in QUEUE_VIEWS}
    pages["queue_filtered"] = "/tickets/?view=open&priority=high&sort=-created_at"
    pages["queue_next_page"] = "/tickets/?" + next_link.group(1).replace("&amp;", "&")
    pages["ticket"] = f"/tickets/{ticket.number}/?view=mine"
    load_before = [round(v, 2) for v in os.getloadavg()]
    figures = {
        name: _time_page(client, url, args.requests, target.postgres_backends)
        for name, url in pages.items()
    }
    worst = max(f["p95_ms"] for f in figures.values())
    result = {
        "db": args.db,
        "tickets": args.tickets,
        "requests_per_page": args.requests,
        "agent": agent.username,
        "load": load,
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "pages": figures,
        "target_p95_ms": TARGET_P95_MS,
        "target_applies": args.db == "postgres" and args.tickets >= 1_000_000,
        "meets_target": worst <= TARGET_P95_MS,
    }
    path = harness.write_result(f"ui_pages-{args.db}-{label}", result)
    summary = ", ".join(
        f"{name} {f['p50_ms']:.0f}/{f['p95_ms']:.0f} ms ({f['sql_queries']} q)"
        for name, f in figures.items()
    )
    verdict = ""
    if result["target_applies"]:
        met = "MET" if result["meets_target"] else "MISSED"
        verdict = f", target {TARGET_P95_MS:.0f} ms {met}"
    print(
        f"ui {args.db} {label}: p50/p95 {summary}; worst p95 {worst:.0f} ms{verdict} "
        f"(load {load_before[0]}); result {path.name}",
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ui", description=__doc__)
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except harness.BenchmarkFailed as error:
        print(f"ui: FAILED: {error}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
