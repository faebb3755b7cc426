"""Reads of tickets that are more than a one-line ORM call."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.core.errors import InvalidInput
from serviceloop.tickets.errors import TicketNotFound
from serviceloop.tickets.models import (
    UNSOLVED_STATES,
    Message,
    Status,
    Ticket,
    TicketEvent,
)

TICKET_RELATIONS = (
    "requester",
    "organization",
    "assignee",
    "team",
    "custom_status",
    "problem",
    "parent",
    "merged_into",
    "follow_up_of",
)


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
        return tickets.select_related(*TICKET_RELATIONS).get(number=number)
    except Ticket.DoesNotExist:
        raise TicketNotFound(number) from None


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
    assignee: int | None = None
    unassigned: bool = False
    requester: int | None = None
    organization: int | None = None
    tag: str | None = None
    channel: str | None = None
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


def filter_tickets(agent: User, filters: TicketFilters) -> QuerySet[Ticket]:
    tickets = Ticket.objects.visible_to(agent)
    if filters.status:
        tickets = tickets.filter(status__in=filters.status)
    if filters.priority:
        tickets = tickets.filter(priority__in=filters.priority)
    if filters.team is not None:
        tickets = tickets.filter(team_id=filters.team)
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
    if filters.q:
        q = filters.q.strip()
        text = Q(subject__icontains=q) | Q(requester__email__icontains=q)
        if q.lstrip("#").isdigit():
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
) -> tuple[list[Ticket], str | None]:
    """One page of the ticket list and the cursor of the next, keyset-paginated.

    Keyset pagination costs the same on page 1 and page 10,000, and a ticket updated
    while someone pages is neither skipped nor shown twice within one sort key.
    """
    if sort not in SORTS:
        raise InvalidInput(
            _("sort must be one of: %(sorts)s.") % {"sorts": ", ".join(SORTS)}, field="sort"
        )
    field, descending = SORTS[sort]
    tickets = filter_tickets(agent, filters)
    if cursor:
        value, pk = _decode_cursor(cursor, field)
        if descending:
            tickets = tickets.filter(
                Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk})
            )
        else:
            tickets = tickets.filter(
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk})
            )
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    rows = list(
        tickets.select_related(*TICKET_RELATIONS)
        .prefetch_related("tags")
        .order_by(*order)[: limit + 1]
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, field), last.pk)
    return rows, next_cursor
