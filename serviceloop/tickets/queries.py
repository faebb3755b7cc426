"""Reads of tickets that are more than a one-line ORM call."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, Q, QuerySet, Subquery
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from serviceloop.accounts.models import User
from serviceloop.core.errors import InvalidInput, ObjectNotFound
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.customers.models import Customer, Identity, Organization
from serviceloop.tickets.errors import TicketNotFound
from serviceloop.tickets.models import (
    UNSOLVED_STATES,
    Channel,
    Message,
    Priority,
    SavedView,
    Status,
    Ticket,
    TicketEvent,
)

# Joined into the ticket's own query.
TICKET_RELATIONS = ("requester", "organization", "assignee", "team", "custom_status")
# Other tickets a ticket points at: fetched by one more query each, and only when a
# ticket on hand has one. Joining tickets_ticket four more times made PostgreSQL plan
# a 10-table join on every list page and ticket read; with ~20 indexes on each copy of
# the table that took 25-70 ms, against under 1 ms to run it (see bench/README.md).
LINKED_TICKETS = ("problem", "parent", "merged_into", "follow_up_of")


def ticket_for_agent(agent: User, number: int, *, for_update: bool = False) -> Ticket:
    """Return the ticket if this agent may see it.

    A missing ticket and one the agent may not see raise the same error, so ticket
    numbers cannot be probed.
    """
    tickets = Ticket.objects.visible_to(agent)
    if for_update:
        # Lock only the ticket row: the joined relations may be NULL (outer joins).
        tickets = tickets.select_for_update(of=("self",))
    try:
        return (
            tickets.select_related(*TICKET_RELATIONS)
            .prefetch_related(*LINKED_TICKETS)
            .get(number=number)
        )
    except Ticket.DoesNotExist:
        raise TicketNotFound(number) from None


def surviving_ticket(ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The ticket, or the one it was merged into (through any chain of merges).

    Where a reply to the ticket belongs. `for_update` locks each ticket on the way.
    """
    tickets = Ticket.objects.select_for_update() if for_update else Ticket.objects.all()
    ticket = tickets.filter(pk=ticket_id).first()
    if ticket is None:
        raise ObjectNotFound("Ticket", ticket_id)
    while ticket.merged_into_id is not None:
        ticket = tickets.get(pk=ticket.merged_into_id)
    return ticket


