"""The ticket lifecycle: new, open, pending, on-hold, solved, closed, reopens and follow-ups."""

from datetime import UTC, datetime, timedelta

import pytest

from serviceloop.accounts.errors import SettingsNotAllowed
from serviceloop.core import clock
from serviceloop.core.errors import Conflict, InvalidInput
from serviceloop.tickets import services
from serviceloop.tickets.errors import StatusChangeRefused, TicketClosed
from serviceloop.tickets.models import EventKind, Message, Status, Ticket
from serviceloop.tickets.services import TicketChanges
from tests.accounts.factories import AgentFactory
from tests.tickets.factories import make_ticket


def closed_ticket(agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)
    services.solve_ticket(number=ticket.number, agent=agent)
    services.change_status(number=ticket.number, agent=agent, status=Status.CLOSED)
    ticket.refresh_from_db()
    return ticket


def status_events(ticket: Ticket) -> list[tuple[str, str, str]]:
    return [
        (e.field, e.before["status"], e.after["status"])
        for e in ticket.events.filter(kind=EventKind.STATUS).order_by("id")
    ]


# --- New and open ---------------------------------------------------------------------------


def test_a_ticket_from_a_customer_starts_new(agent):
    ticket = make_ticket(actor=agent)

    assert ticket.status == Status.NEW
    assert ticket.solved_at is None


def test_first_agent_reply_opens_a_new_ticket(agent):
    ticket = make_ticket(actor=agent)

    services.reply_to_ticket(number=ticket.number, agent=agent, body="Checking with the courier.")

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_agent_reply_at is not None
    assert status_events(ticket) == [("status", Status.NEW, Status.OPEN)]


def test_assigning_a_new_ticket_opens_it(agent, team):
    ticket = make_ticket(actor=agent, team_id=team.pk)

    services.assign_ticket(number=ticket.number, agent=agent, assignee_id=agent.pk)

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.assignee == agent
    assert status_events(ticket) == [("status", Status.NEW, Status.OPEN)]


@pytest.mark.parametrize("team_id", [424242, 0, -3, 2**63, 2**80])
def test_a_team_that_is_not_there_is_refused_whatever_the_number(agent, team_id):
    with pytest.raises(InvalidInput) as refused:
        make_ticket(actor=agent, team_id=team_id)
    ticket = make_ticket(actor=agent)

    with pytest.raises(InvalidInput) as reassign_refused:
        services.assign_ticket(number=ticket.number, agent=agent, team_id=team_id)

    for error in (refused.value, reassign_refused.value):
        assert (str(error), error.field) == (f"There is no team {team_id}.", "team")
    assert Ticket.objects.count() == 1


def test_a_ticket_created_with_an_assignee_starts_open(agent, team):
    ticket = make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk)

    assert ticket.status == Status.OPEN
    assert ticket.events.get(kind=EventKind.CREATED).after["status"] == Status.OPEN


