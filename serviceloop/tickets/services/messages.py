"""The conversation: replies, notes, customer messages and followers."""

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.core import clock, events
from serviceloop.core.errors import InvalidInput, ObjectNotFound
from serviceloop.core.transactions import unit_of_work
from serviceloop.customers.models import Customer
from serviceloop.customers.services import find_or_create_customer
from serviceloop.tickets import queries
from serviceloop.tickets.events import TicketLinked
from serviceloop.tickets.models import Channel, EventKind, Message, Status, Ticket
from serviceloop.tickets.services.base import (
    SYSTEM,
    Actor,
    NewAttachment,
    add_message,
    ensure_may_work,
    ensure_not_closed,
    event_ids,
    new_request_id,
    record_event,
)
from serviceloop.tickets.services.creation import open_ticket
from serviceloop.tickets.services.lifecycle import move_status

# --- Messages -----------------------------------------------------------------------------


@unit_of_work()
def reply_to_ticket(
    *,
    number: int,
    agent: User,
    body: str,
    body_html: str = "",
    attachments: Sequence[NewAttachment | UploadedFile] = (),
    status: str | None = None,
) -> Message:
    """Send the requester a public reply; optionally set the status in the same change."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    ensure_not_closed(ticket)
    ensure_may_work(agent, ticket)
    request_id = new_request_id()
    at = clock.now()
    actor = Actor.of_agent(agent)
    message = add_message(
        ticket,
        kind=Message.Kind.REPLY,
        actor=actor,
        body=body,
        body_html=body_html,
        channel=Channel.AGENT if ticket.channel == Channel.AGENT else ticket.channel,
        metadata=None,
        attachments=attachments,
        request_id=request_id,
        at=at,
    )
    if ticket.first_agent_reply_at is None:
        ticket.first_agent_reply_at = at
    ticket.last_agent_reply_at = at
    ticket.updated_at = at
    ticket.save(update_fields=["first_agent_reply_at", "last_agent_reply_at", "updated_at"])
    target = status or (Status.OPEN if ticket.status == Status.NEW else None)
    if target and target != ticket.status:
        move_status(ticket, target=target, actor=actor, request_id=request_id, at=at)
    return message


@unit_of_work()
def add_internal_note(
    *,
    number: int,
    agent: User,
    body: str,
    body_html: str = "",
    attachments: Sequence[NewAttachment | UploadedFile] = (),
) -> Message:
    """Leave a note only agents see; contributors may note any ticket."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    ensure_not_closed(ticket)
    at = clock.now()
    message = add_message(
        ticket,
        kind=Message.Kind.NOTE,
        actor=Actor.of_agent(agent),
        body=body,
        body_html=body_html,
        channel=Channel.AGENT,
        metadata=None,
        attachments=attachments,
        request_id=new_request_id(),
        at=at,
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=at)
    return message


@unit_of_work()
def add_system_note(*, ticket_id: int, body: str) -> Message:
    """Leave an internal note from the system (a bounce, a dropped attachment, a failed send)."""
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ObjectNotFound("Ticket", ticket_id)
    # Notes about a closed ticket still belong on it: they explain what happened to its mail.
    return add_message(
        ticket,
        kind=Message.Kind.NOTE,
        actor=SYSTEM,
        body=body,
        body_html="",
        channel=Channel.AGENT,
        metadata=None,
        attachments=(),
        request_id=new_request_id(),
        at=clock.now(),
    )


@unit_of_work()
def add_customer_message(
    *,
    ticket_id: int,
    customer: Customer,
    body: str,
    body_html: str = "",
    channel: str = Channel.EMAIL,
    metadata: dict | None = None,
    attachments: Sequence[NewAttachment | UploadedFile] = (),
) -> Message:
    """Add what a customer wrote to their conversation.

    On a solved ticket it reopens the ticket (counted as a reopen); on a closed one, which
    never changes again, it opens a follow-up ticket linked to it.
    """
    # A reply to a merged ticket belongs on the survivor.
    ticket = queries.surviving_ticket(ticket_id, for_update=True)
    request_id = new_request_id()
    actor = Actor.of_customer(customer)
    if ticket.status == Status.CLOSED:
        follow_up, first_message = open_ticket(
            actor=None,
            subject=ticket.subject,
            body=body,
            body_html=body_html,
            requester_email=customer.email or ticket.requester.email,
            channel=channel,
            priority=ticket.priority,
            type=ticket.type,
            tags=list(ticket.tags.values_list("name", flat=True)),
            team_id=ticket.team_id,
            attachments=attachments,
            metadata=metadata,
            follow_up_of=ticket,
            request_id=request_id,
        )
        events.publish(
            TicketLinked(
                **event_ids(follow_up, actor, request_id), link="follow_up_of", other_id=ticket.pk
            )
        )
        return first_message
    at = clock.now()
    message = add_message(
        ticket,
        kind=Message.Kind.REPLY,
        actor=actor,
        body=body,
        body_html=body_html,
        channel=channel,
        metadata=metadata,
        attachments=attachments,
        request_id=request_id,
        at=at,
    )
    ticket.last_customer_message_at = at
    ticket.updated_at = at
    ticket.save(update_fields=["last_customer_message_at", "updated_at"])
    if ticket.status in (Status.SOLVED, Status.PENDING, Status.ON_HOLD):
        move_status(ticket, target=Status.OPEN, actor=actor, request_id=request_id, at=at)
    return message


@unit_of_work()
def add_followers(
    *, number: int, agent: User | None, emails: list[str], ticket: Ticket | None = None
) -> Ticket:
    """Copy customers on the conversation (e.g. the Cc of an email)."""
    if ticket is None:
        if agent is None:
            raise InvalidInput(_("An agent or a ticket is required."))
        ticket = queries.ticket_for_agent(agent, number, for_update=True)
    ensure_not_closed(ticket)
    actor = Actor.of_agent(agent) if agent else SYSTEM
    before = set(ticket.followers.values_list("id", flat=True))
    customers = [find_or_create_customer(email=e) for e in emails]
    new = [c for c in customers if c.pk not in before and c.pk != ticket.requester_id]
    if new:
        ticket.followers.add(*new)
        record_event(
            ticket,
            kind=EventKind.FOLLOWERS,
            before=sorted(before),
            after=sorted(before | {c.pk for c in new}),
            actor=actor,
            request_id=new_request_id(),
            at=clock.now(),
        )
    return ticket
