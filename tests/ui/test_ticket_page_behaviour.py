"""The ticket page: who else is here, replies that crossed, side-panel edits, neighbours."""

import datetime
import re

import pytest

from serviceloop.accounts.models import Role
from serviceloop.core import clock
from serviceloop.tickets import services
from serviceloop.tickets.models import EventKind, Message, Status, Ticket
from tests.accounts.factories import AgentFactory
from tests.tickets.factories import make_ticket

HTMX = {"HX-Request": "true"}


@pytest.fixture
def colleague(team):
    colleague = AgentFactory(role=Role.AGENT, first_name="Cleo", last_name="Park")
    team.members.add(colleague)
    return colleague


@pytest.fixture
def ticket(agent, team):
    return make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk)


def _seen(client, ticket: Ticket) -> int:
    """The last message id the page tells the composer and presence form it has shown."""
    page = client.get("/tickets/%s/" % ticket.number)
    match = re.search(r'name="seen" value="(\d+)"', page.text)
    assert match is not None
    return int(match.group(1))


# --- Also viewing -------------------------------------------------------------------------


def test_an_agent_sees_who_else_has_the_ticket_open(agent_client, client_for, colleague, ticket):
    client_for(colleague).post("/tickets/%s/presence" % ticket.number, {"typing": "0"})

    response = agent_client.post("/tickets/%s/presence" % ticket.number, headers=HTMX)

    assert response.status_code == 200
    assert "Also viewing:" in response.text
    assert '<span class="viewer">Cleo Park</span>' in response.text
    assert "typing a reply" not in response.text


def test_an_agent_sees_that_the_other_is_typing(agent_client, client_for, colleague, ticket):
    client_for(colleague).post("/tickets/%s/presence" % ticket.number, {"typing": "1"})

    response = agent_client.post("/tickets/%s/presence" % ticket.number, headers=HTMX)

    assert "Cleo Park</span> (typing a reply)" in response.text


def test_an_agent_alone_on_a_ticket_sees_nobody_else(agent_client, ticket):
    response = agent_client.post("/tickets/%s/presence" % ticket.number, headers=HTMX)

    assert "Also viewing" not in response.text


def test_presence_says_when_a_message_arrived_since_the_page_was_opened(agent_client, ticket):
    seen = _seen(agent_client, ticket)
    services.add_customer_message(
        ticket_id=ticket.pk, customer=ticket.requester, body="Any news on this?"
    )

    response = agent_client.post(
        "/tickets/%s/presence" % ticket.number, {"seen": seen}, headers=HTMX
    )

    assert "%s added a message since you opened this ticket." % ticket.requester.display_name in (
        response.text
    )


# --- A reply that crossed the agent's own --------------------------------------------------


def test_a_reply_sent_while_typing_is_shown_before_sending(
    agent_client, client_for, colleague, ticket
):
    seen = _seen(agent_client, ticket)
    services.reply_to_ticket(number=ticket.number, agent=colleague, body="Refund is on its way.")

    response = agent_client.post(
        "/tickets/%s/send" % ticket.number,
        {"kind": "reply", "body": "I will refund you today.", "seen": seen},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Cleo Park added a message while you were writing. Read it, then send again." in (
        response.text
    )
    assert "I will refund you today." in response.text  # the draft is kept
    assert "I have read the new message; send anyway" in response.text
    assert not ticket.messages.filter(body_text__contains="I will refund you today").exists()


def test_sending_anyway_after_reading_sends_the_reply(agent_client, colleague, ticket):
    seen = _seen(agent_client, ticket)
    services.reply_to_ticket(number=ticket.number, agent=colleague, body="Refund is on its way.")

    response = agent_client.post(
        "/tickets/%s/send" % ticket.number,
        {"kind": "reply", "body": "I will refund you today.", "seen": seen, "confirm": "1"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert ticket.messages.filter(
        body_text__contains="I will refund you today", kind=Message.Kind.REPLY
    ).exists()


def test_the_agents_own_earlier_reply_does_not_hold_the_next_one(agent_client, agent, ticket):
    seen = _seen(agent_client, ticket)
    services.reply_to_ticket(number=ticket.number, agent=agent, body="First part.")

    response = agent_client.post(
        "/tickets/%s/send" % ticket.number,
        {"kind": "note", "body": "Second part.", "seen": seen},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert ticket.messages.filter(kind=Message.Kind.NOTE, body_text="Second part.").exists()


# --- Side-panel edits ---------------------------------------------------------------------


def test_a_side_panel_edit_changes_the_ticket_and_records_it(agent_client, agent, ticket):
    response = agent_client.post(
        "/tickets/%s/edit" % ticket.number,
        {"status": "pending", "priority": "urgent", "tags": "billing, VIP"},
        headers=HTMX,
    )

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.PENDING, "urgent")
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    event = ticket.events.filter(kind=EventKind.PRIORITY).get()
    assert (event.actor, event.after) == (agent, "urgent")


def test_a_side_panel_edit_of_a_closed_ticket_is_refused_in_place(agent_client, agent, ticket):
    services.change_status(number=ticket.number, agent=agent, status=Status.SOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)

    response = agent_client.post(
        "/tickets/%s/edit" % ticket.number, {"priority": "urgent"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Ticket #%s is closed" % ticket.number in response.text
    assert 'role="alert"' in response.text
    assert Ticket.objects.get(pk=ticket.pk).priority != "urgent"


def test_a_contributor_editing_someone_elses_ticket_is_told_why(client_for, ticket):
    contributor = AgentFactory(role=Role.CONTRIBUTOR)

    response = client_for(contributor).post(
        "/tickets/%s/edit" % ticket.number, {"priority": "urgent"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Contributors work only tickets assigned to them" in response.text
    assert Ticket.objects.get(pk=ticket.pk).priority != "urgent"


def test_a_side_panel_edit_with_a_bad_assignee_says_which_field(agent_client, ticket):
    response = agent_client.post(
        "/tickets/%s/edit" % ticket.number, {"assignee": "somebody"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "assignee must be a number." in response.text


def test_a_side_panel_edit_without_javascript_redirects_back_to_the_ticket(agent_client, ticket):
    response = agent_client.post(
        "/tickets/%s/edit" % ticket.number, {"priority": "high", "list_query": "view=mine"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/tickets/%s/?view=mine" % ticket.number
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"


# --- Next and previous in the view --------------------------------------------------------


def test_the_ticket_page_links_its_neighbours_in_the_view(agent_client, agent, team):
    start = datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)
    numbers = []
    for hour in range(3):
        with clock.frozen_at(start + datetime.timedelta(hours=hour)):
            numbers.append(make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk).number)
    newest, middle, oldest = reversed(numbers)

    response = agent_client.get("/tickets/%s/?view=mine" % middle)

    # "My open tickets" lists the most recently updated first.
    assert 'rel="prev" href="/tickets/%s/?view=mine"' % newest in response.text
    assert 'rel="next" href="/tickets/%s/?view=mine"' % oldest in response.text


def test_the_first_ticket_of_a_view_has_no_previous(agent_client, agent, team):
    first = make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk)

    response = agent_client.get("/tickets/%s/?view=mine" % first.number)

    assert 'rel="prev"' not in response.text
