"""Property tests: any sequence of lifecycle changes through the services keeps a sane ticket."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serviceloop.core import clock
from serviceloop.tickets import services
from serviceloop.tickets.errors import StatusChangeRefused, TicketClosed
from serviceloop.tickets.models import UNSOLVED_STATES, EventKind, Status, Ticket
from tests.tickets.factories import make_ticket

STATUSES = [s.value for s in Status]

steps = st.one_of(
    st.tuples(st.just("reply"), st.sampled_from([None, *STATUSES[1:5]])),
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(st.just("customer"), st.none()),
    st.tuples(st.just("note"), st.none()),
    st.tuples(st.just("auto_close"), st.none()),
)

PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Snapshot:
    status: str
    updated_at: object
    solved_at: object
    closed_at: object
    reopen_count: int
    events: int
    messages: int


def snapshot(ticket: Ticket) -> Snapshot:
    return Snapshot(
        status=ticket.status,
        updated_at=ticket.updated_at,
        solved_at=ticket.solved_at,
        closed_at=ticket.closed_at,
        reopen_count=ticket.reopen_count,
        events=ticket.events.count(),
        messages=ticket.messages.count(),
    )


def expected_status(before: str, step: tuple[str, str | None]) -> str | None:
    """The status the lifecycle rules promise after `step`, or None when it is refused."""
    action, target = step
    if action == "note":
        return None if before == Status.CLOSED else before
    if action == "customer":
        # A closed ticket stays closed; the customer gets a follow-up ticket instead.
        if before in (Status.SOLVED, Status.PENDING, Status.ON_HOLD):
            return Status.OPEN
        return before
    if action == "auto_close":
        return Status.CLOSED if before == Status.SOLVED else before
    if before == Status.CLOSED:
        return None
    if action == "reply" and target is None:
        return Status.OPEN if before == Status.NEW else before
    assert target is not None
    if target == Status.NEW and before != Status.NEW:
        return None
    if target == Status.CLOSED and before != Status.SOLVED:
        return None
    return target


def apply(step: tuple[str, str | None], ticket: Ticket, agent) -> None:  # type: ignore[no-untyped-def]
    action, target = step
    if action == "reply":
        services.reply_to_ticket(number=ticket.number, agent=agent, body="Update.", status=target)
    elif action == "status":
        services.change_status(number=ticket.number, agent=agent, status=target)
    elif action == "customer":
        services.add_customer_message(
            ticket_id=ticket.pk, customer=ticket.requester, body="Any news?"
        )
    elif action == "note":
        services.add_internal_note(number=ticket.number, agent=agent, body="Checked.")
    else:
        window = timedelta(hours=1000)
        services.close_solved_tickets(at=clock.now() + window)


def attempt(step: tuple[str, str | None], ticket: Ticket, agent) -> bool:  # type: ignore[no-untyped-def]
    """Apply a step; return whether the lifecycle refused it."""
    try:
        apply(step, ticket, agent)
    except (StatusChangeRefused, TicketClosed):
        return True
    return False


def status_chain(ticket: Ticket) -> list[tuple[str, str, str]]:
    return [
        (e.field, e.before["status"], e.after["status"])
        for e in ticket.events.filter(kind=EventKind.STATUS).order_by("id")
    ]


def check_invariants(ticket: Ticket) -> None:
    created = ticket.events.get(kind=EventKind.CREATED)
    chain = status_chain(ticket)
    current = created.after["status"]
    for field, before, after in chain:
        assert before == current, chain
        assert before != after, chain
        assert after != Status.NEW, chain
        assert before != Status.CLOSED, chain
        is_reopen = before == Status.SOLVED and after in UNSOLVED_STATES
        assert field == ("reopen" if is_reopen else "status"), chain
        current = after
    assert current == ticket.status
    assert (ticket.solved_at is not None) == (ticket.status in (Status.SOLVED, Status.CLOSED))
    assert (ticket.closed_at is not None) == (ticket.status == Status.CLOSED)
    assert ticket.reopen_count == sum(1 for field, _b, _a in chain if field == "reopen")
    assert (ticket.reopened_at is not None) == (ticket.reopen_count > 0)


@PROPERTIES
@given(plan=st.lists(steps, min_size=1, max_size=12))
def test_any_sequence_of_changes_follows_the_lifecycle(agent, plan):
    with transaction.atomic():
        ticket = make_ticket(actor=agent)
        for step in plan:
            before = snapshot(ticket)
            promised = expected_status(before.status, step)
            refused = attempt(step, ticket, agent)
            ticket = Ticket.objects.select_related("requester").get(pk=ticket.pk)
            after = snapshot(ticket)

            assert refused == (promised is None), (step, before.status)
            if refused or before.status == Status.CLOSED:
                # A refused change leaves no trace, and a closed ticket never changes again.
                assert after == before, step
            else:
                assert after.status == promised, (step, before.status)
            check_invariants(ticket)
        transaction.set_rollback(True)


@PROPERTIES
@given(plan=st.lists(steps, min_size=1, max_size=12))
def test_every_status_change_has_exactly_one_status_event(agent, plan):
    with transaction.atomic():
        ticket = make_ticket(actor=agent)
        for step in plan:
            status_before = ticket.status
            events_before = ticket.events.filter(kind=EventKind.STATUS).count()
            attempt(step, ticket, agent)
            ticket = Ticket.objects.select_related("requester").get(pk=ticket.pk)
            events_after = ticket.events.filter(kind=EventKind.STATUS).count()

            changed = ticket.status != status_before
            assert events_after - events_before == (1 if changed else 0), (step, status_before)
        transaction.set_rollback(True)


@PROPERTIES
@given(plan=st.lists(steps, min_size=1, max_size=12))
def test_customers_writing_to_a_closed_ticket_always_get_a_linked_follow_up(agent, plan):
    with transaction.atomic():
        ticket = make_ticket(actor=agent)
        for step in plan:
            attempt(step, ticket, agent)
            ticket = Ticket.objects.select_related("requester").get(pk=ticket.pk)
        follow_ups_before = ticket.follow_ups.count()

        message = services.add_customer_message(
            ticket_id=ticket.pk, customer=ticket.requester, body="Hello again."
        )

        ticket.refresh_from_db()
        if ticket.status == Status.CLOSED:
            assert message.ticket.follow_up_of_id == ticket.pk
            assert ticket.follow_ups.count() == follow_ups_before + 1
        else:
            assert message.ticket_id == ticket.pk
            assert ticket.status in (Status.NEW, Status.OPEN)
        transaction.set_rollback(True)
