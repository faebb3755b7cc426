"""Merging a duplicate ticket into the one that survives."""

import pytest

from serviceloop.core.errors import InvalidInput
from serviceloop.core.models import EventDelivery
from serviceloop.tickets import services
from serviceloop.tickets.errors import ContributorCannotAssign, TicketClosed
from serviceloop.tickets.models import EventKind, Status
from serviceloop.tickets.services import TicketChanges
from tests.tickets.factories import make_ticket


@pytest.fixture
def source(agent):  # type: ignore[no-untyped-def]
    return make_ticket(actor=agent, subject="Lamp broken (second mail)", tags=["refund", "lamp"])


@pytest.fixture
def target(agent):  # type: ignore[no-untyped-def]
    return make_ticket(actor=agent, subject="Lamp broken", tags=["lamp", "vip"])


def merge(source, target, agent):  # type: ignore[no-untyped-def]
    survivor = services.merge_tickets(
        source_number=source.number, target_number=target.number, agent=agent
    )
    source.refresh_from_db()
    target.refresh_from_db()
    return survivor


def test_merging_moves_the_conversation_to_the_survivor(agent, source, target):
    services.add_internal_note(number=source.number, agent=agent, body="Duplicate of the lamp one.")
    moved = set(source.messages.values_list("id", flat=True))

    survivor = merge(source, target, agent)

    assert survivor.pk == target.pk
    assert moved <= set(target.messages.values_list("id", flat=True))
    assert target.messages.count() == 3
    assert source.messages.count() == 0


def test_message_events_travel_with_their_messages(agent, source, target):
    moved_events = set(source.events.filter(kind=EventKind.MESSAGE).values_list("id", flat=True))

    merge(source, target, agent)

    assert moved_events <= set(target.events.values_list("id", flat=True))
    assert not source.events.filter(kind=EventKind.MESSAGE).exists()
    # The source keeps its own history: its creation and its closing.
    assert source.events.filter(kind=EventKind.CREATED).exists()


def test_the_source_is_closed_and_points_at_the_survivor(agent, source, target):
    merge(source, target, agent)

    assert source.status == Status.CLOSED
    assert source.merged_into == target
    assert source.closed_at is not None
    assert target.status == Status.NEW


def test_a_solved_source_is_closed_without_solving_it_again(agent, source, target):
    services.solve_ticket(number=source.number, agent=agent)

    merge(source, target, agent)

    statuses = [
        (e.before["status"], e.after["status"])
        for e in source.events.filter(kind=EventKind.STATUS).order_by("id")
    ]
    assert statuses == [("new", "solved"), ("solved", "closed")]


def test_tags_are_the_union_of_both_tickets(agent, source, target):
    merge(source, target, agent)

    assert sorted(target.tags.values_list("name", flat=True)) == ["lamp", "refund", "vip"]


def test_tags_gained_in_a_merge_reach_subscribers_as_an_update(
    agent, source, target, webhook_for_every_event
):
    merge(source, target, agent)

    updates = EventDelivery.objects.filter(
        event_name="ticket.updated", payload__number=target.number
    )
    assert updates.exists()
    assert {tuple(d.payload["changes"]["tags"]) for d in updates} == {("lamp", "refund", "vip")}


def test_the_requester_of_the_source_follows_the_survivor(agent, source, target):
    services.add_followers(number=source.number, agent=agent, emails=["partner@example.com"])

    merge(source, target, agent)

    followers = set(target.followers.values_list("email", flat=True))
    assert followers == {source.requester.email, "partner@example.com"}


def test_the_same_requester_does_not_become_a_follower(agent):
    first = make_ticket(actor=agent, requester_email="mia@example.com")
    second = make_ticket(actor=agent, requester_email="mia@example.com")

    merge(first, second, agent)

    assert second.followers.count() == 0
    assert not second.events.filter(kind=EventKind.FOLLOWERS).exists()


def test_children_and_incidents_are_repointed_to_the_survivor(agent):
    source = make_ticket(actor=agent, type="problem")
    target = make_ticket(actor=agent, type="problem")
    child = make_ticket(actor=agent)
    incident = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=source.number, agent=agent)
    services.link_incident(
        incident_number=incident.number, problem_number=source.number, agent=agent
    )

    merge(source, target, agent)

    child.refresh_from_db()
    incident.refresh_from_db()
    assert child.parent == target
    assert incident.problem == target


def test_repointed_links_are_recorded_on_the_linked_tickets(agent):
    source = make_ticket(actor=agent, type="problem")
    target = make_ticket(actor=agent, type="problem")
    child = make_ticket(actor=agent)
    incident = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=source.number, agent=agent)
    services.link_incident(
        incident_number=incident.number, problem_number=source.number, agent=agent
    )

    merge(source, target, agent)

    merge_request = source.events.get(kind=EventKind.MERGE).request_id
    child_link = child.events.filter(kind=EventKind.LINK).last()
    incident_link = incident.events.filter(kind=EventKind.LINK).last()
    assert child_link is not None
    assert incident_link is not None
    assert (child_link.field, child_link.before, child_link.after) == (
        "parent",
        source.number,
        target.number,
    )
    assert (incident_link.field, incident_link.before, incident_link.after) == (
        "problem",
        source.number,
        target.number,
    )
    assert child_link.request_id == incident_link.request_id == merge_request