def open_ticket_counts(agent_ids: list[int]) -> dict[int, int]:
    """How many new or open tickets each agent holds (what capacity limits)."""
    rows = (
        Ticket.objects.filter(assignee_id__in=agent_ids, status__in=[Status.NEW, Status.OPEN])
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(agent_ids, 0)
    counts.update({row["assignee_id"]: row["n"] for row in rows})
    return counts


def tickets_waiting_in_team(team_id: int) -> QuerySet[Ticket]:
    """Unassigned unsolved tickets of a team, oldest first: the order routing serves them."""
    return Ticket.objects.filter(
        team_id=team_id, assignee__isnull=True, status__in=UNSOLVED_STATES
    ).order_by("created_at", "id")


def messages_for_agent(agent: User, number: int) -> QuerySet[Message]:
    ticket = ticket_for_agent(agent, number)
    return (
        ticket.messages.select_related("author_agent", "author_customer")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def events_for_agent(agent: User, number: int) -> QuerySet[TicketEvent]:
    ticket = ticket_for_agent(agent, number)
    return ticket.events.select_related("actor").order_by("created_at", "id")


# --- The ticket list: filters, sort, cursor pagination ------------------------------------

SORTS = {
    "updated_at": ("updated_at", False),
    "-updated_at": ("updated_at", True),
    "created_at": ("created_at", False),
    "-created_at": ("created_at", True),
    "number": ("number", False),
    "-number": ("number", True),
}


@dataclass(frozen=True)
class TicketFilters:
    status: list[str] | None = None
    priority: list[str] | None = None
    team: int | None = None
    # Any of these teams (the "my teams" view).
    teams: list[int] | None = None
    assignee: int | None = None
    unassigned: bool = False
    requester: int | None = None
    organization: int | None = None
    tag: str | None = None
    channel: str | None = None
    # (key, value) of a ticket custom field that must hold exactly this value.
    custom_field: tuple[str, str] | None = None
    q: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None


def _encode_cursor(value: object, pk: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, field: str) -> tuple[object, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(pk, int):
            raise ValueError
        if field in ("updated_at", "created_at"):
            moment = parse_datetime(value)
            if moment is None:
                raise ValueError
            return moment, pk
        if not isinstance(value, int):
            raise ValueError
        return value, pk
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput(
            _("cursor is not one this API handed out; start again without it."), field="cursor"
        ) from None


def _number(value: str) -> object:
    """A filter value typed as text, as the number a number field stores, when it is one."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _refuse_unknown(field: str, values: list[str], choices: list[str]) -> None:
    # A misspelt status would otherwise filter out every ticket and look like an empty queue.
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise InvalidInput(
            _("%(field)s %(unknown)s is not one of: %(values)s.")
            % {"field": field, "unknown": ", ".join(unknown), "values": ", ".join(choices)},
            field=field,
        )


def filter_tickets(agent: User, filters: TicketFilters) -> QuerySet[Ticket]:
    _refuse_unknown("status", filters.status or [], Status.values)
    _refuse_unknown("priority", filters.priority or [], Priority.values)
    _refuse_unknown("channel", [filters.channel] if filters.channel else [], Channel.values)
    tickets = Ticket.objects.visible_to(agent)
    if filters.status:
        tickets = tickets.filter(status__in=filters.status)
    if filters.priority:
        tickets = tickets.filter(priority__in=filters.priority)
    if filters.team is not None:
        tickets = tickets.filter(team_id=filters.team)
    if filters.teams is not None:
        tickets = tickets.filter(team_id__in=filters.teams)
    if filters.unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        tickets = tickets.filter(assignee_id=filters.assignee)
    if filters.requester is not None:
        tickets = tickets.filter(requester_id=filters.requester)
    if filters.organization is not None:
        tickets = tickets.filter(organization_id=filters.organization)
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    if filters.tag:
        tickets = tickets.filter(tags__name=filters.tag.strip().lower())
    if filters.custom_field is not None:
        key, value = filters.custom_field
        # The key becomes part of a JSON path lookup, so only a defined field's key is used.
        if not CustomFieldDefinition.objects.filter(entity="ticket", key=key).exists():
            raise InvalidInput(
                _("There is no ticket field %(key)s.") % {"key": key}, field="custom_field"
            )
        tickets = tickets.filter(
            Q(**{f"custom_fields__{key}": value}) | Q(**{f"custom_fields__{key}": _number(value)})
        )
    if filters.q:
        q = filters.q.strip()
        text = Q(subject__icontains=q) | Q(requester__email__icontains=q)
        # isascii: "²" is a digit to str.isdigit() but not to int().
        if q.lstrip("#").isascii() and q.lstrip("#").isdigit():
            text |= Q(number=int(q.lstrip("#")))
        tickets = tickets.filter(text)
    for name, lookup in (
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lt"),
        ("updated_after", "updated_at__gte"),
        ("updated_before", "updated_at__lt"),
    ):
        if (moment := getattr(filters, name)) is not None:
            tickets = tickets.filter(**{lookup: moment})
    return tickets


def ticket_page(
    agent: User,
    filters: TicketFilters,
    *,
    sort: str = "-updated_at",
    limit: int = 50,
    cursor: str | None = None,
    columns: tuple[str, ...] | None = None,
) -> tuple[list[Ticket], str | None]:
    """One page of the ticket list and the cursor of the next, keyset-paginated.

    Keyset pagination costs the same on page 1 and page 10,000, and a ticket updated
    while someone pages is neither skipped nor shown twice within one sort key.
    With `columns`, only those fields (and the tags) are loaded, for a list that shows
    no more; reading any other field of a row then costs a query.
    """
    if sort not in SORTS:
        raise InvalidInput(
            _("sort must be one of: %(sorts)s.") % {"sorts": ", ".join(SORTS)}, field="sort"
        )
    field, descending = SORTS[sort]
    tickets = filter_tickets(agent, filters)
    if cursor:
        value, pk = _decode_cursor(cursor, field)
        # The bound on the sort field alone (<= or >=) says the same as the OR beside it
        # but is one the index can start from; with the OR alone the database reads every
        # row before the cursor, so page 500 would cost 500 pages.
        if descending:
            tickets = tickets.filter(
                Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk}),
                **{f"{field}__lte": value},
            )
        else:
            tickets = tickets.filter(
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}),
                **{f"{field}__gte": value},
            )
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    tickets = tickets.select_related(*TICKET_RELATIONS)
    if columns is None:
        tickets = tickets.prefetch_related("tags", *LINKED_TICKETS)
    else:
        tickets = tickets.only(*columns).prefetch_related("tags")
    rows = list(tickets.order_by(*order)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, field), last.pk)
    return rows, next_cursor


# --- The agent workspace: queue views, counts, neighbours, customer panel and 360 pages ---


@dataclass(frozen=True)
class QueueView:
    slug: str
    label: object


QUEUE_VIEWS = (
    QueueView("mine", _lazy("My open tickets")),
    QueueView("unassigned", _lazy("Unassigned")),
    QueueView("my-teams", _lazy("My teams")),
    QueueView("open", _lazy("All open")),
    QueueView("pending", _lazy("Pending")),
    QueueView("on-hold", _lazy("On-hold")),
    QueueView("solved", _lazy("Recently solved")),
)
OPEN_STATES = [Status.NEW, Status.OPEN]
# What a queue row shows (tickets/queue.html): a third of a ticket's columns, and none
# of the linked tickets the API list prefetches.
QUEUE_COLUMNS = (
    "number",
    "subject",
    "status",
    "priority",
    "created_at",
    "updated_at",
    "custom_status__name",
    "requester__name",
    "requester__email",
    "organization__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "team__name",
)


def team_ids_of(agent: User) -> list[int]:
    return list(agent.teams.values_list("id", flat=True))


def view_filters(slug: str, *, agent: User, team_ids: list[int]) -> TicketFilters:
    """The filters behind a built-in queue view; an unknown view is all unsolved tickets."""
    unsolved = [str(s) for s in UNSOLVED_STATES]
    return {
        "mine": TicketFilters(assignee=agent.pk, status=unsolved),
        "unassigned": TicketFilters(unassigned=True, status=unsolved),
        "my-teams": TicketFilters(teams=team_ids, status=unsolved),
        "open": TicketFilters(status=[str(s) for s in OPEN_STATES]),
        "pending": TicketFilters(status=[Status.PENDING]),
        "on-hold": TicketFilters(status=[Status.ON_HOLD]),
        "solved": TicketFilters(status=[Status.SOLVED]),
    }.get(slug, TicketFilters(status=unsolved))


# A queue count reads at most this many rows and then shows "999+": a backlog of
# 200,000 open tickets and one of 2,000 call for the same action, and counting every
# row of a 1M-ticket desk cost ~400 ms on each page load and each 5-second poll.
QUEUE_COUNT_CAP = 999


class CappedCount(Subquery):
    """How many rows a sliced queryset returns: COUNT(*) over it, so its LIMIT caps the work."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def queue_counts(agent: User, *, team_ids: list[int]) -> dict[str, int]:
    """How many tickets each built-in view holds, up to QUEUE_COUNT_CAP + 1, in one query.

    Each count reads the view's own filters through its index and stops after
    QUEUE_COUNT_CAP + 1 rows, so it costs the same with 1,000 tickets or 1M.
    """
    # Ordered as the views list their tickets, so that PostgreSQL reads the first rows of
    # each view's index and stops. Unordered, it may pick a sequential scan, which costs
    # the same only while the view's tickets are spread evenly through the table; they
    # are not in a real desk, where the unsolved tickets are the recent ones.
    counts = {
        view.slug.replace("-", "_"): CappedCount(
            filter_tickets(agent, view_filters(view.slug, agent=agent, team_ids=team_ids))
            .order_by("-updated_at", "-id")
            .values("id")[: QUEUE_COUNT_CAP + 1]
        )
        for view in QUEUE_VIEWS
    }
    # The counts need a row to be selected with: the agent's own.
    row: dict[str, Any] = dict(User.objects.filter(pk=agent.pk).values(**counts).first() or {})
    # A view that can hold nothing ("my teams" of an agent in no team) counts NULL.
    return {view.slug: row.get(view.slug.replace("-", "_")) or 0 for view in QUEUE_VIEWS}


def count_label(count: int) -> str:
    """A queue count as the queue shows it: exact up to the cap, "999+" beyond."""
    return f"{QUEUE_COUNT_CAP}+" if count > QUEUE_COUNT_CAP else str(count)


def neighbours_in_view(
    agent: User, filters: TicketFilters, *, sort: str, ticket: Ticket
) -> tuple[int | None, int | None]:
    """The numbers of the tickets before and after this one in a list (two indexed reads)."""
    if sort not in SORTS:
        sort = "-updated_at"
    field, descending = SORTS[sort]
    value = getattr(ticket, field)
    tickets = filter_tickets(agent, filters)
    # Each OR comes with the bound on the sort field alone, which says nothing more but
    # lets the index scan start at this ticket (see ticket_page).
    after = (Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": ticket.pk})) & Q(
        **{f"{field}__gte": value}
    )
    before = (Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": ticket.pk})) & Q(
        **{f"{field}__lte": value}
    )
    ascending_order = [field, "id"]
    descending_order = [f"-{field}", "-id"]
    if descending:
        following = tickets.filter(before).order_by(*descending_order)
        preceding = tickets.filter(after).order_by(*ascending_order)
    else:
        following = tickets.filter(after).order_by(*ascending_order)
        preceding = tickets.filter(before).order_by(*descending_order)
    previous_number = preceding.values_list("number", flat=True).first()
    next_number = following.values_list("number", flat=True).first()
    return previous_number, next_number


@dataclass
class CustomerPanel:
    identities: list[Identity]
    open_tickets: list[Ticket]
    recent_tickets: list[Ticket]
    total_tickets: int


def customer_panel(customer: Customer, *, exclude: Ticket | None = None) -> CustomerPanel:
    """What an agent sees of a requester next to a ticket: three queries, any history size."""
    tickets = Ticket.objects.filter(requester=customer)
    others = tickets.exclude(pk=exclude.pk) if exclude is not None else tickets
    recent = list(
        others.only("number", "subject", "status", "updated_at").order_by("-created_at")[:8]
    )
    return CustomerPanel(
        identities=list(customer.identities.order_by("kind", "value")),
        open_tickets=[t for t in recent if t.status in UNSOLVED_STATES],
        recent_tickets=[t for t in recent if t.status not in UNSOLVED_STATES],
        total_tickets=tickets.count(),
    )


@dataclass
class LatestTickets:
    """The newest of someone's tickets, and how many they have in all."""

    tickets: list[Ticket]
    total: int


def customer_tickets_for_agent(agent: User, customer: Customer, *, shown: int) -> LatestTickets:
    """A requester's newest tickets with their assignees, and their total: two queries."""
    tickets = Ticket.objects.visible_to(agent).filter(requester=customer)
    return LatestTickets(
        tickets=list(tickets.select_related("assignee").order_by("-created_at")[:shown]),
        total=tickets.count(),
    )


def organization_tickets_for_agent(
    agent: User, organization: Organization, *, shown: int
) -> LatestTickets:
    """An organization's newest tickets with their requesters, and their total: two queries."""
    tickets = Ticket.objects.visible_to(agent).filter(organization=organization)
    return LatestTickets(
        tickets=list(tickets.select_related("requester").order_by("-created_at")[:shown]),
        total=tickets.count(),
    )


# --- The customer portal: reads named for the customer they are for ------------------------


def tickets_for_customer(customer: Customer) -> QuerySet[Ticket]:
    """The requests a signed-in customer may read: their own, and their organization's when
    the organization shares requests among its members."""
    mine = Q(requester=customer)
    organization = customer.organization
    if (
        organization is not None
        and organization.portal_visibility == Organization.PortalVisibility.ORGANIZATION
    ):
        mine |= Q(organization=organization)
    return Ticket.objects.filter(mine, merged_into__isnull=True).select_related("requester")


def ticket_for_customer(customer: Customer, number: int) -> Ticket:
    """One request if this customer may read it; missing and not-yours look the same."""
    ticket = tickets_for_customer(customer).filter(number=number).first()
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


def public_messages(ticket: Ticket) -> QuerySet[Message]:
    """The conversation as the customer sees it: public replies only, never internal notes."""
    return (
        ticket.messages.filter(kind=Message.Kind.REPLY)
        .select_related("author_agent", "author_customer")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def saved_views_for(agent: User, *, team_ids: list[int]) -> list[SavedView]:
    """The agent's own saved views and those shared with their teams."""
    return list(
        SavedView.objects.filter(Q(owner=agent) | Q(team_id__in=team_ids)).select_related("team")
    )


def saved_view_for(agent: User, view_id: int, *, team_ids: list[int]) -> SavedView:
    view = (
        SavedView.objects.filter(Q(owner=agent) | Q(team_id__in=team_ids))
        .filter(pk=view_id)
        .first()
    )
    if view is None:
        raise ObjectNotFound("Saved view", view_id)
    return view
