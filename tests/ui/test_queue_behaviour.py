"""The queue does what an agent expects: views, filters, sort, pages, bulk actions, saved views."""

import datetime
import re

import pytest
from django.test import Client

from serviceloop.accounts.models import Role
from serviceloop.core import clock
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.tickets import queries, services, views
from serviceloop.tickets.models import SavedView, Status, Ticket
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.tickets.factories import make_ticket

HTMX = {"HX-Request": "true"}


def _numbers(response) -> list[int]:
    """The ticket numbers of the queue rows, top to bottom."""
    return [int(n) for n in re.findall(r'name="numbers" value="(\d+)"', response.text)]


def _count(response, slug: str) -> str:
    match = re.search(r'data-count="%s">([^<]*)<' % re.escape(slug), response.text)
    assert match is not None
    return match.group(1)


def _set_status(ticket: Ticket, status: str, agent) -> Ticket:
    return services.change_status(number=ticket.number, agent=agent, status=status)


@pytest.fixture
def colleague(team):
    colleague = AgentFactory(role=Role.AGENT, first_name="Cleo", last_name="Park")
    team.members.add(colleague)
    return colleague


@pytest.fixture
def outsider():
    outsider = AgentFactory(role=Role.AGENT, first_name="Otto", last_name="Berg")
    TeamFactory().members.add(outsider)
    return outsider


@pytest.fixture
def desk(agent, colleague, outsider, team):
    """One ticket per place a ticket can be in the queue, named for that place."""
    other_team = outsider.teams.get()
    tickets = {
        "mine_open": make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk),
        "mine_pending": make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk),
        "colleague_open": make_ticket(actor=agent, team_id=team.pk, assignee_id=colleague.pk),
        "team_unassigned": make_ticket(actor=agent, team_id=team.pk),
        "other_team_unassigned": make_ticket(actor=agent, team_id=other_team.pk),
        "colleague_on_hold": make_ticket(actor=agent, team_id=team.pk, assignee_id=colleague.pk),
        "mine_solved": make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk),
        "mine_closed": make_ticket(actor=agent, team_id=team.pk, assignee_id=agent.pk),
    }
    _set_status(tickets["mine_open"], Status.OPEN, agent)
    _set_status(tickets["colleague_open"], Status.OPEN, agent)
    _set_status(tickets["mine_pending"], Status.PENDING, agent)
    _set_status(tickets["colleague_on_hold"], Status.ON_HOLD, agent)
    _set_status(tickets["mine_solved"], Status.SOLVED, agent)
    _set_status(tickets["mine_closed"], Status.SOLVED, agent)
    Ticket.objects.filter(pk=tickets["mine_closed"].pk).update(status=Status.CLOSED)
    return {name: Ticket.objects.get(pk=t.pk) for name, t in tickets.items()}


VIEW_CONTENTS = {
    "mine": {"mine_open", "mine_pending"},
    "unassigned": {"team_unassigned", "other_team_unassigned"},
    "my-teams": {
        "mine_open",
        "mine_pending",
        "colleague_open",
        "team_unassigned",
        "colleague_on_hold",
    },
    "open": {"mine_open", "colleague_open", "team_unassigned", "other_team_unassigned"},
    "pending": {"mine_pending"},
    "on-hold": {"colleague_on_hold"},
    "solved": {"mine_solved"},
}


@pytest.mark.parametrize("view", list(VIEW_CONTENTS))
def test_each_view_shows_its_tickets_and_only_them(agent_client, desk, view):
    response = agent_client.get("/tickets/?view=%s" % view)

    assert response.status_code == 200
    expected = {desk[name].number for name in VIEW_CONTENTS[view]}
    assert set(_numbers(response)) == expected


def test_closed_tickets_are_in_no_view(agent_client, desk):
    for view in VIEW_CONTENTS:
        response = agent_client.get("/tickets/?view=%s" % view)

        assert desk["mine_closed"].number not in _numbers(response)


def test_the_view_counts_say_how_many_tickets_each_view_holds(agent_client, desk):
    response = agent_client.get("/tickets/?view=mine")

    for view, names in VIEW_CONTENTS.items():
        assert _count(response, view) == str(len(names))


