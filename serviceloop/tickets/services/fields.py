"""Subject, priority, type, tags, custom fields and required skills."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import Skill, User
from serviceloop.core import clock, events
from serviceloop.core.custom_fields import clean_custom_fields
from serviceloop.core.errors import InvalidInput
from serviceloop.tickets import queries
from serviceloop.tickets.events import TicketUpdated
from serviceloop.tickets.models import EventKind, Priority, Ticket, TicketType
from serviceloop.tickets.services.base import (
    Actor,
    clean_choice,
    clean_subject,
    clean_tags,
    ensure_may_work,
    ensure_not_closed,
    event_ids,
    new_request_id,
    record_event,
    tag_objects,
)

# --- Other fields -------------------------------------------------------------------------


@dataclass
class TicketChanges:
    """Fields to change; None leaves a field as it is."""

    subject: str | None = None
    priority: str | None = None
    type: str | None = None
    tags: list[str] | None = None
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    required_skills: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def update_fields(
    ticket: Ticket, changes: TicketChanges, *, actor: Actor, request_id: str, at: datetime
) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    simple = (
        ("subject", EventKind.SUBJECT, clean_subject if changes.subject is not None else None),
        ("priority", EventKind.PRIORITY, lambda v: clean_choice(v, Priority, "priority")),
        ("type", EventKind.TYPE, lambda v: clean_choice(v, TicketType, "type")),
    )
    for name, kind, clean in simple:
        value = getattr(changes, name)
        if value is None or clean is None:
            continue
        value = clean(value)
        before = getattr(ticket, name)
        if value != before:
            setattr(ticket, name, value)
            record_event(
                ticket,
                kind=kind,
                before=before,
                after=value,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            changed[name] = value
    if changes.tags is not None or changes.add_tags or changes.remove_tags:
        before_tags = sorted(ticket.tags.values_list("name", flat=True))
        tags = set(clean_tags(changes.tags)) if changes.tags is not None else set(before_tags)
        tags |= set(clean_tags(changes.add_tags or []))
        tags -= set(clean_tags(changes.remove_tags or []))
        after_tags = sorted(tags)
        if after_tags != before_tags:
            ticket.tags.set(tag_objects(after_tags))
            record_event(
                ticket,
                kind=EventKind.TAGS,
                before=before_tags,
                after=after_tags,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            changed["tags"] = after_tags
    if changes.custom_fields is not None:
        before_fields = dict(ticket.custom_fields)
        after_fields = clean_custom_fields(
            entity="ticket", values=changes.custom_fields, existing=before_fields
        )
        for key in sorted(set(before_fields) | set(after_fields)):
            if before_fields.get(key) != after_fields.get(key):
                record_event(
                    ticket,
                    kind=EventKind.FIELD,
                    field=key,
                    before=before_fields.get(key),
                    after=after_fields.get(key),
                    actor=actor,
                    request_id=request_id,
                    at=at,
                )
        if after_fields != before_fields:
            ticket.custom_fields = after_fields
            changed["custom_fields"] = after_fields
    if changes.required_skills is not None:
        names = sorted({s.strip().lower() for s in changes.required_skills if s.strip()})
        skills = list(Skill.objects.filter(name__in=names))
        unknown = set(names) - {s.name for s in skills}
        if unknown:
            raise InvalidInput(
                _("Unknown skill %(names)s.") % {"names": ", ".join(sorted(unknown))},
                field="required_skills",
            )
        before_skills = sorted(ticket.required_skills.values_list("name", flat=True))
        if before_skills != names:
            ticket.required_skills.set(skills)
            record_event(
                ticket,
                kind=EventKind.FIELD,
                field="required_skills",
                before=before_skills,
                after=names,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            changed["required_skills"] = names
    if changed:
        ticket.updated_at = at
        ticket.save(update_fields=["subject", "priority", "type", "custom_fields", "updated_at"])
        events.publish(TicketUpdated(**event_ids(ticket, actor, request_id), changes=changed))
    return changed


@transaction.atomic
def update_ticket(
    *, number: int, agent: User, changes: TicketChanges, request_id: str | None = None
) -> Ticket:
    """Change subject, priority, type, tags, custom fields or required skills."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    ensure_not_closed(ticket)
    ensure_may_work(agent, ticket)
    update_fields(
        ticket,
        changes,
        actor=Actor.of_agent(agent),
        request_id=request_id or new_request_id(),
        at=clock.now(),
    )
    return ticket
