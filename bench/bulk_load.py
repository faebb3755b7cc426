"""Fill a benchmark database with N tickets fast: COPY on PostgreSQL, executemany on SQLite.

The data is made up but shaped like a help desk's: most tickets closed, a backlog of open
ones spread over five teams of unequal size, requesters of whom a few write often, some
tags. Ticket numbers come from `reserve_ticket_numbers`, so the sequence (PostgreSQL) or
the counter row (SQLite) is where the application expects it afterwards.

A loaded database is reused while it holds the same number of tickets and its marker:
re-running a benchmark costs a migrate and a count, not a reload.
"""

import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import harness

DATA_VERSION = 1
CHUNK = 50_000
SEED = 20240601

TEAMS = ("Billing", "Shipping", "Returns", "Technical", "Accounts")
# The first team is the biggest queue: the list benchmark reads it.
TEAM_WEIGHTS = (34, 24, 18, 12, 8)
NO_TEAM_WEIGHT = 4
AGENTS_PER_TEAM = 5
STATUS_WEIGHTS = {"new": 6, "open": 15, "pending": 8, "on_hold": 3, "solved": 10, "closed": 58}
PRIORITY_WEIGHTS = {"low": 20, "normal": 60, "high": 15, "urgent": 5}
TYPE_WEIGHTS = {"question": 55, "incident": 25, "problem": 5, "task": 15}
CHANNEL_WEIGHTS = {"email": 50, "web": 20, "chat": 15, "api": 5, "phone": 7, "social": 3}
TAG_NAMES = (
    "billing",
    "refund",
    "invoice",
    "vip",
    "shipping",
    "damaged",
    "delivery",
    "returns",
    "exchange",
    "login",
    "password",
    "mobile",
    "android",
    "ios",
    "bug",
    "outage",
    "feature-request",
    "cancellation",
    "upgrade",
    "downgrade",
    "discount",
    "warranty",
    "gdpr",
    "spam",
    "escalated",
    "enterprise",
    "trial",
    "onboarding",
    "api",
    "integration",
)
ORGANIZATIONS = 300
HISTORY_DAYS = 730
SUBJECTS = (
    "Order {n} arrived damaged",
    "Cannot sign in since the update",
    "Refund for order {n} not received",
    "Invoice {n} shows the wrong address",
    "Where is my parcel? Order {n}",
    "App crashes when I open settings",
    "Please cancel my subscription",
    "Charged twice for order {n}",
    "How do I export my data?",
    "Wrong size delivered ({n})",
    "Discount code does not work",
    "Password reset email never arrives",
)


def marker(tickets: int) -> str:
    return f"bench data v{DATA_VERSION}: {tickets} tickets"


def is_loaded(tickets: int) -> bool:
    from serviceloop.core.models import SetupStep
    from serviceloop.tickets.models import Ticket

    return (
        SetupStep.objects.filter(name=marker(tickets)).exists()
        and Ticket.objects.count() == tickets
    )


def migrations_unknown_here() -> list[str]:
    """Migrations the database has applied that this code does not have.

    The bench databases are shared by name, so one migrated by newer code (another
    branch, uncommitted work) has indexes this code does not define: its timings are
    not quite this code's. It is not reloaded for that (someone may be using it right
    now); the result says so, and --reload rebuilds it.
    """
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    return sorted(
        f"{app}.{name}"
        for app, name in set(loader.applied_migrations or {}) - set(loader.disk_migrations)
    )


def ensure_loaded(target: harness.Target, tickets: int) -> dict[str, Any]:
    """Set Django up on the target's database, loading `tickets` tickets unless it holds them."""
    if harness.database_exists(target):
        harness.setup_django(target)
        if is_loaded(tickets):
            unknown = migrations_unknown_here()
            return {"reused": True, **({"migrated_by_other_code": unknown} if unknown else {})}
        from django.db import connections

        connections.close_all()
    harness.create_empty_database(target)
    harness.setup_django(target)
    return load(tickets)


class Table:
    """A model's table: the columns a loader fills, and constants for all the others.

    Every other column must have a default, allow NULL or be text (blank), so a field added
    to the model later either loads like Django would save it or stops the load with a clear
    message.
    """

    def __init__(self, model: Any, filled: Sequence[str], *, vendor: str) -> None:
        self.name = model._meta.db_table
        by_column = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(filled) - set(by_column)
        if unknown:
            raise harness.BenchmarkFailed(f"{self.name} has no columns {sorted(unknown)}")
        constants = {}
        for column, field in by_column.items():
            if column in filled:
                continue
            if field.has_default():
                constants[column] = _db_value(field.get_default(), vendor)
            elif field.null:
                constants[column] = None
            elif field.empty_strings_allowed:
                constants[column] = ""
            else:
                raise harness.BenchmarkFailed(
                    f"{self.name}.{column} has no default: teach bench/bulk_load.py to fill it."
                )
        self.columns = [*filled, *constants]
        self.constants = tuple(constants.values())

    def rows(self, filled_rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        constants = self.constants
        for row in filled_rows:
            yield row + constants


def _db_value(value: Any, vendor: str) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool) and vendor == "sqlite":
        return int(value)
    return value


