"""Ticket creation over the API: throughput and latency at N concurrent clients.

Each client is a thread with its own keep-alive connection (http.client) that POSTs
/api/v1/tickets as fast as the server answers. The database starts empty on every run, so
runs compare.
"""

import argparse
import http.client
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench import harness

TARGET_TICKETS_PER_SECOND = 300  # on PostgreSQL, on the 2-core reference machine
TEAMS = ("Billing", "Shipping", "Returns", "Technical", "Accounts")
SUBJECTS = (
    "Order {n} arrived damaged",
    "Cannot sign in since this morning ({n})",
    "Refund for order {n} not received",
    "Invoice {n} shows the wrong address",
    "Where is my parcel? Order {n}",
    "App crashes when I open settings ({n})",
)
BODY = (
    "Hello, I ordered last week and the box arrived today with a dent in the side. "
    "The item inside is scratched. Could you send a replacement or refund me? "
    "My order number is in the subject. Thanks, {name}"
)
TAGS = ("vip", "damaged", "refund", "login", "invoice", "mobile", "delivery", "urgent-review")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=3000, help="tickets to time (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="untimed tickets first")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    harness.add_server_arguments(parser, default_workers="1 on SQLite, 2 on PostgreSQL")


def ticket_payload(i: int, *, team_ids: list[int], customers: int) -> dict[str, Any]:
    """The i-th ticket: a returning customer about half the time, a team, maybe tags."""
    rng = random.Random(i)
    customer = rng.randrange(customers)
    name = f"Customer {customer}"
    payload: dict[str, Any] = {
        "subject": rng.choice(SUBJECTS).format(n=100000 + i),
        "body": BODY.format(name=name),
        "requester": {"email": f"customer{customer}@example.com", "name": name},
        "priority": rng.choices(["low", "normal", "high", "urgent"], [20, 60, 15, 5])[0],
        "channel": "api",
        "team": team_ids[i % len(team_ids)],
    }
    if rng.random() < 0.4:
        payload["tags"] = rng.sample(TAGS, rng.randint(1, 2))
    return payload


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def error_count(self) -> int:
        return len(self.errors)


def create_tickets(
    url: str, key: str, *, count: int, clients: int, first: int, team_ids: list[int]
) -> LoadResult:
    """POST `count` tickets from `clients` threads; numbering payloads from `first`."""
    result = LoadResult()
    lock = threading.Lock()
    numbers = itertools.count(first)
    last = first + count
    customers = max(100, (first + count) // 2)

    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def client() -> None:
        # http.client rather than httpx: the load generator shares the server's two cores,
        # and a lighter client leaves more of them to the server (about 0.2 ms of CPU a
        # request against 0.9 ms with httpx).
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while (i := next(numbers)) < last:
            body = json.dumps(ticket_payload(i, team_ids=team_ids, customers=customers))
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/tickets", body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as error:
                errors.append(f"{type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                continue
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status != 201:
                errors.append(f"HTTP {response.status}: {text[:200]}")
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors.extend(errors)
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    return result


def run(args: argparse.Namespace) -> int:
    workers = args.workers or (2 if args.db == "postgres" else 1)
    target = harness.Target(db=args.db, name="create", postgres_server=args.postgres_url)
    harness.create_empty_database(target)
    harness.setup_django(target)

    from serviceloop.accounts import services as accounts
    from serviceloop.accounts.models import ApiToken
    from serviceloop.tickets.models import Ticket

    agent = harness.bench_agent()
    team_ids = [
        accounts.create_team(actor=None, name=name, member_ids=[agent.pk]).pk for name in TEAMS
    ]
    key = harness.api_token(agent, ApiToken.Scope.WRITE)

    load_before = harness.machine()["load_average"]
    extra_env = harness.server_env(args.server_env)
    with harness.Server(target, workers=workers, extra_env=extra_env) as server:
        warmup = create_tickets(
            server.url, key, count=args.warmup, clients=args.clients, first=0, team_ids=team_ids
        )
        before = harness.sample_cpu(server, database=target.postgres_backends)
        timed = create_tickets(
            server.url,
            key,
            count=args.count,
            clients=args.clients,
            first=args.warmup,
            team_ids=team_ids,
        )
        after = harness.sample_cpu(server, database=target.postgres_backends)
        cpu = harness.cpu_usage(before, after, requests=args.count)

    stored = Ticket.objects.count()
    expected = args.warmup + args.count - warmup.error_count - timed.error_count
    errors = warmup.error_count + timed.error_count
    if stored != expected:
        errors += 1
        timed.errors.append(f"{stored} tickets stored, {expected} created over HTTP")
    throughput = (args.count - timed.error_count) / timed.wall_seconds
    latency = harness.latency_summary(timed.latencies)
    meets = throughput >= TARGET_TICKETS_PER_SECOND
    result = {
        "database": args.db,
        "server": {
            "command": " ".join(server.command()[1:]),
            "workers": workers,
            "threads_per_worker": server.threads,
            "extra_env": extra_env,
        },
        "clients": args.clients,
        "warmup_tickets": args.warmup,
        "tickets": args.count,
        "wall_seconds": round(timed.wall_seconds, 2),
        "tickets_per_second": round(throughput, 1),
        "latency": latency,
        "statuses": timed.statuses,
        "errors": errors,
        "error_samples": (warmup.errors + timed.errors)[:10],
        "cpu": cpu,
        "load_average_before": load_before,
        "target": {
            "tickets_per_second": TARGET_TICKETS_PER_SECOND,
            "applies": args.db == "postgres",
            "met": meets,
        },
    }
    path = harness.write_result(f"create-{args.db}", result)
    per_ticket = cpu["ms_per_request"]
    postgres_cpu = ""
    if args.db == "postgres":
        # Backends that live for one request exit before the second sample: their CPU
        # is only in the all-of-PostgreSQL figure, which includes other databases.
        postgres_cpu = (
            f", postgres {per_ticket['postgres_own_backends']:.1f} ms in this benchmark's "
            f"live backends ({per_ticket['postgres']:.1f} ms in all of PostgreSQL)"
        )
    verdict = ""
    if args.db == "postgres":
        verdict = f"; target >= {TARGET_TICKETS_PER_SECOND}/s: {'MET' if meets else 'MISSED'}"
    print(
        f"create {args.db} ({workers} worker{'s' * (workers > 1)} x {server.threads} threads, "
        f"{args.clients} clients, "
        f"{args.count} tickets): {throughput:.0f} tickets/s, p50 {latency['p50_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms, errors {errors}; "
        f"CPU per ticket: server {per_ticket['server']:.1f} ms"
        f"{postgres_cpu}; other load {cpu['cores']['other']:.1f} cores{verdict} -> "
        f"{path.relative_to(harness.REPO)}",
        flush=True,
    )
    return 1 if errors else 0
