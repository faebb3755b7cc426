"""Contributors: people from other departments who note any ticket and work their own."""

import pytest

from serviceloop.accounts.errors import ContributorNotAllowed
from serviceloop.tickets import services
from serviceloop.tickets.errors import ContributorCannotAssign, NotAssignedToYou
from serviceloop.tickets.models import EventKind, Message, Status
from serviceloop.tickets.services import TicketChanges
from tests.tickets.factories import make_ticket


def not_yours(number: int) -> str:
    return (
        f"Contributors work only tickets assigned to them; #{number} is not. "
        "You can still add an internal note."
    )


@pytest.fixture
def unassigned(agent):  # type: ignore[no-untyped-def]
    return make_ticket(actor=agent)


@pytest.fixture
def theirs(agent, contributor, team):  # type: ignore[no-untyped-def]
    team.members.add(contributor)
    return make_ticket(actor=agent, team_id=team.pk, assignee_id=contributor.pk)


def test_a_contributor_can_note_any_ticket(contributor, unassigned):
    note = services.add_internal_note(
        number=unassigned.number, agent=contributor, body="Warehouse says it shipped Monday."
    )

    assert note.kind == Message.Kind.NOTE
    assert note.author_agent == contributor
    event = unassigned.events.get(kind=EventKind.MESSAGE, field="note")
    assert (event.actor, event.actor_kind) == (contributor, "agent")


def test_a_contributor_cannot_reply_on_a_ticket_not_assigned_to_them(contributor, unassigned):
    with pytest.raises(NotAssignedToYou) as refused:
        services.reply_to_ticket(number=unassigned.number, agent=contributor, body="Hi!")

    assert str(refused.value) == not_yours(unassigned.number)
    assert refused.value.code == "not_assigned_to_you"
    assert unassigned.messages.count() == 1


def test_a_contributor_cannot_change_status_on_a_ticket_not_assigned_to_them(
    contributor, unassigned
):
    with pytest.raises(NotAssignedToYou) as refused:
        services.solve_ticket(number=unassigned.number, agent=contributor)

    assert str(refused.value) == not_yours(unassigned.number)
    unassigned.refresh_from_db()
    assert unassigned.status == Status.NEW


def test_a_contributor_cannot_edit_fields_of_a_ticket_not_assigned_to_them(contributor, unassigned):
    with pytest.raises(NotAssignedToYou) as refused:
        services.update_ticket(
            number=unassigned.number, agent=contributor, changes=TicketChanges(priority="urgent")
        )

    assert str(refused.value) == not_yours(unassigned.number)


def test_a_contributor_can_reply_on_their_own_ticket(contributor, theirs):
    reply = services.reply_to_ticket(
        number=theirs.number, agent=contributor, body="Your refund is on its way."
    )

    assert reply.kind == Message.Kind.REPLY
    assert reply.author_agent == contributor


def test_a_contributor_can_solve_their_own_ticket(contributor, theirs):
    services.solve_ticket(number=theirs.number, agent=contributor)

    theirs.refresh_from_db()
    assert theirs.status == Status.SOLVED
    event = theirs.events.filter(kind=EventKind.STATUS).last()
    assert event is not None
    assert event.actor == contributor


def test_a_contributor_can_edit_fields_of_their_own_ticket(contributor, theirs):
    services.update_ticket(
        number=theirs.number, agent=contributor, changes=TicketChanges(add_tags=["warehouse"])
    )

    assert list(theirs.tags.values_list("name", flat=True)) == ["warehouse"]


def test_a_contributor_cannot_assign_a_ticket(contributor, unassigned):
    with pytest.raises(ContributorCannotAssign) as refused:
        services.assign_ticket(
            number=unassigned.number, agent=contributor, assignee_id=contributor.pk
        )

    assert str(refused.value) == "Contributors cannot assign or merge tickets; ask an agent."
    unassigned.refresh_from_db()
    assert unassigned.assignee is None


def test_a_contributor_cannot_hand_their_own_ticket_on(agent, contributor, theirs):
    with pytest.raises(ContributorCannotAssign):
        services.assign_ticket(number=theirs.number, agent=contributor, assignee_id=agent.pk)

    theirs.refresh_from_db()
    assert theirs.assignee == contributor


def test_a_contributor_cannot_merge_tickets(agent, contributor, unassigned):
    other = make_ticket(actor=agent)

    with pytest.raises(ContributorCannotAssign) as refused:
        services.merge_tickets(
            source_number=unassigned.number, target_number=other.number, agent=contributor
        )

    assert str(refused.value) == "Contributors cannot assign or merge tickets; ask an agent."
    unassigned.refresh_from_db()
    assert unassigned.merged_into is None


def test_a_contributor_cannot_create_a_ticket(contributor):
    with pytest.raises(ContributorNotAllowed) as refused:
        make_ticket(actor=contributor)

    assert str(refused.value) == (
        "Contributors work only the tickets assigned to them and add internal notes."
    )


def test_a_contributors_bulk_update_changes_only_their_own_tickets(contributor, theirs, agent):
    other = make_ticket(actor=agent)

    results = services.bulk_update_tickets(
        numbers=[theirs.number, other.number],
        agent=contributor,
        changes=TicketChanges(priority="high"),
    )

    assert [(r.number, r.ok, r.code) for r in results] == [
        (theirs.number, True, ""),
        (other.number, False, "not_assigned_to_you"),
    ]
