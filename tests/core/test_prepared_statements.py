"""On PostgreSQL, inserts and look-ups by a unique key are prepared; queue reads never are.

A prepared statement's reused plan is chosen without its values. For a queue's filters
that plan cannot use the partial indexes that serve them, and the queue page got twice as
slow (bench/README.md), so those reads must stay planned with their values.

The same backend writes a short bulk insert as VALUES rows and a long one through UNNEST.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from serviceloop.core.postgresql.compiler import LONGEST_VALUES_INSERT
from serviceloop.tickets import queries, services
from serviceloop.tickets.models import EventKind, Ticket, TicketEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="our PostgreSQL backend's prepared statements and inserts: "
        "run with DATABASE_URL=postgres://...",
    ),
]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_opening_tickets_prepares_their_inserts_and_key_lookups(api, team):
    # A statement is prepared when a connection runs it the third time.
    for n in range(3):
        response = api.post_json(
            "/api/v1/tickets",
            {
                "subject": f"Refund for order {n}",
                "body": "Please refund the second item.",
                "requester": {"email": f"dora{n}@customer.example", "name": "Dora"},
                "team": team.pk,
                "tags": ["refund"],
            },
        )
        assert response.status_code == 201, response.content

    statements = prepared_statements()
    for start in (
        'INSERT INTO "tickets_ticket" ',
        'INSERT INTO "tickets_message" ',
        'INSERT INTO "tickets_ticketevent" ',
        'INSERT INTO "customers_customer" ',
    ):
        assert any(s.startswith(start) for s in statements), start
    for table in ("accounts_apitoken", "accounts_team", "customers_customer", "tickets_tag"):
        reads = [s for s in statements if s.startswith("SELECT")]
        assert any(re.search(rf'FROM "?{table}"?\s', s) for s in reads), table


def test_ticket_lists_and_queue_counts_are_planned_with_their_values(api, agent, team):
    for n in range(3):
        api.post_json(
            "/api/v1/tickets",
            {
                "subject": f"Question {n}",
                "body": "Hello",
                "requester": {"email": f"q{n}@customer.example"},
                "team": team.pk,
            },
        )
    for _ in range(6):  # more than the five runs after which a plan may be reused
        listing = api.get(f"/api/v1/tickets?status=new&team={team.pk}&sort=-updated_at")
        counts = queries.queue_counts(agent, team_ids=[team.pk])

    assert len(listing.json()["items"]) == Ticket.objects.count() == 3
    assert counts["my-teams"] == 3
    reads_of_tickets = [
        s for s in prepared_statements() if s.startswith("SELECT") and '"tickets_ticket"' in s
    ]
    assert reads_of_tickets == []


@pytest.mark.parametrize(
    ("rows", "form"), [(2, "VALUES"), (LONGEST_VALUES_INSERT, "VALUES"), (40, "UNNEST")]
)
def test_bulk_inserts_store_every_value_in_either_form(agent, rows, form):
    ticket, _ = services.open_ticket(
        actor=agent, subject="Printer on fire", body="Smoke.", requester_email="ed@example.com"
    )
    at = timezone.now()
    request_id = uuid.uuid4()
    events = [
        TicketEvent(
            ticket=ticket,
            kind=EventKind.FIELD,
            field=f"field_{n}",
            before=None if n % 2 else {"value": n, "names": ["a", "b"]},
            after={"value": n + 1, "text": "ünïcode, 'quoted'"},
            actor=agent if n % 3 else None,
            actor_kind=TicketEvent.ActorKind.AGENT if n % 3 else TicketEvent.ActorKind.SYSTEM,
            request_id=request_id,
            created_at=at,
        )
        for n in range(rows)
    ]

    with CaptureQueriesContext(connection) as queries_run:
        TicketEvent.objects.bulk_create(events)

    [insert] = [q["sql"] for q in queries_run.captured_queries if q["sql"].startswith("INSERT")]
    assert ("UNNEST" in insert) == (form == "UNNEST"), insert
    stored = TicketEvent.objects.filter(request_id=request_id).order_by("pk")
    assert [(e.field, e.before, e.after, e.actor_id, e.actor_kind) for e in stored] == [
        (e.field, e.before, e.after, e.actor_id, e.actor_kind) for e in events
    ]
    assert all(e.pk is not None for e in events)
