"""`serviceloop demo`: a believable, deterministic company; its event log agrees with it."""

import hashlib
import itertools
from collections import Counter, defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from serviceloop.accounts.models import Role, Team, User
from serviceloop.core import clock
from serviceloop.core.models import SetupStep
from serviceloop.customers.models import Customer, Identity, Organization
from serviceloop.demo import DEMO_STEP, build_demo
from serviceloop.tickets import services
from serviceloop.tickets.models import (
    UNSOLVED_STATES,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
    TicketType,
)

NOW = datetime(2025, 3, 12, 14, 37, tzinfo=UTC)
SMALL = {"tickets": 300, "customers": 100, "organizations": 20}


def load_small(seed: int = 7) -> None:
    with clock.frozen_at(NOW):
        build_demo(seed=seed, **SMALL)


def digest() -> str:
    """What a person would see, without database ids: equal digests mean equal demos."""
    first = min(Ticket.objects.values_list("number", flat=True))
    parts = []
    tickets = Ticket.objects.order_by("number").select_related("requester", "assignee", "team")
    for t in tickets:
        parts.append(
            "|".join(
                map(
                    str,
                    (
                        t.number - first,
                        t.subject,
                        t.status,
                        t.priority,
                        t.type,
                        t.channel,
                        t.requester.email,
                        t.assignee.username if t.assignee else "",
                        t.team.name if t.team else "",
                        t.created_at - NOW,
                        t.updated_at - NOW,
                        sorted(t.tags.values_list("name", flat=True)),
                        t.custom_fields,
                    ),
                )
            )
        )
    for body, at in Message.objects.order_by("created_at", "id").values_list(
        "body_text", "created_at"
    ):
        parts.append(f"{at - NOW}|{body}")
    for kind, field, at in TicketEvent.objects.order_by("created_at", "id").values_list(
        "kind", "field", "created_at"
    ):
        parts.append(f"{at - NOW}|{kind}|{field}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def log_disagreements() -> list[str]:
    """Every way the event log and the ticket columns disagree (empty when consistent)."""
    problems: list[str] = []
    events = defaultdict(list)
    for event in TicketEvent.objects.order_by("created_at", "id"):
        events[event.ticket_id].append(event)
    messages = defaultdict(list)
    for message in Message.objects.order_by("created_at", "id"):
        messages[message.ticket_id].append(message)
    tickets = {t.pk: t for t in Ticket.objects.all()}
    tags = defaultdict(list)
    for ticket_id, name in Ticket.tags.through.objects.values_list("ticket_id", "tag__name"):
        tags[ticket_id].append(name)
    for t in tickets.values():
        log, said = events[t.pk], messages[t.pk]
        where = f"#{t.number}"
        created = [e for e in log if e.kind == EventKind.CREATED]
        if len(created) != 1 or created[0].created_at != t.created_at:
            problems.append(f"{where}: {len(created)} created events")
            continue
        start = created[0].after
        message_ids = sorted(e.after["message_id"] for e in log if e.kind == EventKind.MESSAGE)
        if message_ids != sorted(m.pk for m in said):
            problems.append(f"{where}: message events do not match messages")
        statuses = [e for e in log if e.kind == EventKind.STATUS]
        final = statuses[-1].after if statuses else {"status": start["status"]}
        if final["status"] != t.status:
            problems.append(f"{where}: log says {final['status']}, ticket says {t.status}")
        custom = t.custom_status.name if t.custom_status else None
        if statuses and final["custom_status"] != custom:
            problems.append(f"{where}: custom status {custom} not in the log")
        for before, after in itertools.pairwise(statuses):
            if after.before != before.after:
                problems.append(f"{where}: status log skips from {before.after} to {after.before}")
        reopens = [e for e in statuses if e.field == "reopen"]
        if len(reopens) != t.reopen_count:
            problems.append(f"{where}: reopen_count {t.reopen_count}, log {len(reopens)}")
        for kind, column, initial in (
            (EventKind.ASSIGNEE, t.assignee_id, start["assignee"]),
            (EventKind.TEAM, t.team_id, start["team"]),
            (EventKind.PRIORITY, t.priority, start["priority"]),
            (EventKind.TYPE, t.type, start["type"]),
            (EventKind.TAGS, sorted(tags[t.pk]), start["tags"]),
        ):
            changes = [e for e in log if e.kind == kind]
            if (changes[-1].after if changes else initial) != column:
                problems.append(f"{where}: {kind} in the log differs from the ticket")
        if t.updated_at != log[-1].created_at:
            problems.append(f"{where}: updated_at is not the last activity")
        stamps = [t.created_at, t.first_agent_reply_at, t.solved_at, t.closed_at]
        present = [s for s in stamps if s is not None]
        if present != sorted(present):
            problems.append(f"{where}: timestamps out of order {stamps}")
        if t.status in (Status.SOLVED, Status.CLOSED) and t.solved_at is None:
            problems.append(f"{where}: {t.status} without solved_at")
        if t.status in UNSOLVED_STATES and t.solved_at is not None:
            problems.append(f"{where}: unsolved with solved_at")
        if (t.status == Status.CLOSED) != (t.closed_at is not None):
            problems.append(f"{where}: closed_at does not match status")
        agent_replies = [
            m.created_at
            for m in said
            if m.kind == Message.Kind.REPLY and m.author_kind == Message.AuthorKind.AGENT
        ]
        customer_says = [m.created_at for m in said if m.author_kind == "customer"]
        # A merged ticket's conversation moved to its survivor; its columns stay as they were.
        if t.merged_into_id is None and (
            t.first_agent_reply_at != (min(agent_replies) if agent_replies else None)
            or t.last_agent_reply_at != (max(agent_replies) if agent_replies else None)
            or t.last_customer_message_at != (max(customer_says) if customer_says else None)
        ):
            problems.append(f"{where}: reply times differ from the conversation")
        if t.merged_into_id is not None:
            merged = [e for e in log if e.kind == EventKind.MERGE and e.field == "merged_into"]
            if t.status != Status.CLOSED or len(merged) != 1:
                problems.append(f"{where}: merged but not closed or not logged")
        if t.problem_id is not None and tickets[t.problem_id].type != TicketType.PROBLEM:
            problems.append(f"{where}: linked to a ticket that is not a problem")
        parent = tickets.get(t.parent_id) if t.parent_id else None
        if parent and t.status in UNSOLVED_STATES and parent.status not in UNSOLVED_STATES:
            problems.append(f"{where}: open child of a solved parent")
    return problems


@pytest.fixture
def small_demo(db) -> None:  # type: ignore[no-untyped-def]
    load_small()


def test_builds_the_requested_company(small_demo):
    assert Ticket.objects.count() == 300
    assert Customer.objects.count() == 100
    assert Organization.objects.count() == 20
    assert sorted(Team.objects.values_list("name", "routing")) == [
        ("Billing", "least_loaded"),
        ("Customer Support", "round_robin"),
        ("Technical Support", "manual"),
    ]
    roles = Counter(User.objects.values_list("role", flat=True))
    assert roles == {Role.AGENT: 10, Role.SUPERVISOR: 1, Role.CONTRIBUTOR: 1}
    assert not any(u.has_usable_password() for u in User.objects.all())
    assert SetupStep.objects.filter(name=DEMO_STEP).exists()


def test_event_log_agrees_with_every_ticket(small_demo):
    assert log_disagreements() == []


def test_has_the_history_a_real_queue_has(small_demo):
    tickets = Ticket.objects.all()

    assert tickets.filter(merged_into__isnull=False).count() >= 3
    assert tickets.filter(type=TicketType.PROBLEM).exists()
    assert tickets.filter(problem__isnull=False).exists()
    assert tickets.filter(parent__isnull=False).exists()
    assert tickets.filter(reopen_count__gt=0).exists()
    assert Message.objects.filter(kind=Message.Kind.NOTE).count() >= 20
    statuses = set(tickets.values_list("status", flat=True))
    assert {Status.CLOSED, Status.SOLVED, Status.OPEN} <= statuses
    assert statuses & {Status.NEW, Status.PENDING}
    channels = Counter(tickets.values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == "email"
    assert Identity.objects.count() > Customer.objects.count()


def test_merged_tickets_are_closed_and_point_to_their_survivor(small_demo):
    merged = Ticket.objects.filter(merged_into__isnull=False).select_related("merged_into")

    for ticket in merged:
        assert ticket.status == Status.CLOSED
        assert ticket.merged_into.requester_id == ticket.requester_id
        assert not ticket.messages.exists()
        survivor_log = ticket.merged_into.events.filter(kind=EventKind.MERGE, field="merged_from")
        assert [e.after["number"] for e in survivor_log] == [ticket.number]


def test_incidents_link_to_problem_tickets(small_demo):
    incidents = Ticket.objects.filter(problem__isnull=False).select_related("problem")

    assert incidents
    for incident in incidents:
        assert incident.problem.type == TicketType.PROBLEM
        assert incident.type == TicketType.INCIDENT
        link = incident.events.get(kind=EventKind.LINK, field="problem")
        assert link.after == incident.problem.number


def test_old_tickets_are_closed_and_recent_ones_still_open(small_demo):
    old = Ticket.objects.filter(created_at__lt=datetime(2025, 2, 1, tzinfo=UTC))
    recent = Ticket.objects.filter(created_at__gt=datetime(2025, 3, 11, tzinfo=UTC))

    assert old.filter(status=Status.CLOSED).count() >= 0.95 * old.count()
    assert recent.filter(status__in=UNSOLVED_STATES).count() >= 0.5 * recent.count()
    assert Ticket.objects.filter(created_at__gt=NOW).count() == 0


def test_more_tickets_on_weekdays_than_at_weekends(small_demo):
    days = Counter(
        t.astimezone(ZoneInfo("Europe/London")).weekday()
        for t in Ticket.objects.values_list("created_at", flat=True)
    )

    weekday_average = sum(days[d] for d in range(5)) / 5
    weekend_average = (days[5] + days[6]) / 2
    assert weekday_average > 2 * weekend_average
    quietest = sorted(days, key=days.__getitem__)[:2]
    assert sorted(quietest) == [5, 6]


def test_same_seed_gives_the_same_demo(db):
    runs = []
    for _ in range(2):
        with transaction.atomic():
            load_small(seed=11)
            runs.append(digest())
            transaction.set_rollback(True)

    assert runs[0] == runs[1]


def test_another_seed_gives_another_demo(db):
    runs = []
    for seed in (11, 12):
        with transaction.atomic():
            load_small(seed=seed)
            runs.append(digest())
            transaction.set_rollback(True)

    assert runs[0] != runs[1]


def test_new_tickets_are_numbered_after_the_demo(small_demo, agent):
    ticket, _first_message = services.open_ticket(
        actor=agent, subject="After the demo", body="Hello", requester_email="new@example.com"
    )

    assert ticket.number > max(
        Ticket.objects.exclude(pk=ticket.pk).values_list("number", flat=True)
    )


def test_command_refuses_to_load_twice(db):
    with clock.frozen_at(NOW):
        call_command("demo", seed=3, verbosity=0, **SMALL)

        with pytest.raises(CommandError, match="Demo data is loaded already"):
            call_command("demo", seed=3, verbosity=0, **SMALL)

    assert Ticket.objects.count() == 300


def test_command_with_force_loads_again(db):
    with clock.frozen_at(NOW):
        call_command("demo", seed=3, verbosity=0, **SMALL)
        call_command("demo", seed=4, verbosity=0, force=True, **SMALL)

    assert Ticket.objects.count() == 300
    assert Customer.objects.count() == 100
    assert log_disagreements() == []


def test_command_refuses_a_database_with_real_customers(db):
    Customer.objects.create(name="Real Person", email="real@example.com")

    with pytest.raises(CommandError, match="holds data already"):
        call_command("demo", verbosity=0, force=True, **SMALL)

    assert not Ticket.objects.exists()
