"""The tickets API as an integration sees it: create, list, read, change, talk, merge, bulk."""

from datetime import UTC, datetime, timedelta

import pytest

from serviceloop.core import clock
from serviceloop.core.custom_fields import create_custom_field
from serviceloop.customers.models import Customer
from serviceloop.tickets import services
from serviceloop.tickets.models import EventKind, Message, Status, Ticket
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.customers.factories import CustomerFactory
from tests.tickets.factories import make_ticket

NEW_TICKET = {
    "subject": "Lamp arrived broken",
    "body": "The shade was cracked in two places.",
    "requester": {"email": "Mia.Wong@Example.com", "name": "Mia Wong"},
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # The agent factory sets a password; the default hasher would take most of each test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _numbers(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [item["number"] for item in response.json()["items"]]


# --- Create -------------------------------------------------------------------------------


def test_creating_a_ticket_answers_201_with_the_ticket(api):  # type: ignore[no-untyped-def]
    response = api.post_json(
        "/api/v1/tickets", {**NEW_TICKET, "priority": "high", "type": "incident"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == body["number"]
    assert (body["status"], body["priority"], body["type"], body["channel"]) == (
        "new",
        "high",
        "incident",
        "api",
    )
    assert body["subject"] == "Lamp arrived broken"
    assert body["requester"]["email"] == "mia.wong@example.com"
    assert body["requester"]["name"] == "Mia Wong"
    assert body["created_at"]
    assert body["assignee"] is None
    assert Ticket.objects.get(number=body["number"]).messages.get().body_text == NEW_TICKET["body"]


def test_creating_a_ticket_for_a_new_address_creates_the_customer(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/tickets", NEW_TICKET)

    customer = Customer.objects.get(email="mia.wong@example.com")
    assert response.json()["requester"]["id"] == customer.pk
    assert customer.name == "Mia Wong"


def test_creating_a_ticket_for_a_known_address_finds_the_customer(api):  # type: ignore[no-untyped-def]
    known = CustomerFactory(email="mia.wong@example.com", name="Mia W.")

    response = api.post_json("/api/v1/tickets", NEW_TICKET)

    assert response.status_code == 201
    assert response.json()["requester"]["id"] == known.pk
    assert Customer.objects.filter(email="mia.wong@example.com").count() == 1


def test_creating_a_ticket_with_tags_and_custom_fields_stores_them(api, team):  # type: ignore[no-untyped-def]
    create_custom_field(entity="ticket", key="order_number", label="Order number", kind="text")

    response = api.post_json(
        "/api/v1/tickets",
        {
            **NEW_TICKET,
            "tags": ["Damaged Goods", "vip"],
            "custom_fields": {"order_number": "1042"},
            "team": team.pk,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["tags"] == ["damaged-goods", "vip"]
    assert body["custom_fields"] == {"order_number": "1042"}
    assert body["team"] == {"id": team.pk, "name": team.name}


def test_creating_a_ticket_for_an_unknown_team_names_the_field(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/tickets", {**NEW_TICKET, "team": 987654})

    assert response.status_code == 400
    assert response.json()["field"] == "team"
    assert "987654" in response.json()["message"]
    assert not Ticket.objects.exists()


def test_creating_a_ticket_with_an_unknown_custom_field_names_it(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/tickets", {**NEW_TICKET, "custom_fields": {"colour": "red"}})

    assert response.status_code == 400
    assert response.json()["field"] == "custom_fields.colour"


def test_creating_a_ticket_with_a_bad_requester_address_names_the_field(api):  # type: ignore[no-untyped-def]
    response = api.post_json(
        "/api/v1/tickets", {**NEW_TICKET, "requester": {"email": "not an address"}}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "requester.email"


def test_a_contributor_cannot_create_tickets(api_client_for, contributor):  # type: ignore[no-untyped-def]
    response = api_client_for(contributor).post_json("/api/v1/tickets", NEW_TICKET)

    assert response.status_code == 403
    assert "Contributors" in response.json()["message"]
    assert not Ticket.objects.exists()


# --- List: filters ------------------------------------------------------------------------


@pytest.fixture
def queue(agent, team):  # type: ignore[no-untyped-def]
    """Tickets that differ in one attribute each."""
    other_team = TeamFactory()
    requester = CustomerFactory(email="olga@example.com")
    tickets = {
        "new": make_ticket(actor=agent, subject="Invoice is wrong"),
        "open_urgent": make_ticket(actor=agent, priority="urgent", assignee_id=agent.pk),
        "pending": make_ticket(actor=agent, team_id=team.pk, tags=["refund"]),
        "other_team": make_ticket(actor=agent, team_id=other_team.pk),
        "olga": make_ticket(actor=agent, requester_email="olga@example.com"),
    }
    services.change_status(number=tickets["pending"].number, agent=agent, status=Status.PENDING)
    tickets["olga_requester"] = requester  # type: ignore[assignment]
    tickets["other_team_id"] = other_team.pk  # type: ignore[assignment]
    return tickets


def test_listing_without_filters_shows_every_ticket(api, queue):  # type: ignore[no-untyped-def]
    assert len(_numbers(api.get("/api/v1/tickets"))) == 5


def test_the_status_filter_narrows_to_one_status(api, queue):  # type: ignore[no-untyped-def]
    assert _numbers(api.get("/api/v1/tickets?status=pending")) == [queue["pending"].number]


def test_the_status_filter_takes_a_comma_list_and_repeats(api, queue):  # type: ignore[no-untyped-def]
    expected = sorted([queue["pending"].number, queue["open_urgent"].number])

    assert sorted(_numbers(api.get("/api/v1/tickets?status=pending,open"))) == expected
    assert sorted(_numbers(api.get("/api/v1/tickets?status=pending&status=open"))) == expected


def test_an_unknown_status_is_refused_rather_than_matching_nothing(api, queue):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets?status=open,opne")

    assert response.status_code == 400
    assert response.json()["field"] == "status"
    assert "opne" in response.json()["message"]


def test_the_priority_filter_narrows(api, queue):  # type: ignore[no-untyped-def]
    assert _numbers(api.get("/api/v1/tickets?priority=urgent")) == [queue["open_urgent"].number]


def test_the_team_filter_narrows(api, queue, team):  # type: ignore[no-untyped-def]
    assert _numbers(api.get(f"/api/v1/tickets?team={team.pk}")) == [queue["pending"].number]
    assert _numbers(api.get(f"/api/v1/tickets?team={queue['other_team_id']}")) == [
        queue["other_team"].number
    ]


def test_the_assignee_filter_takes_me_none_or_an_id(api, queue, agent):  # type: ignore[no-untyped-def]
    mine = [queue["open_urgent"].number]

    assert _numbers(api.get("/api/v1/tickets?assignee=me")) == mine
    assert _numbers(api.get(f"/api/v1/tickets?assignee={agent.pk}")) == mine
    assert queue["open_urgent"].number not in _numbers(api.get("/api/v1/tickets?assignee=none"))
    assert len(_numbers(api.get("/api/v1/tickets?assignee=none"))) == 4


def test_an_assignee_that_is_no_id_names_the_field(api, queue):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets?assignee=someone")

    assert response.status_code == 400
    assert response.json()["field"] == "assignee"


def test_the_requester_filter_narrows(api, queue):  # type: ignore[no-untyped-def]
    response = api.get(f"/api/v1/tickets?requester={queue['olga_requester'].pk}")

    assert _numbers(response) == [queue["olga"].number]


def test_the_tag_filter_narrows(api, queue):  # type: ignore[no-untyped-def]
    assert _numbers(api.get("/api/v1/tickets?tag=refund")) == [queue["pending"].number]
    assert _numbers(api.get("/api/v1/tickets?tag=Refund")) == [queue["pending"].number]


def test_q_finds_tickets_by_subject_words(api, queue):  # type: ignore[no-untyped-def]
    assert _numbers(api.get("/api/v1/tickets?q=invoice")) == [queue["new"].number]


def test_q_finds_a_ticket_by_its_number(api, queue):  # type: ignore[no-untyped-def]
    number = queue["olga"].number

    assert _numbers(api.get(f"/api/v1/tickets?q=%23{number}")) == [number]
    assert _numbers(api.get(f"/api/v1/tickets?q={number}")) == [number]


def test_filters_combine(api, queue, agent):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets?status=open&priority=urgent&assignee=me")

    assert _numbers(response) == [queue["open_urgent"].number]
    assert _numbers(api.get("/api/v1/tickets?status=open&priority=low")) == []


# --- List: sort and pagination ------------------------------------------------------------


@pytest.fixture
def dated_tickets(agent):  # type: ignore[no-untyped-def]
    """Seven tickets created a day apart; the oldest was changed last."""
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    tickets = []
    for day in range(7):
        with clock.frozen_at(start + timedelta(days=day)):
            tickets.append(make_ticket(actor=agent))
    with clock.frozen_at(start + timedelta(days=30)):
        services.update_ticket(
            number=tickets[0].number, agent=agent, changes=services.TicketChanges(priority="high")
        )
    return [t.number for t in tickets]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("number", [0, 1, 2, 3, 4, 5, 6]),
        ("-number", [6, 5, 4, 3, 2, 1, 0]),
        ("created_at", [0, 1, 2, 3, 4, 5, 6]),
        ("-created_at", [6, 5, 4, 3, 2, 1, 0]),
        ("updated_at", [1, 2, 3, 4, 5, 6, 0]),
        ("-updated_at", [0, 6, 5, 4, 3, 2, 1]),
    ],
)
def test_each_sort_orders_the_list(api, dated_tickets, sort, order):  # type: ignore[no-untyped-def]
    response = api.get(f"/api/v1/tickets?sort={sort}")

    assert _numbers(response) == [dated_tickets[i] for i in order]


def test_the_default_sort_is_most_recently_updated_first(api, dated_tickets):  # type: ignore[no-untyped-def]
    assert _numbers(api.get("/api/v1/tickets"))[0] == dated_tickets[0]


def test_an_unknown_sort_names_the_field(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets?sort=priority")

    assert response.status_code == 422
    assert response.json()["field"] == "sort"


def _walk(api, query: str) -> tuple[list[int], int]:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    pages = 0
    url = f"/api/v1/tickets?{query}"
    while True:
        response = api.get(url)
        seen += _numbers(response)
        pages += 1
        cursor = response.json()["next"]
        if cursor is None:
            return seen, pages
        url = f"/api/v1/tickets?{query}&cursor={cursor}"


@pytest.mark.parametrize("sort", ["number", "-number", "created_at", "-updated_at", "updated_at"])
def test_paging_with_the_cursor_shows_every_ticket_once(api, dated_tickets, sort):  # type: ignore[no-untyped-def]
    everything = _numbers(api.get(f"/api/v1/tickets?sort={sort}"))

    seen, pages = _walk(api, f"sort={sort}&limit=3")

    assert pages == 3
    assert seen == everything
    assert sorted(seen) == sorted(dated_tickets)


def test_paging_tickets_with_equal_timestamps_skips_none_and_repeats_none(api, agent):  # type: ignore[no-untyped-def]
    with clock.frozen_at(datetime(2026, 3, 1, 9, 0, tzinfo=UTC)):
        numbers = [make_ticket(actor=agent).number for _ in range(5)]

    seen, _pages = _walk(api, "sort=-updated_at&limit=2")

    assert sorted(seen) == sorted(numbers)
    assert len(seen) == len(set(seen))


def test_the_last_page_has_no_next_cursor(api, dated_tickets):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets?limit=7")

    assert len(response.json()["items"]) == 7
    assert response.json()["next"] is None


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjogMX0", "WzEsICJ4Il0", "%00%ff"])
def test_a_tampered_cursor_names_the_cursor(api, dated_tickets, cursor):  # type: ignore[no-untyped-def]
    response = api.get(f"/api/v1/tickets?cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["field"] == "cursor"
    assert response.json()["message"]


def test_a_cursor_from_another_sort_names_the_cursor(api, dated_tickets):  # type: ignore[no-untyped-def]
    cursor = api.get("/api/v1/tickets?sort=number&limit=2").json()["next"]

    response = api.get(f"/api/v1/tickets?sort=-updated_at&cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "-1", "201", "1000000", "ten"])
def test_a_limit_out_of_bounds_names_the_limit(api, limit):  # type: ignore[no-untyped-def]
    response = api.get(f"/api/v1/tickets?limit={limit}")

    assert response.status_code == 422
    assert response.json()["field"] == "limit"


def test_the_largest_limit_is_allowed(api, dated_tickets):  # type: ignore[no-untyped-def]
    assert len(_numbers(api.get("/api/v1/tickets?limit=200"))) == 7


# --- Read one -----------------------------------------------------------------------------


def test_getting_a_ticket_by_its_number(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent, subject="Wrong size delivered")

    response = api.get(f"/api/v1/tickets/{ticket.number}")

    assert response.status_code == 200
    assert response.json()["subject"] == "Wrong size delivered"
    assert response.json()["id"] == ticket.number


def test_an_unknown_ticket_is_a_404_with_its_code(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets/424242")

    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"
    assert "#424242" in response.json()["message"]


# --- Change -------------------------------------------------------------------------------


def test_patching_several_fields_applies_them_as_one_change(api, agent, team):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.patch_json(
        f"/api/v1/tickets/{ticket.number}",
        {
            "subject": "Lamp shade cracked",
            "priority": "high",
            "tags": ["damaged"],
            "team": team.pk,
            "assignee": agent.pk,
            "status": "pending",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["subject"], body["priority"], body["tags"], body["status"]) == (
        "Lamp shade cracked",
        "high",
        ["damaged"],
        "pending",
    )
    assert body["assignee"]["id"] == agent.pk
    assert body["team"]["id"] == team.pk
    change = ticket.events.exclude(kind__in=[EventKind.CREATED, EventKind.MESSAGE])
    assert len({e.request_id for e in change}) == 1


def test_a_patch_with_one_bad_field_changes_nothing(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)
    events_before = ticket.events.count()

    response = api.patch_json(
        f"/api/v1/tickets/{ticket.number}", {"priority": "urgent", "assignee": 987654}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "assignee"
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
    assert ticket.events.count() == events_before


def test_a_patch_refused_by_the_lifecycle_changes_nothing(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.patch_json(
        f"/api/v1/tickets/{ticket.number}", {"priority": "urgent", "status": "closed"}
    )

    assert response.status_code == 409
    assert "Solve ticket" in response.json()["message"]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("normal", Status.NEW)


def test_a_patch_with_an_unknown_priority_names_the_field(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.patch_json(f"/api/v1/tickets/{ticket.number}", {"priority": "asap"})

    assert response.status_code == 422
    assert response.json()["field"] == "priority"


def test_patching_an_unknown_ticket_is_a_404(api):  # type: ignore[no-untyped-def]
    response = api.patch_json("/api/v1/tickets/424242", {"priority": "high"})

    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"


def test_a_contributor_cannot_patch_a_ticket_not_assigned_to_them(
    api_client_for, contributor, agent
):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api_client_for(contributor).patch_json(
        f"/api/v1/tickets/{ticket.number}", {"priority": "high"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_assigned_to_you"


# --- Messages -----------------------------------------------------------------------------


def test_an_agent_replies_and_the_reply_is_listed(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(
        f"/api/v1/tickets/{ticket.number}/messages",
        {"body": "A new shade is on its way.", "kind": "reply", "status": "pending"},
    )

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["author_kind"]) == ("reply", "agent")
    assert response.json()["author_agent_id"] == agent.pk
    listed = api.get(f"/api/v1/tickets/{ticket.number}/messages").json()
    assert [m["body"] for m in listed] == [
        ticket.messages.order_by("id").first().body_text,  # type: ignore[union-attr]
        "A new shade is on its way.",
    ]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.first_agent_reply_at is not None


def test_a_note_is_stored_as_a_note(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(
        f"/api/v1/tickets/{ticket.number}/messages", {"body": "Courier lost it.", "kind": "note"}
    )

    assert response.status_code == 201
    assert ticket.messages.get(kind=Message.Kind.NOTE).body_text == "Courier lost it."
    ticket.refresh_from_db()
    assert ticket.first_agent_reply_at is None


def test_a_contributor_notes_any_ticket(api_client_for, contributor, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api_client_for(contributor).post_json(
        f"/api/v1/tickets/{ticket.number}/messages", {"body": "Warehouse: resent.", "kind": "note"}
    )

    assert response.status_code == 201
    assert response.json()["kind"] == "note"


def test_a_contributors_reply_on_a_ticket_not_assigned_to_them_is_refused(  # type: ignore[no-untyped-def]
    api_client_for, contributor, agent
):
    ticket = make_ticket(actor=agent)

    response = api_client_for(contributor).post_json(
        f"/api/v1/tickets/{ticket.number}/messages", {"body": "Hi!", "kind": "reply"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_assigned_to_you"
    assert f"#{ticket.number} is not" in response.json()["message"]
    assert ticket.messages.count() == 1


def test_a_contributor_replies_on_a_ticket_assigned_to_them(api_client_for, contributor, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent, assignee_id=contributor.pk)

    response = api_client_for(contributor).post_json(
        f"/api/v1/tickets/{ticket.number}/messages", {"body": "Resent today.", "kind": "reply"}
    )

    assert response.status_code == 201


def test_an_empty_message_names_the_body(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(f"/api/v1/tickets/{ticket.number}/messages", {"body": "   "})

    assert response.status_code == 400
    assert response.json()["field"] == "body"


def test_a_note_cannot_set_the_status(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(
        f"/api/v1/tickets/{ticket.number}/messages",
        {"body": "x", "kind": "note", "status": "solved"},
    )

    assert response.status_code == 400
    assert response.json()["field"] == "status"


def test_an_unknown_message_kind_names_the_field(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(
        f"/api/v1/tickets/{ticket.number}/messages", {"body": "x", "kind": "whisper"}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "kind"


def test_messages_of_an_unknown_ticket_are_a_404(api):  # type: ignore[no-untyped-def]
    assert api.get("/api/v1/tickets/424242/messages").status_code == 404
    response = api.post_json("/api/v1/tickets/424242/messages", {"body": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"


# --- Events -------------------------------------------------------------------------------


def test_the_event_log_lists_every_change_in_order(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)
    api.patch_json(f"/api/v1/tickets/{ticket.number}", {"priority": "high"})

    response = api.get(f"/api/v1/tickets/{ticket.number}/events")

    assert response.status_code == 200
    events = response.json()
    assert [e["kind"] for e in events] == [EventKind.CREATED, EventKind.MESSAGE, EventKind.PRIORITY]
    assert (events[2]["before"], events[2]["after"], events[2]["actor_id"]) == (
        "normal",
        "high",
        agent.pk,
    )


def test_events_of_an_unknown_ticket_are_a_404(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets/424242/events")

    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"


# --- Merge --------------------------------------------------------------------------------


def test_merging_moves_the_conversation_and_closes_the_source(api, agent):  # type: ignore[no-untyped-def]
    source, target = make_ticket(actor=agent), make_ticket(actor=agent)

    response = api.post_json(f"/api/v1/tickets/{source.number}/merge", {"into": target.number})

    assert response.status_code == 200
    assert response.json()["number"] == target.number
    assert target.messages.count() == 2
    merged = api.get(f"/api/v1/tickets/{source.number}").json()
    assert (merged["status"], merged["merged_into"]) == ("closed", target.number)


def test_merging_a_ticket_into_itself_names_the_field(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(f"/api/v1/tickets/{ticket.number}/merge", {"into": ticket.number})

    assert response.status_code == 400
    assert response.json()["field"] == "into"


def test_merging_into_an_unknown_ticket_is_a_404(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)

    response = api.post_json(f"/api/v1/tickets/{ticket.number}/merge", {"into": 424242})

    assert response.status_code == 404
    assert "#424242" in response.json()["message"]
    ticket.refresh_from_db()
    assert ticket.merged_into is None


def test_merging_into_a_closed_ticket_is_a_conflict(api, agent):  # type: ignore[no-untyped-def]
    source, target = make_ticket(actor=agent), make_ticket(actor=agent)
    services.solve_ticket(number=target.number, agent=agent)
    services.change_status(number=target.number, agent=agent, status=Status.CLOSED)

    response = api.post_json(f"/api/v1/tickets/{source.number}/merge", {"into": target.number})

    assert response.status_code == 409
    assert response.json()["code"] == "ticket_closed"


def test_a_contributor_is_told_contributors_do_not_merge(api_client_for, contributor, agent):  # type: ignore[no-untyped-def]
    source = make_ticket(actor=agent, assignee_id=contributor.pk)
    target = make_ticket(actor=agent)

    response = api_client_for(contributor).post_json(
        f"/api/v1/tickets/{source.number}/merge", {"into": target.number}
    )

    assert response.status_code == 403
    assert "merge" in response.json()["message"]


# --- Bulk ---------------------------------------------------------------------------------


def test_a_bulk_change_reports_each_ticket(api, agent):  # type: ignore[no-untyped-def]
    first, second = make_ticket(actor=agent), make_ticket(actor=agent)
    closed = make_ticket(actor=agent)
    services.solve_ticket(number=closed.number, agent=agent)
    services.change_status(number=closed.number, agent=agent, status=Status.CLOSED)

    response = api.post_json(
        "/api/v1/tickets/bulk",
        {"numbers": [first.number, closed.number, 424242, second.number], "priority": "high"},
    )

    assert response.status_code == 200, response.content
    results = {r["number"]: (r["ok"], r["code"]) for r in response.json()}
    assert results == {
        first.number: (True, ""),
        closed.number: (False, "ticket_closed"),
        424242: (False, "ticket_not_found"),
        second.number: (True, ""),
    }
    assert [r["message"] for r in response.json() if not r["ok"]] != ["", ""]
    assert set(Ticket.objects.filter(priority="high").values_list("number", flat=True)) == {
        first.number,
        second.number,
    }


def test_a_bulk_assignment_to_an_agent_outside_the_team_fails_per_ticket(api, agent, team):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent, team_id=team.pk)
    outsider = AgentFactory()

    response = api.post_json(
        "/api/v1/tickets/bulk", {"numbers": [ticket.number], "assignee": outsider.pk}
    )

    assert response.status_code == 200
    [result] = response.json()
    assert (result["ok"], result["code"]) == (False, "invalid")
    assert "not a member" in result["message"]


def test_a_bulk_change_of_no_tickets_names_the_numbers(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/tickets/bulk", {"numbers": [], "priority": "high"})

    assert response.status_code == 422
    assert response.json()["field"] == "numbers"
