"""Opening a ticket."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.accounts.services import require_full_agent
from serviceloop.core import clock, events
from serviceloop.core.custom_fields import clean_custom_fields
from serviceloop.core.errors import InvalidInput
from serviceloop.core.transactions import unit_of_work
from serviceloop.customers.models import Customer
from serviceloop.customers.services import find_or_create_customer
from serviceloop.tickets.events import TicketCreated
from serviceloop.tickets.models import (
    Channel,
    EventKind,
    Message,
    Priority,
    Status,
    Ticket,
    TicketType,
)
from serviceloop.tickets.numbering import next_ticket_number
from serviceloop.tickets.services.assignment import route_ticket
from serviceloop.tickets.services.base import (
    Actor,
    NewAttachment,
    add_message,
    clean_assignee,
    clean_body,
    clean_choice,
    clean_subject,
    clean_tags,
    clean_team,
    event_ids,
    new_request_id,
    record_event,
    tag_objects,
)

# --- Create -------------------------------------------------------------------------------


@unit_of_work()
def open_ticket(
    *,
    actor: User | None,
    subject: str,
    body: str,
    requester_email: str,
    requester_name: str = "",
    body_html: str = "",
    channel: str = Channel.API,
    priority: str = Priority.NORMAL,
    type: str = TicketType.QUESTION,
    tags: Iterable[str] = (),
    team_id: int | None = None,
    assignee_id: int | None = None,
    custom_fields: dict[str, Any] | None = None,
    attachments: Sequence[NewAttachment | UploadedFile] = (),
    metadata: dict | None = None,
    author: str = "requester",
    follow_up_of: Ticket | None = None,
    request_id: str | None = None,
    requester: Customer | None = None,
) -> tuple[Ticket, Message]:
    """Open a ticket for a requester (found or created by email); return it and its first message.

    `author` says who wrote the first message: the requester (a customer writing in, the
    default for channels and the API) or the acting agent ("agent", an outbound ticket).
    `requester` is the customer a caller already found for `requester_email`, if it has.
    """
    if actor is not None:
        require_full_agent(actor)
    request_id = request_id or new_request_id()
    at = clock.now()
    subject = clean_subject(subject)
    clean_body(body, body_html)
    clean_choice(priority, Priority, "priority")
    clean_choice(type, TicketType, "type")
    clean_choice(channel, Channel, "channel")
    if author not in ("requester", "agent") or (author == "agent" and actor is None):
        raise InvalidInput(_("author must be requester or agent."), field="author")
    tag_names = clean_tags(tags)
    fields = (
        clean_custom_fields(entity="ticket", values=custom_fields, existing={})
        if custom_fields
        else {}
    )
    team = clean_team(team_id)
    assignee = clean_assignee(assignee_id, team)
    if requester is None:
        requester = find_or_create_customer(email=requester_email, name=requester_name)

    ticket = Ticket.objects.create(
        number=next_ticket_number(),
        subject=subject,
        status=Status.OPEN if assignee else Status.NEW,
        priority=priority,
        type=type,
        channel=channel,
        requester=requester,
        organization_id=requester.organization_id,
        team=team,
        assignee=assignee,
        assigned_at=at if assignee else None,
        custom_fields=fields,
        follow_up_of=follow_up_of,
        created_at=at,
        updated_at=at,
        last_customer_message_at=at if author == "requester" else None,
    )
    if tag_names:
        ticket.tags.add(*tag_objects(tag_names))
    event_actor = Actor.of_agent(actor) if actor else Actor.of_customer(requester)
    record_event(
        ticket,
        kind=EventKind.CREATED,
        actor=event_actor,
        request_id=request_id,
        at=at,
        after={
            "status": ticket.status,
            "priority": priority,
            "type": type,
            "channel": channel,
            "requester": requester.pk,
            "team": team.pk if team else None,
            "assignee": assignee.pk if assignee else None,
            "tags": tag_names,
            "custom_fields": fields,
            "follow_up_of": follow_up_of.number if follow_up_of else None,
        },
    )
    events.publish(
        TicketCreated(
            **event_ids(ticket, event_actor, request_id), channel=channel, requester_id=requester.pk
        )
    )
    message_actor = (
        Actor.of_agent(actor) if author == "agent" and actor else Actor.of_customer(requester)
    )
    message = add_message(
        ticket,
        kind=Message.Kind.REPLY,
        actor=message_actor,
        body=body,
        body_html=body_html,
        channel=channel,
        metadata=metadata,
        attachments=attachments,
        request_id=request_id,
        at=at,
    )
    if author == "agent" and actor:
        ticket.first_agent_reply_at = ticket.last_agent_reply_at = at
        ticket.save(update_fields=["first_agent_reply_at", "last_agent_reply_at"])
    if team is not None and assignee is None:
        route_ticket(ticket, request_id=request_id)
    return ticket, message
