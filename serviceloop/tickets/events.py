"""Domain events the tickets app publishes; other apps subscribe in their handlers.py.

`name` is the public event type webhooks are registered for.
"""

from dataclasses import dataclass, field
from typing import Any

from serviceloop.core.events import DomainEvent, register


@dataclass(frozen=True, kw_only=True)
class TicketEventBase(DomainEvent):
    ticket_id: int
    number: int
    actor_id: int | None = None
    request_id: str = ""


@register
@dataclass(frozen=True, kw_only=True)
class TicketCreated(TicketEventBase):
    name = "ticket.created"
    channel: str
    requester_id: int


@register
@dataclass(frozen=True, kw_only=True)
class MessageAdded(TicketEventBase):
    """A public reply or internal note was added, by anyone."""

    name = "ticket.message_added"
    message_id: int
    kind: str
    author_kind: str


@register
@dataclass(frozen=True, kw_only=True)
class StatusChanged(TicketEventBase):
    name = "ticket.status_changed"
    before: str
    after: str


@register
@dataclass(frozen=True, kw_only=True)
class TicketAssigned(TicketEventBase):
    name = "ticket.assigned"
    assignee_before: int | None
    assignee_after: int | None
    team_before: int | None
    team_after: int | None


@register
@dataclass(frozen=True, kw_only=True)
class TicketUpdated(TicketEventBase):
    """Priority, type, subject, tags or custom fields changed: `changes` maps field to after."""

    name = "ticket.updated"
    changes: dict[str, Any] = field(default_factory=dict)


@register
@dataclass(frozen=True, kw_only=True)
class TicketsMerged(TicketEventBase):
    """`ticket_id` was merged into `survivor_id`."""

    name = "ticket.merged"
    survivor_id: int
    survivor_number: int


@register
@dataclass(frozen=True, kw_only=True)
class TicketLinked(TicketEventBase):
    """A link between tickets changed: problem/incident, parent/child or follow-up."""

    name = "ticket.linked"
    link: str
    other_id: int | None
