"""Every service call leaves exactly the event rows that tell what changed, who did it and how."""

from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.accounts.services import create_team
from serviceloop.customers.models import Customer
from serviceloop.tickets import services
from serviceloop.tickets.models import EventKind, Status, Ticket, TicketEvent, TicketType
from serviceloop.tickets.services import TicketChanges
from tests.tickets.factories import make_ticket


def new_events(ticket: Ticket, since: int) -> list[TicketEvent]:
    return list(ticket.events.filter(id__gt=since).order_by("id"))


def last_event_id() -> int:
    return TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def rows(events: list[TicketEvent]) -> list[tuple[str, str, Any, Any]]:
    return [(e.kind, e.field, e.before, e.after) for e in events]


def by_agent(events: list[TicketEvent], agent: User) -> bool:
    return all(e.actor == agent and e.actor_kind == "agent" for e in events)


def one_request(events: list[TicketEvent]) -> bool:
    return len({e.request_id for e in events}) == 1


def test_creating_a_ticket_records_created_then_the_first_message(agent, team):
    ticket = make_ticket(actor=agent, team_id=team.pk, tags=["Refund", "vip"], priority="high")

    events = list(ticket.events.order_by("id"))

    assert [(e.kind, e.field) for e in events] == [
        (EventKind.CREATED, ""),
        (EventKind.MESSAGE, "reply"),
    ]
    created, message = events
    assert (created.actor, created.actor_kind) == (agent, "agent")
    assert created.after == {
        "status": Status.NEW,
        "priority": "high",
        "type": TicketType.QUESTION,
        "channel": "api",
        "requester": ticket.requester_id,
        "team": team.pk,
        "assignee": None,
        "tags": ["refund", "vip"],
        "custom_fields": {},
        "follow_up_of": None,
    }
    # The first message is the requester's words, so the requester is its actor.
    assert (message.actor, message.actor_kind, message.actor_customer) == (
        None,
        "customer",
        ticket.requester,
    )
    assert message.after == {
        "message_id": ticket.messages.get().pk,
        "author_kind": "customer",
        "channel": "api",
    }
    assert one_request(events)


def test_an_outbound_ticket_records_the_agent_as_author_of_the_first_message(agent):
    ticket = make_ticket(actor=agent, author="agent")

    message = ticket.events.get(kind=EventKind.MESSAGE)

    assert (message.actor, message.actor_kind) == (agent, "agent")
    assert message.after["author_kind"] == "agent"


def test_a_reply_to_an_open_ticket_records_one_message_event(agent):
    ticket = make_ticket(actor=agent, assignee_id=agent.pk)
    since = last_event_id()

    reply = services.reply_to_ticket(number=ticket.number, agent=agent, body="Refund sent.")

    events = new_events(ticket, since)
    assert rows(events) == [
        (
            EventKind.MESSAGE,
            "reply",
            None,
            {"message_id": reply.pk, "author_kind": "agent", "channel": "api"},
        )
    ]
    assert by_agent(events, agent)