def test_an_internal_note_leaves_a_new_ticket_new(agent):
    ticket = make_ticket(actor=agent)

    services.add_internal_note(number=ticket.number, agent=agent, body="VIP customer.")

    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_a_worked_ticket_cannot_go_back_to_new(agent):
    ticket = make_ticket(actor=agent)
    services.reply_to_ticket(number=ticket.number, agent=agent, body="On it.")

    with pytest.raises(StatusChangeRefused) as refused:
        services.change_status(number=ticket.number, agent=agent, status=Status.NEW)

    assert str(refused.value) == (
        f"Ticket #{ticket.number} has been worked on; it cannot go back to New."
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_an_unknown_status_names_the_allowed_ones(agent):
    ticket = make_ticket(actor=agent)

    with pytest.raises(InvalidInput) as refused:
        services.change_status(number=ticket.number, agent=agent, status="done")

    assert refused.value.field == "status"
    assert "status must be one of: new, open, pending, on_hold, solved, closed." in str(
        refused.value
    )


def test_a_reply_can_set_pending_in_the_same_change(agent):
    ticket = make_ticket(actor=agent)

    services.reply_to_ticket(
        number=ticket.number, agent=agent, body="Which address?", status=Status.PENDING
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    reply_event = ticket.events.get(kind=EventKind.MESSAGE, field=Message.Kind.REPLY, actor=agent)
    status_event = ticket.events.get(kind=EventKind.STATUS)
    assert status_event.request_id == reply_event.request_id
    assert status_events(ticket) == [("status", Status.NEW, Status.PENDING)]


# --- Solve and close ------------------------------------------------------------------------


def test_solving_sets_solved_at_and_records_who_solved(agent):
    ticket = make_ticket(actor=agent)
    moment = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)

    with clock.frozen_at(moment):
        services.solve_ticket(number=ticket.number, agent=agent)

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert ticket.solved_at == moment
    event = ticket.events.get(kind=EventKind.STATUS)
    assert (event.actor, event.before["status"], event.after["status"]) == (
        agent,
        Status.NEW,
        Status.SOLVED,
    )


def test_solving_a_solved_ticket_again_changes_nothing(agent):
    ticket = make_ticket(actor=agent)
    services.solve_ticket(number=ticket.number, agent=agent)

    services.solve_ticket(number=ticket.number, agent=agent)

    assert ticket.events.filter(kind=EventKind.STATUS).count() == 1


@pytest.mark.parametrize("status", [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD])
def test_only_a_solved_ticket_can_be_closed(agent, status):
    ticket = make_ticket(actor=agent)
    if status != Status.NEW:
        services.change_status(number=ticket.number, agent=agent, status=status)

    with pytest.raises(StatusChangeRefused) as refused:
        services.change_status(number=ticket.number, agent=agent, status=Status.CLOSED)

    assert str(refused.value) == f"Solve ticket #{ticket.number} before closing it."
    ticket.refresh_from_db()
    assert ticket.status == status
    assert ticket.closed_at is None


def test_closing_a_solved_ticket_sets_closed_at(agent):
    ticket = make_ticket(actor=agent)
    services.solve_ticket(number=ticket.number, agent=agent)

    services.change_status(number=ticket.number, agent=agent, status=Status.CLOSED)

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None
    assert ticket.solved_at is not None
    assert status_events(ticket)[-1] == ("status", Status.SOLVED, Status.CLOSED)


# --- A closed ticket never changes -----------------------------------------------------------


def _write_services(ticket: Ticket, agent, other: Ticket):  # type: ignore[no-untyped-def]
    number = ticket.number
    return {
        "reply": lambda: services.reply_to_ticket(number=number, agent=agent, body="Hello?"),
        "note": lambda: services.add_internal_note(number=number, agent=agent, body="FYI"),
        "reopen": lambda: services.change_status(number=number, agent=agent, status=Status.OPEN),
        "solve": lambda: services.solve_ticket(number=number, agent=agent),
        "close again": lambda: services.change_status(
            number=number, agent=agent, status=Status.CLOSED
        ),
        "assign": lambda: services.assign_ticket(number=number, agent=agent, assignee_id=agent.pk),
        "update": lambda: services.update_ticket(
            number=number, agent=agent, changes=TicketChanges(priority="urgent")
        ),
        "edit": lambda: services.edit_ticket(
            number=number, agent=agent, changes=TicketChanges(subject="New subject")
        ),
        "merge away": lambda: services.merge_tickets(
            source_number=number, target_number=other.number, agent=agent
        ),
        "merge into": lambda: services.merge_tickets(
            source_number=other.number, target_number=number, agent=agent
        ),
        "unlink problem": lambda: services.link_incident(
            incident_number=number, problem_number=None, agent=agent
        ),
        "set parent": lambda: services.set_parent(
            child_number=number, parent_number=other.number, agent=agent
        ),
        "be a parent": lambda: services.set_parent(
            child_number=other.number, parent_number=number, agent=agent
        ),
        "followers": lambda: services.add_followers(
            number=number, agent=agent, emails=["cc@example.com"]
        ),
    }


WRITES = [
    "reply",
    "note",
    "reopen",
    "solve",
    "close again",
    "assign",
    "update",
    "edit",
    "merge away",
    "merge into",
    "unlink problem",
    "set parent",
    "be a parent",
    "followers",
]


@pytest.mark.parametrize("write", WRITES)
def test_every_write_to_a_closed_ticket_is_refused_with_the_reason(agent, write):
    ticket = closed_ticket(agent)
    other = make_ticket(actor=agent)
    events_before = ticket.events.count()

    with pytest.raises(TicketClosed) as refused:
        _write_services(ticket, agent, other)[write]()

    assert (
        str(refused.value) == f"Ticket #{ticket.number} is closed; a reply will open a follow-up."
    )
    assert refused.value.code == "ticket_closed"
    assert ticket.events.count() == events_before
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_bulk_update_reports_a_closed_ticket_and_changes_the_others(agent):
    closed = closed_ticket(agent)
    open_ticket = make_ticket(actor=agent)

    results = services.bulk_update_tickets(
        numbers=[closed.number, open_ticket.number],
        agent=agent,
        changes=TicketChanges(priority="high"),
    )

    assert [(r.number, r.ok, r.code) for r in results] == [
        (closed.number, False, "ticket_closed"),
        (open_ticket.number, True, ""),
    ]
    assert (
        results[0].message == f"Ticket #{closed.number} is closed; a reply will open a follow-up."
    )
    closed.refresh_from_db()
    open_ticket.refresh_from_db()
    assert (closed.priority, open_ticket.priority) == ("normal", "high")


# --- Reopen and follow-up --------------------------------------------------------------------


def test_a_customer_reply_to_a_solved_ticket_reopens_it(agent):
    ticket = make_ticket(actor=agent)
    services.solve_ticket(number=ticket.number, agent=agent)
    moment = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)

    with clock.frozen_at(moment):
        services.add_customer_message(
            ticket_id=ticket.pk, customer=ticket.requester, body="It broke again."
        )

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.reopen_count == 1
    assert ticket.reopened_at == moment
    assert ticket.solved_at is None
    reopen = ticket.events.get(kind=EventKind.STATUS, field="reopen")
    assert (reopen.actor_kind, reopen.actor_customer) == ("customer", ticket.requester)
    assert (reopen.before["status"], reopen.after["status"]) == (Status.SOLVED, Status.OPEN)