def insert_rows(table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
    """Write rows in the current transaction: one COPY, or executemany in big batches."""
    from django.db import connection

    count = 0
    columns = ", ".join(connection.ops.quote_name(c) for c in table.columns)
    quoted = connection.ops.quote_name(table.name)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {quoted} ({columns}) FROM STDIN") as copy:
                for row in table.rows(rows):
                    copy.write_row(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {quoted} ({columns}) VALUES ({placeholders})"
        batch: list[tuple[Any, ...]] = []
        for row in table.rows(rows):
            batch.append(row)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


@contextmanager
def indexes_built_afterwards(*models: Any) -> Iterator[None]:
    """Drop the tables' plain indexes, and build them again once the rows are in.

    One sorted build per index is far faster than keeping ~20 indexes up to date row by
    row. Primary keys and unique indexes stay: they check the data as it goes in. Call
    inside the load's transaction.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        definitions: list[str] = []
        for model in models:
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
                    "AND NOT x.indisunique",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = %s AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'",
                    [table],
                )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                definitions.append(definition)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # The generated rows reference rows loaded just before them; skipping the
            # per-row foreign key triggers (as pg_restore does) needs a superuser.
            cursor.execute("SELECT current_setting('is_superuser')")
            if cursor.fetchone()[0] == "on":
                cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    with connection.cursor() as cursor:
        for definition in definitions:
            cursor.execute(definition)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


class Clock:
    """Timestamps as the database takes them in text, formatted once per value."""

    def __init__(self, vendor: str) -> None:
        self.suffix = "+00" if vendor == "postgresql" else ""

    def text(self, moment: float) -> str:
        # Django stores SQLite datetimes as naive UTC text; PostgreSQL parses the offset.
        return str(datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)) + self.suffix


def _next_id(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def load(tickets: int) -> dict[str, Any]:
    """Load `tickets` tickets with their requesters, teams, agents and tags; then ANALYZE."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from serviceloop.accounts import services as accounts
    from serviceloop.core.models import SetupStep
    from serviceloop.customers.models import Customer, Identity, Organization
    from serviceloop.tickets.models import Tag, Ticket
    from serviceloop.tickets.numbering import reserve_ticket_numbers

    vendor = connection.vendor
    phases: dict[str, float] = {}
    started = time.perf_counter()
    rng = random.Random(SEED)
    clock = Clock(vendor)
    now = time.time()

    with harness.timed(phases, "people_seconds"), transaction.atomic():
        harness.bench_agent()
        team_ids: list[int] = []
        members: dict[int, list[int]] = {}
        for t, name in enumerate(TEAMS):
            agents = [
                accounts.create_agent(
                    actor=None,
                    username=f"{name.lower()}{n}",
                    first_name=name,
                    last_name=f"Agent {n}",
                    email=f"{name.lower()}{n}@support.example",
                ).pk
                for n in range(AGENTS_PER_TEAM)
            ]
            team_ids.append(accounts.create_team(actor=None, name=name, member_ids=agents).pk)
            members[team_ids[t]] = agents
        Organization.objects.bulk_create(
            Organization(name=f"Organization {n}", tier=rng.choice(["", "gold", "silver"]))
            for n in range(ORGANIZATIONS)
        )
        organization_ids = list(Organization.objects.values_list("id", flat=True))
        Tag.objects.bulk_create(Tag(name=name) for name in TAG_NAMES)
        tag_ids = list(Tag.objects.order_by("id").values_list("id", flat=True))

    customer_count = max(1000, tickets // 4)
    first_customer = _next_id(Customer)
    customer_orgs: list[int | None] = [
        rng.choice(organization_ids) if rng.random() < 0.6 else None for _ in range(customer_count)
    ]
    with (
        harness.timed(phases, "customers_seconds"),
        transaction.atomic(),
        indexes_built_afterwards(Customer, Identity),
    ):
        joined = clock.text(now - HISTORY_DAYS * 86400)
        insert_rows(
            Table(
                Customer,
                ["id", "name", "email", "organization_id", "created_at", "updated_at"],
                vendor=vendor,
            ),
            (
                (
                    first_customer + n,
                    f"Customer {n}",
                    f"customer{n}@example.com",
                    customer_orgs[n],
                    joined,
                    joined,
                )
                for n in range(customer_count)
            ),
        )
        first_identity = _next_id(Identity)
        insert_rows(
            Table(Identity, ["id", "customer_id", "kind", "value", "created_at"], vendor=vendor),
            (
                (
                    first_identity + n,
                    first_customer + n,
                    "email",
                    f"customer{n}@example.com",
                    joined,
                )
                for n in range(customer_count)
            ),
        )

    with (
        harness.timed(phases, "tickets_seconds"),
        transaction.atomic(),
        indexes_built_afterwards(Ticket),
    ):
        numbers = reserve_ticket_numbers(tickets)
        first_ticket = _next_id(Ticket)
        ticket_table = Table(
            Ticket,
            [
                "id",
                "number",
                "subject",
                "status",
                "priority",
                "type",
                "channel",
                "requester_id",
                "organization_id",
                "assignee_id",
                "team_id",
                "problem_id",
                "follow_up_of_id",
                "created_at",
                "updated_at",
                "first_agent_reply_at",
                "last_customer_message_at",
                "last_agent_reply_at",
                "assigned_at",
                "solved_at",
                "closed_at",
            ],
            vendor=vendor,
        )
        tag_rows: list[tuple[int, int]] = []

        def ticket_rows() -> Iterator[tuple[Any, ...]]:
            span = HISTORY_DAYS * 86400
            start = now - span
            team_choices: list[int | None] = [*team_ids, None]
            for offset in range(0, tickets, CHUNK):
                size = min(CHUNK, tickets - offset)
                chunk = random.Random(SEED + offset)
                statuses = chunk.choices(
                    list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()), k=size
                )
                teams = chunk.choices(team_choices, [*TEAM_WEIGHTS, NO_TEAM_WEIGHT], k=size)
                priorities = chunk.choices(
                    list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()), k=size
                )
                types = chunk.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()), k=size)
                channels = chunk.choices(
                    list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()), k=size
                )
                for n in range(size):
                    i = offset + n
                    ticket_id = first_ticket + i
                    status = statuses[n]
                    team = teams[n]
                    created = start + span * i / tickets + chunk.random() * 600
                    if status == "new":
                        updated = created + chunk.random() * 7200
                    elif status in ("solved", "closed"):
                        updated = created + chunk.expovariate(1 / 172800)
                    else:
                        updated = created + chunk.expovariate(1 / 86400)
                    updated = min(updated, now)
                    # A few customers write often: requesters skew towards low numbers.
                    customer = int(customer_count * chunk.random() ** 2)
                    assignee = None
                    if status != "new" and chunk.random() < 0.92:
                        pool = members[team] if team is not None else members[team_ids[0]]
                        assignee = pool[chunk.randrange(len(pool))]
                    created_text = clock.text(created)
                    updated_text = clock.text(updated)
                    replied = None
                    if status != "new":
                        replied = clock.text(min(updated, created + chunk.expovariate(1 / 14400)))
                    # A few tickets point at an earlier one (a problem, a follow-up), so the
                    # list's joins to them are not always empty.
                    linked = chunk.random()
                    earlier = chunk.randrange(first_ticket, ticket_id) if i else None
                    problem = earlier if linked < 0.005 else None
                    follow_up_of = earlier if linked > 0.99 else None
                    yield (
                        ticket_id,
                        numbers[i],
                        SUBJECTS[i % len(SUBJECTS)].format(n=100000 + i),
                        status,
                        priorities[n],
                        types[n],
                        channels[n],
                        first_customer + customer,
                        customer_orgs[customer],
                        assignee,
                        team,
                        problem,
                        follow_up_of,
                        created_text,
                        updated_text,
                        replied,
                        created_text,
                        updated_text if replied else None,
                        replied if assignee else None,
                        updated_text if status in ("solved", "closed") else None,
                        updated_text if status == "closed" else None,
                    )
                    tag_draw = chunk.random()
                    if tag_draw < 0.6:
                        tag_rows.append((ticket_id, tag_ids[int(len(tag_ids) * tag_draw**2)]))
                    if tag_draw < 0.15:
                        tag_rows.append((ticket_id, tag_ids[-1 - int(len(tag_ids) * tag_draw)]))

        insert_rows(ticket_table, ticket_rows())

    through = Ticket.tags.through
    with (
        harness.timed(phases, "tags_seconds"),
        transaction.atomic(),
        indexes_built_afterwards(through),
    ):
        first_link = _next_id(through)
        insert_rows(
            Table(through, ["id", "ticket_id", "tag_id"], vendor=vendor),
            ((first_link + n, ticket, tag) for n, (ticket, tag) in enumerate(tag_rows)),
        )
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Customer, Identity, Ticket, through]
            ):
                cursor.execute(statement)
        SetupStep.objects.create(name=marker(tickets))

    with harness.timed(phases, "analyze_seconds"), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "reused": False,
        "seconds": round(time.perf_counter() - started, 1),
        "phases": phases,
        "customers": customer_count,
        "ticket_tags": len(tag_rows),
        "took": str(timedelta(seconds=round(time.perf_counter() - started))),
    }