def test_merging_a_parent_into_its_child_does_not_make_a_loop(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)

    merge(parent, child, agent)

    assert child.parent is None
    assert parent.status == Status.CLOSED


def test_a_closed_child_keeps_its_link(agent):
    source = make_ticket(actor=agent)
    target = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=source.number, agent=agent)
    services.solve_ticket(number=child.number, agent=agent)
    services.change_status(number=child.number, agent=agent, status=Status.CLOSED)
    child_events = child.events.count()

    merge(source, target, agent)

    child.refresh_from_db()
    assert child.parent == source
    assert child.events.count() == child_events


def test_first_reply_time_of_the_survivor_is_the_earlier_one(agent, source, target):
    services.reply_to_ticket(number=source.number, agent=agent, body="First answer.")
    services.reply_to_ticket(number=target.number, agent=agent, body="Later answer.")
    source.refresh_from_db()

    merge(source, target, agent)

    assert target.first_agent_reply_at == source.first_agent_reply_at


def test_a_source_with_an_empty_required_field_can_still_be_merged(agent, admin, source, target):
    services.define_custom_field(
        actor=admin,
        entity="ticket",
        key="order_number",
        label="Order number",
        kind="text",
        required=True,
    )

    merge(source, target, agent)

    assert source.status == Status.CLOSED


def test_a_ticket_cannot_be_merged_into_itself(agent, source):
    with pytest.raises(InvalidInput) as refused:
        services.merge_tickets(
            source_number=source.number, target_number=source.number, agent=agent
        )

    assert str(refused.value) == "A ticket cannot be merged into itself."
    source.refresh_from_db()
    assert source.status == Status.NEW


def test_merging_into_a_closed_ticket_is_refused(agent, source, target):
    services.solve_ticket(number=target.number, agent=agent)
    services.change_status(number=target.number, agent=agent, status=Status.CLOSED)

    with pytest.raises(TicketClosed) as refused:
        services.merge_tickets(
            source_number=source.number, target_number=target.number, agent=agent
        )

    assert (
        str(refused.value) == f"Ticket #{target.number} is closed; a reply will open a follow-up."
    )
    source.refresh_from_db()
    assert source.status == Status.NEW
    assert source.merged_into is None
    assert source.messages.count() == 1


def test_a_merged_ticket_cannot_be_merged_again(agent, source, target):
    merge(source, target, agent)
    third = make_ticket(actor=agent)

    with pytest.raises(TicketClosed) as refused:
        services.merge_tickets(source_number=source.number, target_number=third.number, agent=agent)

    assert (
        str(refused.value) == f"Ticket #{source.number} is closed; a reply will open a follow-up."
    )


def test_a_contributor_cannot_merge_even_their_own_tickets(agent, contributor, team):
    team.members.add(contributor)
    source = make_ticket(actor=agent, team_id=team.pk, assignee_id=contributor.pk)
    target = make_ticket(actor=agent, team_id=team.pk, assignee_id=contributor.pk)

    with pytest.raises(ContributorCannotAssign) as refused:
        services.merge_tickets(
            source_number=source.number, target_number=target.number, agent=contributor
        )

    assert str(refused.value) == "Contributors cannot assign or merge tickets; ask an agent."
    source.refresh_from_db()
    assert source.status == Status.OPEN


def test_a_customer_message_to_a_merged_ticket_lands_on_the_survivor(agent, source, target):
    merge(source, target, agent)

    message = services.add_customer_message(
        ticket_id=source.pk, customer=source.requester, body="Any news on my lamp?"
    )

    assert message.ticket_id == target.pk
    assert message.author_customer == source.requester
    source.refresh_from_db()
    assert source.messages.count() == 0
    assert source.status == Status.CLOSED


def test_a_customer_message_to_a_merged_ticket_reopens_a_solved_survivor(agent, source, target):
    merge(source, target, agent)
    services.solve_ticket(number=target.number, agent=agent)

    services.add_customer_message(ticket_id=source.pk, customer=source.requester, body="Still?")

    target.refresh_from_db()
    assert target.status == Status.OPEN
    assert target.reopen_count == 1


def test_the_survivor_can_be_worked_after_the_merge(agent, source, target):
    merge(source, target, agent)

    services.update_ticket(
        number=target.number, agent=agent, changes=TicketChanges(remove_tags=["refund"])
    )

    target.refresh_from_db()
    assert sorted(target.tags.values_list("name", flat=True)) == ["lamp", "vip"]
