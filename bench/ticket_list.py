"""The ticket list API over 100k or 1M bulk-loaded tickets: the first page and a deep page.

The query is a team's open queue, newest change first:
GET /api/v1/tickets?status=open&team=<the biggest team>&sort=-updated_at&limit=50.
The benchmark follows the `next` cursor --depth pages deep (by default halfway down the
queue), checking every page is in order, filtered and without repeats, then times that
deep cursor and the first page --requests times each. Keyset pagination should make both
cost the same.

On PostgreSQL it also runs EXPLAIN (ANALYZE, BUFFERS) on the exact SQL of both pages, to
check the planner walks ticket_queue_idx (status, team, updated_at, id) without a sort;
on SQLite it records EXPLAIN QUERY PLAN.
"""

import argparse
import re
import threading
import time
from datetime import datetime
from typing import Any

import httpx

from bench import bulk_load, harness

TARGET_P95_MS = 50.0  # at 1M tickets on PostgreSQL
QUEUE_INDEX = "ticket_queue_idx"
PAGE_SIZE = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets in the database")
    parser.add_argument(
        "--depth",
        type=int,
        default=None,
        help="pages to follow for the deep page (default: half the queue's pages, at most 1000)",
    )
    parser.add_argument(
        "--requests", type=int, default=300, help="timed requests per page (default 300)"
    )
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients (default 1)")
    parser.add_argument(
        "--reload", action="store_true", help="load the tickets again even if they are there"
    )
    harness.add_server_arguments(parser, default_workers="1 on SQLite, 2 on PostgreSQL")


def size_label(tickets: int) -> str:
    if tickets % 1_000_000 == 0:
        return f"{tickets // 1_000_000}m"
    if tickets % 1000 == 0:
        return f"{tickets // 1000}k"
    return str(tickets)