def test_a_count_beyond_the_cap_reads_as_the_cap_and_more(agent_client, desk, monkeypatch):
    monkeypatch.setattr(queries, "QUEUE_COUNT_CAP", 3)

    response = agent_client.get("/tickets/?view=mine")

    assert _count(response, "open") == "3+"  # 4 tickets
    assert _count(response, "unassigned") == "2"


def test_my_teams_is_empty_for_an_agent_in_no_team(client_for, desk):
    loner = AgentFactory(role=Role.AGENT)

    response = client_for(loner).get("/tickets/?view=my-teams")

    assert response.status_code == 200
    assert _numbers(response) == []
    assert _count(response, "my-teams") == "0"


# --- Filters ------------------------------------------------------------------------------


@pytest.fixture
def varied(agent, colleague, team, outsider):
    """Open tickets that differ in one property each from the plain one."""
    CustomFieldDefinition.objects.create(
        entity="ticket", key="order_ref", label="Order reference", kind="text"
    )
    start = datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC)
    with clock.frozen_at(start):
        plain = make_ticket(actor=agent, team_id=team.pk, subject="Plain question")
    with clock.frozen_at(start + datetime.timedelta(days=10)):
        tickets = {
            "plain": plain,
            "high": make_ticket(actor=agent, team_id=team.pk, priority="high"),
            "other_team": make_ticket(actor=agent, team_id=outsider.teams.get().pk),
            "colleagues": make_ticket(actor=agent, team_id=team.pk, assignee_id=colleague.pk),
            "vip": make_ticket(actor=agent, team_id=team.pk, tags=["vip"]),
            "chat": make_ticket(actor=agent, team_id=team.pk, channel="chat"),
            "order_ref": make_ticket(
                actor=agent, team_id=team.pk, custom_fields={"order_ref": "A-1042"}
            ),
            "refund": make_ticket(
                actor=agent,
                team_id=team.pk,
                subject="Refund for a broken kettle",
                requester_email="kettle.owner@example.org",
            ),
        }
    pending = make_ticket(actor=agent, team_id=team.pk)
    tickets["pending"] = _set_status(pending, Status.PENDING, agent)
    return tickets


def _filtered(agent_client, query: str) -> set[int]:
    response = agent_client.get("/tickets/?" + query)
    assert response.status_code == 200
    return set(_numbers(response))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", {"pending"}),
        ("view=open&priority=high", {"high"}),
        ("view=open&tag=VIP", {"vip"}),
        ("view=open&channel=chat", {"chat"}),
        ("view=open&cf_key=order_ref&cf_value=A-1042", {"order_ref"}),
        ("view=open&q=kettle", {"refund"}),
        ("view=open&q=kettle.owner%40example", {"refund"}),
        ("view=open&created_before=2026-03-01", {"plain"}),
    ],
)
def test_each_filter_narrows_the_queue(agent_client, varied, query, expected):
    assert _filtered(agent_client, query) == {varied[name].number for name in expected}


def test_the_team_filter_keeps_that_teams_tickets(agent_client, varied, outsider):
    team_id = outsider.teams.get().pk

    assert _filtered(agent_client, "view=open&team=%s" % team_id) == {varied["other_team"].number}


def test_the_assignee_filter_keeps_that_agents_tickets(agent_client, varied, colleague):
    assert _filtered(agent_client, "view=open&assignee=%s" % colleague.pk) == {
        varied["colleagues"].number
    }


def test_the_unassigned_filter_drops_assigned_tickets(agent_client, varied):
    shown = _filtered(agent_client, "view=open&assignee=none")

    assert varied["colleagues"].number not in shown
    assert varied["plain"].number in shown


def test_a_ticket_number_finds_that_ticket(agent_client, varied):
    number = varied["chat"].number

    assert _filtered(agent_client, "view=open&q=%%23%s" % number) == {number}


def test_a_date_range_keeps_the_tickets_created_in_it(agent_client, varied):
    shown = _filtered(agent_client, "view=open&created_after=2026-03-05&created_before=2026-03-12")

    assert varied["plain"].number not in shown
    assert varied["high"].number in shown


def test_an_unknown_status_says_so_instead_of_showing_an_empty_queue(agent_client, varied):
    response = agent_client.get("/tickets/?status=opne")

    assert response.status_code == 400
    assert "status opne is not one of" in response.text