def test_a_reply_to_a_new_ticket_records_the_message_and_the_opening_together(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    services.reply_to_ticket(number=ticket.number, agent=agent, body="Looking into it.")

    events = new_events(ticket, since)
    assert [(e.kind, e.field) for e in events] == [
        (EventKind.MESSAGE, "reply"),
        (EventKind.STATUS, "status"),
    ]
    assert events[1].before == {"status": "new", "custom_status": None}
    assert events[1].after == {"status": "open", "custom_status": None}
    assert by_agent(events, agent)
    assert one_request(events)


def test_an_internal_note_records_a_note_event(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    note = services.add_internal_note(number=ticket.number, agent=agent, body="Called the courier.")

    events = new_events(ticket, since)
    assert rows(events) == [
        (
            EventKind.MESSAGE,
            "note",
            None,
            {"message_id": note.pk, "author_kind": "agent", "channel": "agent"},
        )
    ]
    assert by_agent(events, agent)


def test_a_customer_message_records_the_customer_as_actor(agent):
    ticket = make_ticket(actor=agent, assignee_id=agent.pk)
    since = last_event_id()

    message = services.add_customer_message(
        ticket_id=ticket.pk, customer=ticket.requester, body="Any news?"
    )

    events = new_events(ticket, since)
    assert rows(events) == [
        (
            EventKind.MESSAGE,
            "reply",
            None,
            {"message_id": message.pk, "author_kind": "customer", "channel": "email"},
        )
    ]
    assert (events[0].actor, events[0].actor_kind, events[0].actor_customer) == (
        None,
        "customer",
        ticket.requester,
    )


def test_a_status_change_records_before_and_after(agent):
    ticket = make_ticket(actor=agent, assignee_id=agent.pk)
    since = last_event_id()

    services.change_status(number=ticket.number, agent=agent, status=Status.ON_HOLD)

    events = new_events(ticket, since)
    assert rows(events) == [
        (
            EventKind.STATUS,
            "status",
            {"status": "open", "custom_status": None},
            {"status": "on_hold", "custom_status": None},
        )
    ]
    assert by_agent(events, agent)


def test_changing_priority_records_a_priority_event(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    services.update_ticket(
        number=ticket.number, agent=agent, changes=TicketChanges(priority="urgent")
    )

    events = new_events(ticket, since)
    assert rows(events) == [(EventKind.PRIORITY, "", "normal", "urgent")]
    assert by_agent(events, agent)


def test_changing_type_records_a_type_event(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    services.update_ticket(number=ticket.number, agent=agent, changes=TicketChanges(type="task"))

    events = new_events(ticket, since)
    assert rows(events) == [(EventKind.TYPE, "", "question", "task")]
    assert by_agent(events, agent)


def test_changing_subject_records_the_old_and_new_subject(agent):
    ticket = make_ticket(actor=agent, subject="Lamp broken")
    since = last_event_id()

    services.update_ticket(
        number=ticket.number, agent=agent, changes=TicketChanges(subject="  Lamp  arrived broken ")
    )

    events = new_events(ticket, since)
    assert rows(events) == [(EventKind.SUBJECT, "", "Lamp broken", "Lamp arrived broken")]
    assert by_agent(events, agent)


def test_an_update_that_changes_nothing_records_nothing(agent):
    ticket = make_ticket(actor=agent, priority="high", tags=["vip"])
    since = last_event_id()

    services.update_ticket(
        number=ticket.number,
        agent=agent,
        changes=TicketChanges(priority="high", add_tags=["VIP"]),
    )

    assert new_events(ticket, since) == []


def test_several_fields_in_one_update_share_one_request(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    services.update_ticket(
        number=ticket.number,
        agent=agent,
        changes=TicketChanges(priority="low", type="task", add_tags=["billing"]),
    )

    events = new_events(ticket, since)
    assert {e.kind for e in events} == {EventKind.PRIORITY, EventKind.TYPE, EventKind.TAGS}
    assert len(events) == 3
    assert one_request(events)


def test_assigning_records_assignee_and_the_opening(agent, team):
    ticket = make_ticket(actor=agent, team_id=team.pk)
    since = last_event_id()

    services.assign_ticket(number=ticket.number, agent=agent, assignee_id=agent.pk)

    events = new_events(ticket, since)
    assert rows(events) == [
        (EventKind.ASSIGNEE, "", None, agent.pk),
        (
            EventKind.STATUS,
            "status",
            {"status": "new", "custom_status": None},
            {"status": "open", "custom_status": None},
        ),
    ]
    assert by_agent(events, agent)
    assert one_request(events)


def test_moving_to_another_team_records_team_and_drops_an_assignee_not_in_it(agent, team):
    ticket = make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk)
    other_team = create_team(actor=None, name="Billing")
    since = last_event_id()

    services.assign_ticket(number=ticket.number, agent=agent, team_id=other_team.pk)

    events = new_events(ticket, since)
    assert rows(events) == [
        (EventKind.TEAM, "", team.pk, other_team.pk),
        (EventKind.ASSIGNEE, "", agent.pk, None),
    ]
    assert one_request(events)


def test_tags_record_the_whole_list_before_and_after(agent):
    ticket = make_ticket(actor=agent, tags=["vip", "refund"])
    since = last_event_id()

    services.update_ticket(
        number=ticket.number,
        agent=agent,
        changes=TicketChanges(add_tags=["Damaged Goods"], remove_tags=["refund"]),
    )

    events = new_events(ticket, since)
    assert rows(events) == [(EventKind.TAGS, "", ["refund", "vip"], ["damaged-goods", "vip"])]
    assert by_agent(events, agent)


def test_a_custom_field_records_one_event_per_field(agent, admin):
    services.define_custom_field(
        actor=admin, entity="ticket", key="order_number", label="Order number", kind="text"
    )
    services.define_custom_field(
        actor=admin,
        entity="ticket",
        key="carrier",
        label="Carrier",
        kind="dropdown",
        options=["DHL", "UPS"],
    )
    ticket = make_ticket(actor=agent, custom_fields={"carrier": "DHL"})
    since = last_event_id()

    services.update_ticket(
        number=ticket.number,
        agent=agent,
        changes=TicketChanges(custom_fields={"order_number": "A-1042", "carrier": "UPS"}),
    )

    events = new_events(ticket, since)
    assert rows(events) == [
        (EventKind.FIELD, "carrier", "DHL", "UPS"),
        (EventKind.FIELD, "order_number", None, "A-1042"),
    ]
    assert by_agent(events, agent)
    assert one_request(events)


def test_clearing_a_custom_field_records_none_after(agent, admin):
    services.define_custom_field(
        actor=admin, entity="ticket", key="order_number", label="Order number", kind="text"
    )
    ticket = make_ticket(actor=agent, custom_fields={"order_number": "A-1"})
    since = last_event_id()

    services.update_ticket(
        number=ticket.number, agent=agent, changes=TicketChanges(custom_fields={"order_number": ""})
    )

    assert rows(new_events(ticket, since)) == [(EventKind.FIELD, "order_number", "A-1", None)]


def test_followers_record_the_follower_ids(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    services.add_followers(
        number=ticket.number, agent=agent, emails=["boss@example.com", "Boss@Example.com"]
    )

    boss = Customer.objects.get(email="boss@example.com")
    events = new_events(ticket, since)
    assert rows(events) == [(EventKind.FOLLOWERS, "", [], [boss.pk])]
    assert by_agent(events, agent)


def test_adding_the_requester_or_a_follower_again_records_nothing(agent):
    ticket = make_ticket(actor=agent)
    services.add_followers(number=ticket.number, agent=agent, emails=["boss@example.com"])
    since = last_event_id()

    services.add_followers(
        number=ticket.number, agent=agent, emails=["boss@example.com", ticket.requester.email]
    )

    assert new_events(ticket, since) == []


def test_linking_an_incident_records_the_link_and_the_type_change(agent):
    problem = make_ticket(actor=agent, type="problem")
    incident = make_ticket(actor=agent)
    since = last_event_id()

    services.link_incident(
        incident_number=incident.number, problem_number=problem.number, agent=agent
    )

    events = new_events(incident, since)
    assert rows(events) == [
        (EventKind.TYPE, "", "question", "incident"),
        (EventKind.LINK, "problem", None, problem.number),
    ]
    assert by_agent(events, agent)
    assert one_request(events)
    assert new_events(problem, since) == []


def test_unlinking_an_incident_records_the_old_problem(agent):
    problem = make_ticket(actor=agent, type="problem")
    incident = make_ticket(actor=agent, type="incident")
    services.link_incident(
        incident_number=incident.number, problem_number=problem.number, agent=agent
    )
    since = last_event_id()

    services.link_incident(incident_number=incident.number, problem_number=None, agent=agent)

    assert rows(new_events(incident, since)) == [(EventKind.LINK, "problem", problem.number, None)]


def test_setting_a_parent_records_a_link_on_the_child(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    since = last_event_id()

    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)

    events = new_events(child, since)
    assert rows(events) == [(EventKind.LINK, "parent", None, parent.number)]
    assert by_agent(events, agent)
    assert new_events(parent, since) == []


def test_merging_records_both_sides_in_one_request(agent):
    source = make_ticket(actor=agent, tags=["refund"])
    target = make_ticket(actor=agent, tags=["vip"])
    source_messages = list(source.messages.values_list("id", flat=True))
    since = last_event_id()

    services.merge_tickets(source_number=source.number, target_number=target.number, agent=agent)

    target_events = [e for e in new_events(target, since) if e.kind != EventKind.MESSAGE]
    source_events = new_events(source, since)
    assert rows(target_events) == [
        (EventKind.FOLLOWERS, "", [], [source.requester_id]),
        (EventKind.TAGS, "", ["vip"], ["refund", "vip"]),
        (
            EventKind.MERGE,
            "merged_from",
            None,
            {"number": source.number, "messages": source_messages},
        ),
    ]
    assert rows(source_events) == [
        (EventKind.MERGE, "merged_into", None, {"number": target.number}),
        (
            EventKind.STATUS,
            "status",
            {"status": "new", "custom_status": None},
            {"status": "solved", "custom_status": None},
        ),
        (
            EventKind.STATUS,
            "status",
            {"status": "solved", "custom_status": None},
            {"status": "closed", "custom_status": None},
        ),
    ]
    assert by_agent(target_events + source_events, agent)
    assert one_request(target_events + source_events)


def test_a_bulk_update_shares_one_request_id_across_tickets(agent, team):
    tickets = [make_ticket(actor=agent) for _ in range(3)]
    since = last_event_id()

    results = services.bulk_update_tickets(
        numbers=[t.number for t in tickets],
        agent=agent,
        changes=TicketChanges(priority="urgent", add_tags=["outage"]),
        status=Status.PENDING,
        team_id=team.pk,
    )

    assert all(r.ok for r in results)
    events = list(TicketEvent.objects.filter(id__gt=since).order_by("id"))
    for ticket in tickets:
        assert [(e.kind, e.before, e.after) for e in events if e.ticket_id == ticket.pk] == [
            (EventKind.TEAM, None, team.pk),
            (EventKind.PRIORITY, "normal", "urgent"),
            (EventKind.TAGS, [], ["outage"]),
            (
                EventKind.STATUS,
                {"status": "new", "custom_status": None},
                {"status": "pending", "custom_status": None},
            ),
        ]
    assert by_agent(events, agent)
    assert one_request(events)


def test_a_failed_ticket_in_a_bulk_update_leaves_no_events(agent):
    ticket = make_ticket(actor=agent)
    since = last_event_id()

    results = services.bulk_update_tickets(
        numbers=[ticket.number],
        agent=agent,
        changes=TicketChanges(priority="urgent"),
        status=Status.CLOSED,
    )

    assert [(r.ok, r.code) for r in results] == [(False, "status_change_refused")]
    assert results[0].message == f"Solve ticket #{ticket.number} before closing it."
    assert new_events(ticket, since) == []
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_an_edit_of_several_fields_shares_one_request_id(agent, team):
    ticket = make_ticket(actor=agent, team_id=team.pk)
    since = last_event_id()

    services.edit_ticket(
        number=ticket.number,
        agent=agent,
        changes=TicketChanges(priority="high"),
        assignee_id=agent.pk,
        status=Status.PENDING,
    )

    events = new_events(ticket, since)
    assert [e.kind for e in events] == [
        EventKind.ASSIGNEE,
        EventKind.STATUS,
        EventKind.PRIORITY,
        EventKind.STATUS,
    ]
    assert one_request(events)


def test_events_cannot_be_edited(agent):
    ticket = make_ticket(actor=agent)
    event = ticket.events.first()
    assert event is not None
    event.after = {"status": "solved"}

    with pytest.raises(ValueError, match="Ticket events are append-only"):
        event.save()