def test_each_reopen_is_counted(agent):
    ticket = make_ticket(actor=agent)
    for _round in range(2):
        services.solve_ticket(number=ticket.number, agent=agent)
        services.add_customer_message(
            ticket_id=ticket.pk, customer=ticket.requester, body="Still broken."
        )

    ticket.refresh_from_db()
    assert ticket.reopen_count == 2
    assert ticket.events.filter(kind=EventKind.STATUS, field="reopen").count() == 2


def test_a_customer_reply_to_a_pending_ticket_opens_it_without_a_reopen(agent):
    ticket = make_ticket(actor=agent)
    services.change_status(number=ticket.number, agent=agent, status=Status.PENDING)

    services.add_customer_message(
        ticket_id=ticket.pk, customer=ticket.requester, body="Here is the address."
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.reopen_count == 0
    assert status_events(ticket)[-1] == ("status", Status.PENDING, Status.OPEN)


def test_an_agent_reopening_a_solved_ticket_counts_a_reopen(agent):
    ticket = make_ticket(actor=agent)
    services.solve_ticket(number=ticket.number, agent=agent)

    services.change_status(number=ticket.number, agent=agent, status=Status.OPEN)

    ticket.refresh_from_db()
    assert ticket.reopen_count == 1
    assert status_events(ticket)[-1] == ("reopen", Status.SOLVED, Status.OPEN)


def test_a_customer_reply_to_a_closed_ticket_opens_a_linked_follow_up(agent):
    ticket = closed_ticket(agent)

    message = services.add_customer_message(
        ticket_id=ticket.pk, customer=ticket.requester, body="The replacement broke too."
    )

    follow_up = message.ticket
    assert follow_up.pk != ticket.pk
    assert follow_up.follow_up_of == ticket
    assert follow_up.status == Status.NEW
    assert follow_up.subject == ticket.subject
    assert follow_up.requester == ticket.requester
    assert follow_up.messages.get().body_text == "The replacement broke too."
    assert follow_up.events.get(kind=EventKind.CREATED).after["follow_up_of"] == ticket.number


def test_a_follow_up_leaves_the_closed_ticket_untouched(agent):
    ticket = closed_ticket(agent)
    events_before = list(ticket.events.values_list("id", flat=True))
    messages_before = ticket.messages.count()

    services.add_customer_message(
        ticket_id=ticket.pk, customer=ticket.requester, body="The replacement broke too."
    )

    after = Ticket.objects.get(pk=ticket.pk)
    assert after.status == Status.CLOSED
    assert after.updated_at == ticket.updated_at
    assert after.reopen_count == 0
    assert list(after.events.values_list("id", flat=True)) == events_before
    assert after.messages.count() == messages_before


# --- Auto-close -----------------------------------------------------------------------------


def test_close_solved_tickets_closes_only_those_past_the_window(agent, settings):
    settings.SERVICELOOP_SOLVED_TO_CLOSED_HOURS = 96
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        old = make_ticket(actor=agent)
        services.solve_ticket(number=old.number, agent=agent)
    with clock.frozen_at(start + timedelta(hours=10)):
        recent = make_ticket(actor=agent)
        services.solve_ticket(number=recent.number, agent=agent)
        unsolved = make_ticket(actor=agent)

    with clock.frozen_at(start + timedelta(hours=96)):
        closed = services.close_solved_tickets()

    assert closed == 1
    for ticket in (old, recent, unsolved):
        ticket.refresh_from_db()
    assert (old.status, recent.status, unsolved.status) == (
        Status.CLOSED,
        Status.SOLVED,
        Status.NEW,
    )
    assert old.closed_at == start + timedelta(hours=96)
    event = old.events.filter(kind=EventKind.STATUS).last()
    assert event is not None
    assert (event.actor, event.actor_kind, event.after["status"]) == (None, "system", "closed")


def test_close_solved_tickets_honours_the_configured_window(agent, settings):
    settings.SERVICELOOP_SOLVED_TO_CLOSED_HOURS = 24
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        ticket = make_ticket(actor=agent)
        services.solve_ticket(number=ticket.number, agent=agent)

    with clock.frozen_at(start + timedelta(hours=23, minutes=59)):
        too_early = services.close_solved_tickets()
    with clock.frozen_at(start + timedelta(hours=24)):
        on_time = services.close_solved_tickets()

    assert (too_early, on_time) == (0, 1)


def test_a_reopened_ticket_is_not_auto_closed(agent, settings):
    settings.SERVICELOOP_SOLVED_TO_CLOSED_HOURS = 96
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        ticket = make_ticket(actor=agent)
        services.solve_ticket(number=ticket.number, agent=agent)
        services.add_customer_message(ticket_id=ticket.pk, customer=ticket.requester, body="No.")

    with clock.frozen_at(start + timedelta(days=30)):
        closed = services.close_solved_tickets()

    assert closed == 0
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


# --- Custom statuses ------------------------------------------------------------------------


def test_a_custom_status_sets_the_lifecycle_state_it_maps_onto(agent, admin):
    waiting = services.create_custom_status(
        actor=admin, name="Waiting on warehouse", lifecycle_state=Status.PENDING
    )
    ticket = make_ticket(actor=agent)

    services.change_status(number=ticket.number, agent=agent, custom_status_id=waiting.pk)

    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.status_label == "Waiting on warehouse"
    event = ticket.events.get(kind=EventKind.STATUS)
    assert event.before == {"status": Status.NEW, "custom_status": None}
    assert event.after == {"status": Status.PENDING, "custom_status": "Waiting on warehouse"}


def test_switching_custom_statuses_within_one_state_is_recorded(agent, admin):
    warehouse = services.create_custom_status(
        actor=admin, name="Waiting on warehouse", lifecycle_state=Status.PENDING
    )
    courier = services.create_custom_status(
        actor=admin, name="Waiting on courier", lifecycle_state=Status.PENDING
    )
    ticket = make_ticket(actor=agent)
    services.change_status(number=ticket.number, agent=agent, custom_status_id=warehouse.pk)

    services.change_status(number=ticket.number, agent=agent, custom_status_id=courier.pk)

    ticket.refresh_from_db()
    assert ticket.status_label == "Waiting on courier"
    last = ticket.events.filter(kind=EventKind.STATUS).last()
    assert last is not None
    assert (last.before["custom_status"], last.after["custom_status"]) == (
        "Waiting on warehouse",
        "Waiting on courier",
    )


def test_a_plain_status_clears_the_custom_status(agent, admin):
    waiting = services.create_custom_status(
        actor=admin, name="Waiting on warehouse", lifecycle_state=Status.PENDING
    )
    ticket = make_ticket(actor=agent)
    services.change_status(number=ticket.number, agent=agent, custom_status_id=waiting.pk)

    services.change_status(number=ticket.number, agent=agent, status=Status.OPEN)

    ticket.refresh_from_db()
    assert ticket.custom_status is None
    assert ticket.status_label == "Open"


def test_a_custom_status_of_another_state_is_refused(agent, admin):
    waiting = services.create_custom_status(
        actor=admin, name="Waiting on warehouse", lifecycle_state=Status.PENDING
    )
    ticket = make_ticket(actor=agent)

    with pytest.raises(InvalidInput) as refused:
        services.change_status(
            number=ticket.number, agent=agent, status=Status.SOLVED, custom_status_id=waiting.pk
        )

    assert str(refused.value) == "Waiting on warehouse is a pending status."


def test_an_inactive_custom_status_cannot_be_set(agent, admin):
    waiting = services.create_custom_status(
        actor=admin, name="Waiting on warehouse", lifecycle_state=Status.PENDING
    )
    services.update_custom_status(actor=admin, status_id=waiting.pk, is_active=False)
    ticket = make_ticket(actor=agent)

    with pytest.raises(InvalidInput) as refused:
        services.change_status(number=ticket.number, agent=agent, custom_status_id=waiting.pk)

    assert str(refused.value) == f"There is no custom status {waiting.pk}."


@pytest.mark.parametrize("state", [Status.NEW, Status.CLOSED])
def test_new_and_closed_have_no_custom_statuses(admin, state):
    with pytest.raises(InvalidInput) as refused:
        services.create_custom_status(actor=admin, name="Fresh", lifecycle_state=state)

    assert "New and Closed have no custom statuses" in str(refused.value)


def test_a_second_status_or_field_of_one_name_is_a_conflict_naming_it(admin):
    services.create_custom_status(
        actor=admin, name="Waiting on warehouse", lifecycle_state=Status.PENDING
    )
    services.define_custom_field(
        actor=admin, entity="ticket", key="order_number", label="Order number", kind="text"
    )

    with pytest.raises(Conflict) as status_refused:
        services.create_custom_status(
            actor=admin, name="waiting  on WAREHOUSE", lifecycle_state=Status.ON_HOLD
        )
    with pytest.raises(Conflict) as field_refused:
        services.define_custom_field(
            actor=admin, entity="ticket", key="order_number", label="Order", kind="number"
        )

    assert (str(status_refused.value), status_refused.value.field) == (
        "There is a status named waiting on WAREHOUSE already.",
        "name",
    )
    assert (str(field_refused.value), field_refused.value.field) == (
        "There is a ticket field 'order_number' already.",
        "key",
    )


def test_an_agent_cannot_define_custom_statuses(agent):
    with pytest.raises(SettingsNotAllowed) as refused:
        services.create_custom_status(actor=agent, name="Parked", lifecycle_state=Status.ON_HOLD)

    assert str(refused.value) == "Only admins and supervisors can change settings."


# --- Required custom fields -----------------------------------------------------------------


@pytest.fixture
def order_number_required(admin):  # type: ignore[no-untyped-def]
    return services.define_custom_field(
        actor=admin,
        entity="ticket",
        key="order_number",
        label="Order number",
        kind="text",
        required=True,
    )


def test_a_required_field_left_empty_blocks_solving(agent, order_number_required):
    ticket = make_ticket(actor=agent)

    with pytest.raises(StatusChangeRefused) as refused:
        services.solve_ticket(number=ticket.number, agent=agent)

    assert str(refused.value) == f"Fill in Order number before solving ticket #{ticket.number}."
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_a_reply_that_would_solve_without_required_fields_is_not_sent(agent, order_number_required):
    ticket = make_ticket(actor=agent)

    with pytest.raises(StatusChangeRefused):
        services.reply_to_ticket(
            number=ticket.number, agent=agent, body="Sorted!", status=Status.SOLVED
        )

    assert ticket.messages.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_filling_in_the_required_field_allows_solving(agent, order_number_required):
    ticket = make_ticket(actor=agent)
    services.update_ticket(
        number=ticket.number,
        agent=agent,
        changes=TicketChanges(custom_fields={"order_number": "A-1042"}),
    )

    services.solve_ticket(number=ticket.number, agent=agent)

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_a_required_field_does_not_block_other_statuses(agent, order_number_required):
    ticket = make_ticket(actor=agent)

    services.change_status(number=ticket.number, agent=agent, status=Status.PENDING)

    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


def test_an_inactive_required_field_does_not_block_solving(agent, admin, order_number_required):
    services.change_custom_field(actor=admin, field_id=order_number_required.pk, is_active=False)
    ticket = make_ticket(actor=AgentFactory())

    services.solve_ticket(number=ticket.number, agent=agent)

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