# --- Sort and pages -----------------------------------------------------------------------


@pytest.fixture
def three(agent, team):
    """Three open tickets, created a day apart and updated in the opposite order."""
    start = datetime.datetime(2026, 5, 1, 9, tzinfo=datetime.UTC)
    tickets = []
    for day in range(3):
        with clock.frozen_at(start + datetime.timedelta(days=day)):
            tickets.append(make_ticket(actor=agent, team_id=team.pk))
    for day, ticket in enumerate(reversed(tickets)):
        with clock.frozen_at(start + datetime.timedelta(days=10 + day)):
            services.update_ticket(
                number=ticket.number,
                agent=agent,
                changes=services.TicketChanges(priority="high"),
            )
    return [t.number for t in tickets]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("number", [0, 1, 2]),
        ("-number", [2, 1, 0]),
        ("created_at", [0, 1, 2]),
        ("-created_at", [2, 1, 0]),
        ("updated_at", [2, 1, 0]),
        ("-updated_at", [0, 1, 2]),
    ],
)
def test_sorting_by_a_column_orders_the_rows(agent_client, three, sort, order):
    response = agent_client.get("/tickets/?view=open&sort=%s" % sort)

    assert _numbers(response) == [three[i] for i in order]


def test_the_pages_show_every_ticket_once_in_order(agent_client, agent, team, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    numbers = [make_ticket(actor=agent, team_id=team.pk).number for _i in range(5)]
    url = "/tickets/?view=open&sort=number"
    seen: list[int] = []

    pages = 0
    while url:
        response = agent_client.get(url)
        seen += _numbers(response)
        pages += 1
        link = re.search(r'href="\?([^"]*)" rel="next"', response.text)
        url = "/tickets/?" + link.group(1).replace("&amp;", "&") if link else ""

    assert seen == numbers
    assert pages == 3


def test_a_later_page_links_back_to_the_first(agent_client, agent, team, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    for _i in range(2):
        make_ticket(actor=agent, team_id=team.pk)
    first = agent_client.get("/tickets/?view=open")
    link = re.search(r'href="\?([^"]*)" rel="next"', first.text)
    assert link is not None

    second = agent_client.get("/tickets/?" + link.group(1).replace("&amp;", "&"))

    assert "First page" in second.text
    assert "First page" not in first.text


# --- Bulk actions -------------------------------------------------------------------------


def _bulk(client: Client, numbers: list[int], **data: object):
    return client.post(
        "/tickets/bulk", {"numbers": numbers, "query": "view=open", **data}, headers=HTMX
    )


@pytest.fixture
def pair(agent, team):
    return [make_ticket(actor=agent, team_id=team.pk) for _i in range(2)]


def test_bulk_assign_assigns_every_selected_ticket(agent_client, pair, colleague):
    response = _bulk(agent_client, [t.number for t in pair], action="assign", assignee=colleague.pk)

    assert response.status_code == 200
    assert "2 of 2 tickets changed." in response.text
    assert {t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in pair])} == {
        colleague.pk
    }


def test_bulk_status_sets_the_status(agent_client, pair):
    _bulk(agent_client, [t.number for t in pair], action="status", status="pending")

    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in pair]).values_list("status", flat=True)
    ) == {Status.PENDING}


def test_bulk_priority_sets_the_priority(agent_client, pair):
    _bulk(agent_client, [t.number for t in pair], action="priority", priority="urgent")

    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in pair]).values_list("priority", flat=True)
    ) == {"urgent"}


def test_bulk_tag_adds_the_tag_and_keeps_the_others(agent_client, agent, team):
    tagged = make_ticket(actor=agent, team_id=team.pk, tags=["billing"])
    plain = make_ticket(actor=agent, team_id=team.pk)

    _bulk(agent_client, [tagged.number, plain.number], action="tag", tag="VIP")

    assert sorted(tagged.tags.values_list("name", flat=True)) == ["billing", "vip"]
    assert list(plain.tags.values_list("name", flat=True)) == ["vip"]