class PageCheck:
    """What every page of the walk must satisfy: filtered, in order, no ticket twice."""

    def __init__(self, team_id: int) -> None:
        self.team_id = team_id
        self.seen: set[int] = set()
        self.last: tuple[datetime, int] | None = None
        self.problems: list[str] = []

    def check(self, page: int, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = (datetime.fromisoformat(item["updated_at"]), item["number"])
            if item["status"] != "open" or (item["team"] or {}).get("id") != self.team_id:
                self.problems.append(f"page {page}: #{item['number']} is not an open team ticket")
            if item["number"] in self.seen:
                self.problems.append(f"page {page}: #{item['number']} shown twice")
            if self.last is not None and key[0] > self.last[0]:
                self.problems.append(f"page {page}: #{item['number']} is out of order")
            self.seen.add(item["number"])
            self.last = key


def timed_requests(
    url: str, key: str, params: dict[str, Any], *, count: int, clients: int
) -> tuple[list[float], list[str]]:
    """GET the list `count` times from `clients` threads; (latencies, errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = iter(range(count))

    def client() -> None:
        mine: list[float] = []
        failures: list[str] = []
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as http:
            for _n in remaining:
                started = time.perf_counter()
                try:
                    response = http.get("/api/v1/tickets", params=params)
                except httpx.HTTPError as error:
                    failures.append(f"{type(error).__name__}: {error}")
                    continue
                mine.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
        with lock:
            latencies.extend(mine)
            errors.extend(failures)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def walk(
    http: httpx.Client, params: dict[str, Any], *, depth: int, team_id: int
) -> tuple[list[str], list[float], list[str]]:
    """Follow `next` up to `depth` pages; (cursors, page latencies, problems)."""
    check = PageCheck(team_id)
    cursors: list[str] = []
    latencies: list[float] = []
    cursor: str | None = None
    for page in range(1, depth + 1):
        started = time.perf_counter()
        response = http.get(
            "/api/v1/tickets", params={**params, "cursor": cursor} if cursor else params
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            check.problems.append(f"page {page}: HTTP {response.status_code}")
            break
        body = response.json()
        check.check(page, body["items"])
        cursor = body["next"]
        if cursor is None:
            break
        cursors.append(cursor)
    return cursors, latencies, check.problems


def list_sql(agent: Any, team_id: int, cursor: str | None) -> str:
    """The exact SQL the list endpoint runs for the tickets of this page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from serviceloop.tickets import queries

    filters = queries.TicketFilters(status=["open"], team=team_id)
    with CaptureQueriesContext(connection) as captured:
        queries.ticket_page(agent, filters, sort="-updated_at", limit=PAGE_SIZE, cursor=cursor)
    for query in captured.captured_queries:
        if 'FROM "tickets_ticket"' in query["sql"] and "ORDER BY" in query["sql"]:
            return str(query["sql"])
    raise harness.BenchmarkFailed("Could not find the ticket list query among the queries run.")


def explain(sql: str) -> dict[str, Any]:
    """How the database runs the list query, and how long it takes inside the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timings.append(time.perf_counter() - started)
        if connection.vendor == "postgresql":
            for _ in range(3):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = [row[3] for row in cursor.fetchall()]
    text = "\n".join(plan)
    found = {
        name: float(match.group(1))
        for name, pattern in (
            ("planning_ms", r"Planning Time: ([\d.]+) ms"),
            ("execution_ms", r"Execution Time: ([\d.]+) ms"),
        )
        if (match := re.search(pattern, text))
    }
    sorts = [line.strip() for line in plan if re.search(r"\bSort\b|TEMP B-TREE", line)]
    # The index the tickets are read through: "Index Scan Backward using X on
    # tickets_ticket", "Bitmap Index Scan on X" (PostgreSQL) or "SEARCH tickets_ticket
    # USING INDEX X" (SQLite).
    index = re.search(
        r"using (\w+) on tickets_ticket |Bitmap Index Scan on (\w+)"
        r"|(?:SEARCH|SCAN) tickets_ticket USING (?:COVERING )?INDEX (\w+)",
        text,
    )
    return {
        "ticket_index": next((name for name in index.groups() if name), None) if index else None,
        "uses_queue_index": QUEUE_INDEX in text,
        "sorts": sorts,
        "sql_from_client": harness.latency_summary(timings),
        **found,
        "plan": plan,
    }


def ticket_indexes() -> list[str]:
    """The indexes on tickets_ticket: a database migrated by newer code may have more."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "tickets_ticket")
    return sorted(name for name, info in constraints.items() if info["index"])


def run(args: argparse.Namespace) -> int:
    workers = args.workers or (2 if args.db == "postgres" else 1)
    label = size_label(args.tickets)
    target = harness.Target(db=args.db, name=label, postgres_server=args.postgres_url)
    if args.reload:
        harness.create_empty_database(target)
    load = bulk_load.ensure_loaded(target, args.tickets)

    from serviceloop.accounts.models import ApiToken, Team
    from serviceloop.tickets.models import Ticket

    team_id = Team.objects.get(name=bulk_load.TEAMS[0]).pk
    queue_size = Ticket.objects.filter(status="open", team_id=team_id).count()
    agent = harness.bench_agent()
    key = harness.api_token(agent, ApiToken.Scope.READ)
    params = {"status": "open", "team": team_id, "sort": "-updated_at", "limit": PAGE_SIZE}
    extra_env = harness.server_env(args.server_env)

    load_before = harness.machine()["load_average"]
    with (
        harness.Server(target, workers=workers, extra_env=extra_env) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as http,
    ):
        for _ in range(20 * workers):
            http.get("/api/v1/tickets", params=params)
        # Halfway down the queue by default: there an index walk that skips the pages before
        # the cursor, and a sort of every row after it, both show up.
        depth = args.depth or min(1000, max(2, -(-queue_size // PAGE_SIZE) // 2))
        cursors, walk_latencies, problems = walk(http, params, depth=depth, team_id=team_id)
        if not cursors:
            raise harness.BenchmarkFailed("The queue has a single page; load more tickets.")
        deep_page = len(cursors) + 1
        deep_cursor = cursors[-1]
        before = harness.sample_cpu(server, database=target.postgres_backends)
        first, first_errors = timed_requests(
            server.url, key, params, count=args.requests, clients=args.clients
        )
        deep, deep_errors = timed_requests(
            server.url,
            key,
            {**params, "cursor": deep_cursor},
            count=args.requests,
            clients=args.clients,
        )
        after = harness.sample_cpu(server, database=target.postgres_backends)
        cpu = harness.cpu_usage(before, after, requests=len(first) + len(deep))

    plans = {
        "first_page": explain(list_sql(agent, team_id, None)),
        "deep_page": explain(list_sql(agent, team_id, deep_cursor)),
    }
    errors = first_errors + deep_errors + problems
    first_summary = harness.latency_summary(first)
    deep_summary = harness.latency_summary(deep)
    worst_p95 = max(first_summary["p95_ms"], deep_summary["p95_ms"])
    meets = worst_p95 <= TARGET_P95_MS
    per_page = [round(s * 1000, 2) for s in walk_latencies]
    result = {
        "database": args.db,
        "tickets": args.tickets,
        "open_tickets_in_team": queue_size,
        "load": load,
        "server": {"workers": workers, "extra_env": extra_env},
        "clients": args.clients,
        "requests_per_page": args.requests,
        "query": "/api/v1/tickets?" + "&".join(f"{k}={v}" for k, v in params.items()),
        "first_page": first_summary,
        "deep_page": {"page": deep_page, **deep_summary},
        "walk": {
            "pages": len(walk_latencies),
            "first_10_pages_p50_ms": harness.latency_summary(walk_latencies[:10]).get("p50_ms"),
            "last_10_pages_p50_ms": harness.latency_summary(walk_latencies[-10:]).get("p50_ms"),
            "page_ms": per_page,
        },
        "plans": plans,
        "ticket_indexes": ticket_indexes(),
        "errors": len(errors),
        "error_samples": errors[:10],
        "cpu": cpu,
        "load_average_before": load_before,
        "target": {
            "p95_ms": TARGET_P95_MS,
            "applies": args.db == "postgres" and args.tickets >= 1_000_000,
            "met": meets,
        },
    }
    path = harness.write_result(f"list-{args.db}-{label}", result)
    indexes = ", ".join(
        f"{page.split('_')[0]} page {plan['ticket_index'] or 'NO INDEX'}"
        + (" + SORT" if plan["sorts"] else "")
        for page, plan in plans.items()
    )
    loaded = "reused" if load["reused"] else f"loaded in {load['seconds']:.0f} s"
    if load.get("migrated_by_other_code"):
        loaded += ", ALSO MIGRATED BY OTHER CODE: " + ", ".join(load["migrated_by_other_code"])
    verdict = ""
    if result["target"]["applies"]:
        verdict = f"; target p95 <= {TARGET_P95_MS:.0f} ms: {'MET' if meets else 'MISSED'}"
    print(
        f"list {args.db} {label} ({loaded}; {queue_size} open in team, "
        f"{workers} worker{'s' * (workers > 1)}): first page p50 {first_summary['p50_ms']:.1f} "
        f"p95 {first_summary['p95_ms']:.1f} ms; page {deep_page} p50 "
        f"{deep_summary['p50_ms']:.1f} p95 {deep_summary['p95_ms']:.1f} ms; plan: {indexes}; "
        f"CPU per request: server "
        f"{cpu['ms_per_request']['server']:.1f} ms; other load {cpu['cores']['other']:.1f} cores; "
        f"errors {len(errors)}{verdict} -> "
        f"{path.relative_to(harness.REPO)}",
        flush=True,
    )
    return 1 if errors else 0