def test_bulk_merge_merges_the_selection_into_the_target(agent_client, agent, team, pair):
    target = make_ticket(actor=agent, team_id=team.pk)

    response = _bulk(
        agent_client,
        [t.number for t in pair] + [target.number],
        action="merge",
        merge_target="#%s" % target.number,
    )

    assert "2 of 2 tickets changed." in response.text
    for ticket in pair:
        ticket.refresh_from_db()
        assert ticket.merged_into_id == target.pk
        assert ticket.status == Status.CLOSED
    target.refresh_from_db()
    assert target.merged_into_id is None


def test_bulk_reports_each_refused_ticket_and_changes_the_others(agent_client, agent, team, pair):
    closed = pair[1]
    _set_status(closed, Status.SOLVED, agent)
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)

    response = _bulk(agent_client, [t.number for t in pair], action="priority", priority="urgent")

    assert response.status_code == 200
    assert "1 of 2 tickets changed." in response.text
    assert "#%s: Ticket #%s is closed" % (closed.number, closed.number) in response.text
    assert Ticket.objects.get(pk=pair[0].pk).priority == "urgent"
    assert Ticket.objects.get(pk=closed.pk).priority != "urgent"


def test_bulk_without_a_selection_says_to_select(agent_client, pair):
    response = _bulk(agent_client, [], action="status", status="pending")

    assert response.status_code == 422
    assert "Select at least one ticket." in response.text


def test_bulk_without_javascript_redirects_back_with_the_summary(agent_client, pair):
    response = agent_client.post(
        "/tickets/bulk",
        {
            "numbers": [t.number for t in pair],
            "query": "view=open",
            "action": "status",
            "status": "on_hold",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/tickets/?view=open"
    assert "2 of 2 tickets changed." in response.text


# --- Saved views --------------------------------------------------------------------------


def _save(client: Client, name: str, query: str, team: object = ""):
    return client.post("/tickets/views/save", {"name": name, "query": query, "team": team})


def _lists_saved_view(client: Client, name: str) -> bool:
    """Whether the queue's list of views links to the saved view of this name."""
    saved = SavedView.objects.filter(name=name).first()
    return saved is not None and 'saved=%s"' % saved.pk in client.get("/tickets/").text


def test_a_saved_view_appears_in_the_list_and_applies_its_filters(agent_client, agent, varied):
    _save(agent_client, "Urgent billing", "view=open&priority=high")
    saved = SavedView.objects.get(name="Urgent billing")

    queue = agent_client.get("/tickets/")
    link = re.search(r'href="\?([^"]*saved=%s)"' % saved.pk, queue.text)
    assert link is not None
    shown = _filtered(agent_client, link.group(1).replace("&amp;", "&"))

    assert saved.owner == agent
    assert saved.team is None
    assert shown == {varied["high"].number}


def test_a_view_shared_with_a_team_is_seen_by_teammates_only(
    agent_client, client_for, team, colleague, outsider
):
    _save(agent_client, "Team backlog", "view=open", team=team.pk)

    assert _lists_saved_view(client_for(colleague), "Team backlog")
    assert not _lists_saved_view(client_for(outsider), "Team backlog")


def test_a_private_view_is_not_seen_by_teammates(agent_client, client_for, colleague):
    _save(agent_client, "My private list", "view=open")

    assert _lists_saved_view(agent_client, "My private list")
    assert not _lists_saved_view(client_for(colleague), "My private list")


def test_sharing_with_a_team_you_are_not_in_is_refused(agent_client, outsider):
    response = _save(agent_client, "Sneaky", "view=open", team=outsider.teams.get().pk)

    assert response.status_code == 302
    assert not SavedView.objects.filter(name="Sneaky").exists()
    assert "You can share a view only with a team you are in." in agent_client.get("/tickets/").text


def test_the_owner_deletes_a_saved_view(agent_client):
    _save(agent_client, "Old list", "view=open")
    saved = SavedView.objects.get(name="Old list")

    response = agent_client.post("/tickets/views/%s/delete" % saved.pk)

    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=saved.pk).exists()
    assert "saved=%s" % saved.pk not in agent_client.get("/tickets/").text


def test_a_teammate_cannot_delete_a_shared_view(agent_client, client_for, team, colleague):
    _save(agent_client, "Shared list", "view=open", team=team.pk)
    saved = SavedView.objects.get(name="Shared list")

    response = client_for(colleague).post("/tickets/views/%s/delete" % saved.pk)

    assert response.status_code == 404
    assert SavedView.objects.filter(pk=saved.pk).exists()
