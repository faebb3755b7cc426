"""Every write to tickets: one function per use case, each in one transaction.

Each change appends TicketEvent rows (the audit trail and the source of SLA and KPI facts)
and publishes a domain event; durable subscribers get it from the outbox after commit.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nh3
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import Role, Skill, Team, User
from serviceloop.accounts.services import require_full_agent, require_settings_access
from serviceloop.core import clock, events
from serviceloop.core.custom_fields import (
    clean_custom_fields,
    create_custom_field,
    missing_required_fields,
    update_custom_field,
)
from serviceloop.core.errors import Conflict, DomainError, InvalidInput, ObjectNotFound
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.customers.models import Customer
from serviceloop.customers.services import find_or_create_customer
from serviceloop.tickets import queries, routing
from serviceloop.tickets.errors import (
    ContributorCannotAssign,
    NotAssignedToYou,
    StatusChangeRefused,
    TicketClosed,
    TicketNotFound,
)
from serviceloop.tickets.events import (
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketCreated,
    TicketLinked,
    TicketsMerged,
    TicketUpdated,
)
from serviceloop.tickets.models import (
    UNSOLVED_STATES,
    Attachment,
    Channel,
    CustomStatus,
    EventKind,
    Message,
    Priority,
    SavedView,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketType,
)
from serviceloop.tickets.numbering import next_ticket_number

MAX_SUBJECT = 250
MAX_BODY = 200_000

ActorKind = TicketEvent.ActorKind


@dataclass
class Actor:
    """Who made a change: an agent, a customer, or the system (agent and customer None)."""

    agent: User | None = None
    customer: Customer | None = None
    kind: str = ActorKind.SYSTEM

    @classmethod
    def of_agent(cls, agent: User) -> "Actor":
        return cls(agent=agent, kind=ActorKind.AGENT)

    @classmethod
    def of_customer(cls, customer: Customer) -> "Actor":
        return cls(customer=customer, kind=ActorKind.CUSTOMER)

    @property
    def agent_id(self) -> int | None:
        return self.agent.pk if self.agent else None


SYSTEM = Actor()


@dataclass
class NewAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


def new_request_id() -> str:
    return str(uuid.uuid4())


def _record(
    ticket: Ticket,
    *,
    kind: str,
    actor: Actor,
    request_id: str,
    at: datetime,
    field: str = "",
    before: Any = None,
    after: Any = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        field=field,
        before=before,
        after=after,
        actor=actor.agent,
        actor_kind=actor.kind,
        actor_customer=actor.customer,
        request_id=request_id,
        created_at=at,
    )


def _base(ticket: Ticket, actor: Actor, request_id: str) -> dict[str, Any]:
    return {
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "actor_id": actor.agent_id,
        "request_id": request_id,
    }


def _ensure_not_closed(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TicketClosed(ticket.number)


def _ensure_may_work(agent: User, ticket: Ticket) -> None:
    if agent.role == Role.CONTRIBUTOR and ticket.assignee_id != agent.pk:
        raise NotAssignedToYou(ticket.number)


def _clean_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise InvalidInput(_("subject is required."), field="subject")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(
            _("subject is longer than %(max)s characters.") % {"max": MAX_SUBJECT}, field="subject"
        )
    return subject


# cid: is how an email's HTML points at its own inline images; a browser never fetches it.
HTML_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}


def _clean_body(body: str, body_html: str = "") -> tuple[str, str]:
    text = (body or "").strip()
    html = nh3.clean(body_html, url_schemes=HTML_URL_SCHEMES) if body_html else ""
    if not text and html:
        text = nh3.clean(body_html, tags=set()).strip()
    if not text:
        raise InvalidInput(_("body is required."), field="body")
    if len(text) > MAX_BODY or len(html) > MAX_BODY * 2:
        raise InvalidInput(
            _("body is longer than %(max)s characters.") % {"max": MAX_BODY}, field="body"
        )
    return text, html


def _choice(value: str, choices: type, field: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        raise InvalidInput(
            _("%(field)s must be one of: %(values)s.")
            % {"field": field, "values": ", ".join(choices.values)},  # type: ignore[attr-defined]
            field=field,
        )
    return value


def _clean_tags(names: Iterable[str]) -> list[str]:
    cleaned = []
    for name in names:
        tag = "-".join(str(name).strip().lower().split())
        if not tag:
            continue
        if len(tag) > 80:
            raise InvalidInput(
                _("Tag %(tag)r is longer than 80 characters.") % {"tag": name}, field="tags"
            )
        cleaned.append(tag)
    return sorted(set(cleaned))


def _tag_objects(names: list[str]) -> list[Tag]:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    return list(existing.values())


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise InvalidInput(_("There is no team %(id)s.") % {"id": team_id}, field="team")
    return team


def _assignee(assignee_id: int | None, team: Team | None) -> User | None:
    if assignee_id is None:
        return None
    agent = User.objects.filter(pk=assignee_id, is_active=True).first()
    if agent is None:
        raise InvalidInput(
            _("There is no active agent %(id)s.") % {"id": assignee_id}, field="assignee"
        )
    if team is not None and not team.members.filter(pk=agent.pk).exists():
        raise InvalidInput(
            _("%(agent)s is not a member of team %(team)s.") % {"agent": agent, "team": team},
            field="assignee",
        )
    return agent


def _store_attachments(
    message: Message, attachments: Sequence[NewAttachment | UploadedFile]
) -> None:
    limit = settings.SERVICELOOP_MAX_ATTACHMENT_BYTES
    for item in attachments:
        if isinstance(item, NewAttachment):
            from django.core.files.base import ContentFile

            name, content_type, size = item.filename, item.content_type, len(item.content)
            content: Any = ContentFile(item.content, name=name)
            content_id = item.content_id
        else:
            name = item.name or "attachment"
            content_type = item.content_type or "application/octet-stream"
            size = item.size or 0
            content, content_id = item, ""
        if size > limit:
            raise InvalidInput(
                _("%(name)s is %(size)s bytes; attachments may be at most %(limit)s bytes.")
                % {"name": name, "size": size, "limit": limit},
                field="attachments",
            )
        safe_name = name.replace("/", "_").replace("\\", "_")[:200] or "attachment"
        attachment = Attachment(
            message=message,
            filename=safe_name,
            content_type=content_type[:150],
            size=size,
            content_id=content_id[:255],
        )
        attachment.file.save(safe_name, content, save=False)
        attachment.save()


def _add_message(
    ticket: Ticket,
    *,
    kind: str,
    actor: Actor,
    body: str,
    body_html: str,
    channel: str,
    metadata: dict | None,
    attachments: Sequence[NewAttachment | UploadedFile],
    request_id: str,
    at: datetime,
) -> Message:
    text, html = _clean_body(body, body_html)
    author_kind: str = {
        ActorKind.AGENT: Message.AuthorKind.AGENT,
        ActorKind.CUSTOMER: Message.AuthorKind.CUSTOMER,
        ActorKind.ASSISTANT: Message.AuthorKind.ASSISTANT,
    }.get(ActorKind(actor.kind), Message.AuthorKind.SYSTEM)
    message = Message.objects.create(
        ticket=ticket,
        kind=kind,
        author_kind=author_kind,
        author_agent=actor.agent,
        author_customer=actor.customer,
        body_text=text,
        body_html=html,
        channel=channel,
        channel_metadata=metadata or {},
        created_at=at,
    )
    _store_attachments(message, attachments)
    _record(
        ticket,
        kind=EventKind.MESSAGE,
        field=kind,
        after={"message_id": message.pk, "author_kind": author_kind, "channel": channel},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    events.publish(
        MessageAdded(
            **_base(ticket, actor, request_id),
            message_id=message.pk,
            kind=kind,
            author_kind=author_kind,
        )
    )
    return message


# --- Create -------------------------------------------------------------------------------


@transaction.atomic
def create_ticket(
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
) -> Ticket:
    """Open a ticket for a requester (found or created by email) with its first message.

    `author` says who wrote the first message: the requester (a customer writing in, the
    default for channels and the API) or the acting agent ("agent", an outbound ticket).
    """
    if actor is not None:
        require_full_agent(actor)
    request_id = request_id or new_request_id()
    at = clock.now()
    subject = _clean_subject(subject)
    _clean_body(body, body_html)
    _choice(priority, Priority, "priority")
    _choice(type, TicketType, "type")
    _choice(channel, Channel, "channel")
    if author not in ("requester", "agent") or (author == "agent" and actor is None):
        raise InvalidInput(_("author must be requester or agent."), field="author")
    tag_names = _clean_tags(tags)
    fields = clean_custom_fields(entity="ticket", values=custom_fields or {}, existing={})
    team = _team(team_id)
    assignee = _assignee(assignee_id, team)
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
        ticket.tags.set(_tag_objects(tag_names))
    event_actor = Actor.of_agent(actor) if actor else Actor.of_customer(requester)
    _record(
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
            **_base(ticket, event_actor, request_id), channel=channel, requester_id=requester.pk
        )
    )
    message_actor = (
        Actor.of_agent(actor) if author == "agent" and actor else Actor.of_customer(requester)
    )
    _add_message(
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
    return ticket


# --- Messages -----------------------------------------------------------------------------


@transaction.atomic
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
    _ensure_not_closed(ticket)
    _ensure_may_work(agent, ticket)
    request_id = new_request_id()
    at = clock.now()
    actor = Actor.of_agent(agent)
    message = _add_message(
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
        _change_status(ticket, target=target, actor=actor, request_id=request_id, at=at)
    return message


@transaction.atomic
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
    _ensure_not_closed(ticket)
    at = clock.now()
    message = _add_message(
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


@transaction.atomic
def add_system_note(*, ticket_id: int, body: str) -> Message:
    """Leave an internal note from the system (a bounce, a dropped attachment, a failed send)."""
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ObjectNotFound("Ticket", ticket_id)
    # Notes about a closed ticket still belong on it: they explain what happened to its mail.
    return _add_message(
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


@transaction.atomic
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
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ObjectNotFound("Ticket", ticket_id)
    if ticket.merged_into_id is not None:
        # A reply to a merged ticket belongs on the survivor.
        survivor = ticket
        while survivor.merged_into_id is not None:
            survivor = Ticket.objects.select_for_update().get(pk=survivor.merged_into_id)
        ticket = survivor
    request_id = new_request_id()
    actor = Actor.of_customer(customer)
    if ticket.status == Status.CLOSED:
        follow_up = create_ticket(
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
                **_base(follow_up, actor, request_id), link="follow_up_of", other_id=ticket.pk
            )
        )
        return follow_up.messages.order_by("id").first()  # type: ignore[return-value]
    at = clock.now()
    message = _add_message(
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
        _change_status(ticket, target=Status.OPEN, actor=actor, request_id=request_id, at=at)
    return message


# --- Status -------------------------------------------------------------------------------


def _change_status(
    ticket: Ticket,
    *,
    target: str,
    actor: Actor,
    request_id: str,
    at: datetime,
    custom_status: CustomStatus | None = None,
    check_required_fields: bool = True,
) -> None:
    """Move a locked ticket through the lifecycle; every rule of the lifecycle lives here."""
    _choice(target, Status, "status")
    before = ticket.status
    before_custom = ticket.custom_status.name if ticket.custom_status else None
    if before == Status.CLOSED:
        raise TicketClosed(ticket.number)
    if target == before and custom_status == ticket.custom_status:
        return
    if target == Status.NEW and before != Status.NEW:
        raise StatusChangeRefused(
            _("Ticket #%(number)s has been worked on; it cannot go back to New.")
            % {"number": ticket.number}
        )
    if target == Status.CLOSED and before != Status.SOLVED:
        raise StatusChangeRefused(
            _("Solve ticket #%(number)s before closing it.") % {"number": ticket.number}
        )
    if target == Status.SOLVED:
        open_children = (
            ticket.children.filter(status__in=UNSOLVED_STATES)
            .order_by("number")
            .values_list("number", flat=True)
        )
        if open_children:
            raise StatusChangeRefused(
                _("Ticket #%(number)s has unsolved child tickets: %(children)s.")
                % {
                    "number": ticket.number,
                    "children": ", ".join("#%s" % n for n in open_children),
                }
            )
        missing = (
            missing_required_fields(entity="ticket", values=ticket.custom_fields)
            if check_required_fields
            else []
        )
        if missing:
            raise StatusChangeRefused(
                _("Fill in %(fields)s before solving ticket #%(number)s.")
                % {"fields": ", ".join(d.label for d in missing), "number": ticket.number}
            )
    ticket.status = target
    ticket.custom_status = custom_status
    ticket.updated_at = at
    changed = ["status", "custom_status", "updated_at"]
    if target == Status.SOLVED:
        ticket.solved_at = at
        changed.append("solved_at")
    elif target == Status.CLOSED:
        ticket.closed_at = at
        changed.append("closed_at")
    if before == Status.SOLVED and target in UNSOLVED_STATES:
        # A reopen: SLA clocks and "one-touch" metrics read this from the event log.
        ticket.reopened_at = at
        ticket.reopen_count += 1
        ticket.solved_at = None
        changed += ["reopened_at", "reopen_count", "solved_at"]
    ticket.save(update_fields=changed)
    _record(
        ticket,
        kind=EventKind.STATUS,
        field="reopen" if before == Status.SOLVED and target in UNSOLVED_STATES else "status",
        before={"status": before, "custom_status": before_custom},
        after={"status": target, "custom_status": custom_status.name if custom_status else None},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    events.publish(StatusChanged(**_base(ticket, actor, request_id), before=before, after=target))


@transaction.atomic
def change_status(
    *,
    number: int,
    agent: User,
    status: str | None = None,
    custom_status_id: int | None = None,
    solve_incidents: bool = False,
    request_id: str | None = None,
) -> Ticket:
    """Set a lifecycle status, or a custom status (which sets the state it maps onto)."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    _ensure_may_work(agent, ticket)
    custom_status = None
    if custom_status_id is not None:
        custom_status = CustomStatus.objects.filter(pk=custom_status_id, is_active=True).first()
        if custom_status is None:
            raise InvalidInput(
                _("There is no custom status %(id)s.") % {"id": custom_status_id},
                field="custom_status",
            )
        if status is not None and status != custom_status.lifecycle_state:
            raise InvalidInput(
                _("%(name)s is a %(state)s status.")
                % {"name": custom_status.name, "state": custom_status.lifecycle_state},
                field="custom_status",
            )
        status = custom_status.lifecycle_state
    if status is None:
        raise InvalidInput(_("status is required."), field="status")
    request_id = request_id or new_request_id()
    at = clock.now()
    actor = Actor.of_agent(agent)
    _change_status(
        ticket,
        target=status,
        actor=actor,
        request_id=request_id,
        at=at,
        custom_status=custom_status,
    )
    if status == Status.SOLVED and solve_incidents:
        incidents = ticket.incidents.select_for_update().filter(status__in=UNSOLVED_STATES)
        for incident in incidents:
            _change_status(
                incident, target=Status.SOLVED, actor=actor, request_id=request_id, at=at
            )
    return ticket


def solve_ticket(*, number: int, agent: User, solve_incidents: bool = False) -> Ticket:
    """Mark the requester's problem solved and start the auto-close window."""
    return change_status(
        number=number, agent=agent, status=Status.SOLVED, solve_incidents=solve_incidents
    )


@transaction.atomic
def close_solved_tickets(*, at: datetime | None = None, batch: int = 500) -> int:
    """Close tickets solved longer ago than the configured window (run by the scheduler)."""
    at = at or clock.now()
    cutoff = at - timedelta(hours=settings.SERVICELOOP_SOLVED_TO_CLOSED_HOURS)
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(status=Status.SOLVED, solved_at__lte=cutoff)
        .order_by("solved_at")[:batch]
    )
    request_id = new_request_id()
    for ticket in tickets:
        _change_status(ticket, target=Status.CLOSED, actor=SYSTEM, request_id=request_id, at=at)
    return len(tickets)


# --- Assignment ---------------------------------------------------------------------------

_UNSET: Any = object()


def _assign(
    ticket: Ticket,
    *,
    team: Team | Any | None = _UNSET,
    assignee: User | Any | None = _UNSET,
    actor: Actor,
    request_id: str,
    at: datetime,
) -> bool:
    """Change team and/or assignee of a locked ticket; return whether anything changed."""
    before_team, before_assignee = ticket.team_id, ticket.assignee_id
    if team is not _UNSET:
        ticket.team = team
    if assignee is not _UNSET:
        ticket.assignee = assignee
    if ticket.team_id == before_team and ticket.assignee_id == before_assignee:
        return False
    ticket.updated_at = at
    changed = ["team", "assignee", "updated_at"]
    if ticket.assignee_id != before_assignee and ticket.assignee_id is not None:
        ticket.assigned_at = at
        changed.append("assigned_at")
    ticket.save(update_fields=changed)
    if ticket.team_id != before_team:
        _record(
            ticket,
            kind=EventKind.TEAM,
            before=before_team,
            after=ticket.team_id,
            actor=actor,
            request_id=request_id,
            at=at,
        )
    if ticket.assignee_id != before_assignee:
        _record(
            ticket,
            kind=EventKind.ASSIGNEE,
            before=before_assignee,
            after=ticket.assignee_id,
            actor=actor,
            request_id=request_id,
            at=at,
        )
    events.publish(
        TicketAssigned(
            **_base(ticket, actor, request_id),
            assignee_before=before_assignee,
            assignee_after=ticket.assignee_id,
            team_before=before_team,
            team_after=ticket.team_id,
        )
    )
    if ticket.status == Status.NEW and ticket.assignee_id is not None:
        _change_status(ticket, target=Status.OPEN, actor=actor, request_id=request_id, at=at)
    return True


@transaction.atomic
def assign_ticket(
    *,
    number: int,
    agent: User,
    assignee_id: int | Any | None = _UNSET,
    team_id: int | Any | None = _UNSET,
    request_id: str | None = None,
) -> Ticket:
    """Give the ticket to an agent and/or a team; a team with routing picks the agent."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    _ensure_not_closed(ticket)
    if agent.role == Role.CONTRIBUTOR:
        raise ContributorCannotAssign()
    request_id = request_id or new_request_id()
    team = ticket.team if team_id is _UNSET else _team(team_id)
    if assignee_id is _UNSET:
        # Moving a ticket to another team leaves an assignee who is not in it.
        assignee = (
            _UNSET
            if team is None
            or ticket.assignee_id is None
            or team.members.filter(pk=ticket.assignee_id).exists()
            else None
        )
    else:
        assignee = _assignee(assignee_id, team)
    changed = _assign(
        ticket,
        team=team,
        assignee=assignee,
        actor=Actor.of_agent(agent),
        request_id=request_id,
        at=clock.now(),
    )
    if changed and ticket.assignee_id is None and ticket.team_id is not None:
        route_ticket(ticket, request_id=request_id)
    return ticket


def route_ticket(ticket: Ticket, *, request_id: str) -> User | None:
    """Assign a locked, unassigned team ticket if its team routes and someone can take it."""
    if ticket.team_id is None or ticket.assignee_id is not None or not ticket.is_unsolved:
        return None
    # Lock the team row: two tickets routed at once must not both take one free slot.
    team = Team.objects.select_for_update().get(pk=ticket.team_id)
    agent = routing.choose_agent(team, ticket)
    if agent is None:
        return None
    at = clock.now()
    _assign(ticket, assignee=agent, actor=SYSTEM, request_id=request_id, at=at)
    User.objects.filter(pk=agent.pk).update(last_routed_at=at)
    return agent


@transaction.atomic
def route_waiting_tickets(*, team_id: int, limit: int = 50) -> int:
    """Hand a team's waiting tickets, oldest first, to members who now have room."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None or team.routing == Team.Routing.MANUAL:
        return 0
    request_id = new_request_id()
    routed = 0
    for ticket in queries.tickets_waiting_in_team(team_id).select_for_update()[:limit]:
        if route_ticket(ticket, request_id=request_id) is not None:
            routed += 1
        elif not routing.anyone_has_room(team):
            # Skills differ per ticket, so a later one may still fit someone with room;
            # with nobody under capacity there is no point going on.
            break
    return routed


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


def _update_fields(
    ticket: Ticket, changes: TicketChanges, *, actor: Actor, request_id: str, at: datetime
) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    simple = (
        ("subject", EventKind.SUBJECT, _clean_subject if changes.subject is not None else None),
        ("priority", EventKind.PRIORITY, lambda v: _choice(v, Priority, "priority")),
        ("type", EventKind.TYPE, lambda v: _choice(v, TicketType, "type")),
    )
    for name, kind, clean in simple:
        value = getattr(changes, name)
        if value is None or clean is None:
            continue
        value = clean(value)
        before = getattr(ticket, name)
        if value != before:
            setattr(ticket, name, value)
            _record(
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
        tags = set(_clean_tags(changes.tags)) if changes.tags is not None else set(before_tags)
        tags |= set(_clean_tags(changes.add_tags or []))
        tags -= set(_clean_tags(changes.remove_tags or []))
        after_tags = sorted(tags)
        if after_tags != before_tags:
            ticket.tags.set(_tag_objects(after_tags))
            _record(
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
                _record(
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
            _record(
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
        events.publish(TicketUpdated(**_base(ticket, actor, request_id), changes=changed))
    return changed


@transaction.atomic
def update_ticket(
    *, number: int, agent: User, changes: TicketChanges, request_id: str | None = None
) -> Ticket:
    """Change subject, priority, type, tags, custom fields or required skills."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    _ensure_not_closed(ticket)
    _ensure_may_work(agent, ticket)
    _update_fields(
        ticket,
        changes,
        actor=Actor.of_agent(agent),
        request_id=request_id or new_request_id(),
        at=clock.now(),
    )
    return ticket


@transaction.atomic
def edit_ticket(
    *,
    number: int,
    agent: User,
    changes: TicketChanges,
    status: str | None = None,
    custom_status_id: int | None = None,
    solve_incidents: bool = False,
    assignee_id: int | Any | None = _UNSET,
    team_id: int | Any | None = _UNSET,
    problem_number: int | Any | None = _UNSET,
    parent_number: int | Any | None = _UNSET,
) -> Ticket:
    """Apply an edit of several fields as one change: all of it, or none of it."""
    request_id = new_request_id()
    if assignee_id is not _UNSET or team_id is not _UNSET:
        assign_ticket(
            number=number,
            agent=agent,
            assignee_id=assignee_id,
            team_id=team_id,
            request_id=request_id,
        )
    if changes != TicketChanges():
        update_ticket(number=number, agent=agent, changes=changes, request_id=request_id)
    if problem_number is not _UNSET:
        link_incident(incident_number=number, problem_number=problem_number, agent=agent)
    if parent_number is not _UNSET:
        set_parent(child_number=number, parent_number=parent_number, agent=agent)
    if status is not None or custom_status_id is not None:
        change_status(
            number=number,
            agent=agent,
            status=status,
            custom_status_id=custom_status_id,
            solve_incidents=solve_incidents,
            request_id=request_id,
        )
    return queries.ticket_for_agent(agent, number)


@dataclass
class BulkResult:
    number: int
    ok: bool
    code: str = ""
    message: str = ""


def bulk_update_tickets(
    *,
    numbers: list[int],
    agent: User,
    changes: TicketChanges | None = None,
    status: str | None = None,
    assignee_id: int | Any | None = _UNSET,
    team_id: int | Any | None = _UNSET,
) -> list[BulkResult]:
    """Apply one change to many tickets; each ticket succeeds or fails on its own.

    All events share one request_id, so the change reads as one change in the log.
    """
    if not numbers:
        raise InvalidInput(_("Select at least one ticket."), field="numbers")
    if len(numbers) > 500:
        raise InvalidInput(_("At most 500 tickets can be changed at once."), field="numbers")
    request_id = new_request_id()
    results = []
    for number in dict.fromkeys(numbers):
        try:
            with transaction.atomic():
                if assignee_id is not _UNSET or team_id is not _UNSET:
                    assign_ticket(
                        number=number,
                        agent=agent,
                        assignee_id=assignee_id,
                        team_id=team_id,
                        request_id=request_id,
                    )
                if changes is not None:
                    update_ticket(
                        number=number, agent=agent, changes=changes, request_id=request_id
                    )
                if status is not None:
                    change_status(number=number, agent=agent, status=status, request_id=request_id)
        except DomainError as error:
            results.append(
                BulkResult(number=number, ok=False, code=error.code, message=error.message)
            )
        else:
            results.append(BulkResult(number=number, ok=True))
    return results


# --- Merge and links ----------------------------------------------------------------------


@transaction.atomic
def merge_tickets(*, source_number: int, target_number: int, agent: User) -> Ticket:
    """Fold the source ticket into the target: its conversation moves, and it closes."""
    if source_number == target_number:
        raise InvalidInput(_("A ticket cannot be merged into itself."), field="into")
    if agent.role == Role.CONTRIBUTOR:
        raise ContributorCannotAssign()
    # Lock both in number order, so two opposite merges cannot deadlock. One exact lookup
    # each: SQLite raises OverflowError for a number past 64 bits in an IN list.
    visible = Ticket.objects.visible_to(agent).select_for_update()
    locked: dict[int, Ticket] = {}
    for number in sorted([source_number, target_number]):
        ticket = visible.filter(number=number).first()
        if ticket is None:
            raise TicketNotFound(number)
        locked[number] = ticket
    source, target = locked[source_number], locked[target_number]
    _ensure_not_closed(source)
    _ensure_not_closed(target)
    request_id = new_request_id()
    at = clock.now()
    actor = Actor.of_agent(agent)

    moved_messages = list(source.messages.values_list("id", flat=True))
    source.messages.update(ticket=target)
    # Message events travel with their messages, so the survivor's log tells its whole
    # conversation; the source keeps its own lifecycle history.
    source.events.filter(kind=EventKind.MESSAGE).update(ticket=target)
    followers_before = set(target.followers.values_list("id", flat=True))
    joining = ({source.requester_id} | set(source.followers.values_list("id", flat=True))) - (
        followers_before | {target.requester_id}
    )
    if joining:
        target.followers.add(*joining)
        _record(
            target,
            kind=EventKind.FOLLOWERS,
            before=sorted(followers_before),
            after=sorted(followers_before | joining),
            actor=actor,
            request_id=request_id,
            at=at,
        )
    target_tags = set(target.tags.values_list("name", flat=True))
    source_tags = set(source.tags.values_list("name", flat=True))
    if source_tags - target_tags:
        after = sorted(target_tags | source_tags)
        target.tags.set(_tag_objects(after))
        _record(
            target,
            kind=EventKind.TAGS,
            before=sorted(target_tags),
            after=after,
            actor=actor,
            request_id=request_id,
            at=at,
        )
    _repoint_links(source, target, actor=actor, request_id=request_id, at=at)
    for field_name in ("first_agent_reply_at",):
        mine, theirs = getattr(target, field_name), getattr(source, field_name)
        if theirs and (mine is None or theirs < mine):
            setattr(target, field_name, theirs)
    if source.last_customer_message_at and (
        target.last_customer_message_at is None
        or source.last_customer_message_at > target.last_customer_message_at
    ):
        target.last_customer_message_at = source.last_customer_message_at
    target.updated_at = at
    # Only what the merge changed: a full save would write back the target's stale links.
    target.save(update_fields=["first_agent_reply_at", "last_customer_message_at", "updated_at"])
    _record(
        target,
        kind=EventKind.MERGE,
        field="merged_from",
        after={"number": source.number, "messages": moved_messages},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    _record(
        source,
        kind=EventKind.MERGE,
        field="merged_into",
        after={"number": target.number},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    # A merged ticket is closed at once: it must not wait in any queue or be solved again.
    if source.status != Status.SOLVED:
        # Its required fields may be empty: the survivor is the one that gets solved.
        _change_status(
            source,
            target=Status.SOLVED,
            actor=actor,
            request_id=request_id,
            at=at,
            check_required_fields=False,
        )
    _change_status(source, target=Status.CLOSED, actor=actor, request_id=request_id, at=at)
    events.publish(
        TicketsMerged(
            **_base(source, actor, request_id), survivor_id=target.pk, survivor_number=target.number
        )
    )
    return target


def _repoint_links(
    source: Ticket, target: Ticket, *, actor: Actor, request_id: str, at: datetime
) -> None:
    """Give the source's children and incidents to the survivor, recorded on each.

    Closed tickets keep their link (they never change again), and a target that was the
    source's own child or incident loses that link rather than pointing at itself.
    """
    for link in ("parent", "problem"):
        linked = (
            Ticket.objects.select_for_update()
            .filter(**{link: source})
            .exclude(status=Status.CLOSED)
            .order_by("number")
        )
        for ticket in linked:
            after = None if ticket.pk == target.pk else target
            setattr(ticket, link, after)
            ticket.updated_at = at
            ticket.save(update_fields=[link, "updated_at"])
            if ticket.pk == target.pk:
                setattr(target, link, None)
            _record(
                ticket,
                kind=EventKind.LINK,
                field=link,
                before=source.number,
                after=after.number if after else None,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            events.publish(
                TicketLinked(
                    **_base(ticket, actor, request_id),
                    link=link,
                    other_id=after.pk if after else None,
                )
            )


def _linked_pair(agent: User, number: int, other_number: int) -> tuple[Ticket, Ticket]:
    if number == other_number:
        raise InvalidInput(_("A ticket cannot be linked to itself."), field="number")
    first = queries.ticket_for_agent(agent, min(number, other_number), for_update=True)
    second = queries.ticket_for_agent(agent, max(number, other_number), for_update=True)
    return (first, second) if first.number == number else (second, first)


@transaction.atomic
def link_incident(*, incident_number: int, problem_number: int | None, agent: User) -> Ticket:
    """Attach an incident to the problem behind it (None detaches it)."""
    actor = Actor.of_agent(agent)
    request_id, at = new_request_id(), clock.now()
    if problem_number is None:
        incident = queries.ticket_for_agent(agent, incident_number, for_update=True)
        problem = None
    else:
        incident, problem = _linked_pair(agent, incident_number, problem_number)
        _ensure_not_closed(problem)
        if problem.type != TicketType.PROBLEM:
            raise InvalidInput(
                _("Ticket #%(number)s is not a problem; set its type to Problem first.")
                % {"number": problem.number},
                field="problem",
            )
    _ensure_not_closed(incident)
    _ensure_may_work(agent, incident)
    if incident.type == TicketType.PROBLEM and problem is not None:
        raise InvalidInput(_("A problem cannot be an incident of another problem."), field="number")
    before = incident.problem.number if incident.problem else None
    after = problem.number if problem else None
    if before == after:
        return incident
    if problem is not None and incident.type != TicketType.INCIDENT:
        _update_fields(
            incident,
            TicketChanges(type=TicketType.INCIDENT),
            actor=actor,
            request_id=request_id,
            at=at,
        )
    incident.problem = problem
    incident.updated_at = at
    incident.save(update_fields=["problem", "updated_at"])
    _record(
        incident,
        kind=EventKind.LINK,
        field="problem",
        before=before,
        after=after,
        actor=actor,
        request_id=request_id,
        at=at,
    )
    events.publish(
        TicketLinked(
            **_base(incident, actor, request_id),
            link="problem",
            other_id=problem.pk if problem else None,
        )
    )
    return incident


@transaction.atomic
def set_parent(*, child_number: int, parent_number: int | None, agent: User) -> Ticket:
    """Make a ticket the child of another (a parent cannot be solved while a child is open)."""
    actor = Actor.of_agent(agent)
    request_id, at = new_request_id(), clock.now()
    if parent_number is None:
        child = queries.ticket_for_agent(agent, child_number, for_update=True)
        parent = None
    else:
        child, parent = _linked_pair(agent, child_number, parent_number)
        _ensure_not_closed(parent)
        ancestor: Ticket | None = parent
        while ancestor is not None:
            if ancestor.pk == child.pk:
                raise InvalidInput(
                    _("Ticket #%(parent)s is below #%(child)s already; that would make a loop.")
                    % {"parent": parent.number, "child": child.number},
                    field="parent",
                )
            ancestor = ancestor.parent
        if parent.status == Status.SOLVED and child.is_unsolved:
            raise StatusChangeRefused(
                _("Ticket #%(parent)s is solved; reopen it before adding an open child.")
                % {"parent": parent.number}
            )
    _ensure_not_closed(child)
    _ensure_may_work(agent, child)
    before = child.parent.number if child.parent else None
    after = parent.number if parent else None
    if before == after:
        return child
    child.parent = parent
    child.updated_at = at
    child.save(update_fields=["parent", "updated_at"])
    _record(
        child,
        kind=EventKind.LINK,
        field="parent",
        before=before,
        after=after,
        actor=actor,
        request_id=request_id,
        at=at,
    )
    events.publish(
        TicketLinked(
            **_base(child, actor, request_id), link="parent", other_id=parent.pk if parent else None
        )
    )
    return child


@transaction.atomic
def add_followers(
    *, number: int, agent: User | None, emails: list[str], ticket: Ticket | None = None
) -> Ticket:
    """Copy customers on the conversation (e.g. the Cc of an email)."""
    if ticket is None:
        if agent is None:
            raise InvalidInput(_("An agent or a ticket is required."))
        ticket = queries.ticket_for_agent(agent, number, for_update=True)
    _ensure_not_closed(ticket)
    actor = Actor.of_agent(agent) if agent else SYSTEM
    before = set(ticket.followers.values_list("id", flat=True))
    customers = [find_or_create_customer(email=e) for e in emails]
    new = [c for c in customers if c.pk not in before and c.pk != ticket.requester_id]
    if new:
        ticket.followers.add(*new)
        _record(
            ticket,
            kind=EventKind.FOLLOWERS,
            before=sorted(before),
            after=sorted(before | {c.pk for c in new}),
            actor=actor,
            request_id=new_request_id(),
            at=clock.now(),
        )
    return ticket


def move_requester_tickets(
    *,
    source_id: int,
    target_id: int,
    ticket_ids: list[int] | None,
    actor_id: int | None,
    request_id: str,
) -> list[int]:
    """Give a (merged or unmerged) customer's tickets to another customer; log each move."""
    tickets = Ticket.objects.select_for_update().filter(requester_id=source_id)
    if ticket_ids is not None:
        tickets = tickets.filter(pk__in=ticket_ids)
    actor = Actor.of_agent(User.objects.get(pk=actor_id)) if actor_id else SYSTEM
    at = clock.now()
    moved = []
    target = Customer.objects.get(pk=target_id)
    for ticket in tickets:
        # Closed tickets never change, except that their requester follows a customer merge:
        # the conversation is the same person's either way.
        ticket.requester = target
        ticket.organization_id = target.organization_id or ticket.organization_id
        ticket.save(update_fields=["requester", "organization"])
        _record(
            ticket,
            kind=EventKind.REQUESTER,
            before=source_id,
            after=target_id,
            actor=actor,
            request_id=request_id,
            at=at,
        )
        moved.append(ticket.pk)
    return moved


def agent_may_work(agent: User, ticket: Ticket) -> bool:
    return agent.role != Role.CONTRIBUTOR or ticket.assignee_id == agent.pk


# --- Settings: custom statuses, tags and ticket fields ------------------------------------


@transaction.atomic
def create_custom_status(
    *, actor: User, name: str, lifecycle_state: str, position: int = 0
) -> CustomStatus:
    """Add a team's own word for a lifecycle state ("Waiting on warehouse" = pending)."""
    require_settings_access(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidInput(_("A name of 1 to 80 characters is required."), field="name")
    _choice(lifecycle_state, Status, "lifecycle_state")
    if lifecycle_state in (Status.NEW, Status.CLOSED):
        raise InvalidInput(
            _("New and Closed have no custom statuses; pick open, pending, on_hold or solved."),
            field="lifecycle_state",
        )
    if CustomStatus.objects.filter(name__iexact=name).exists():
        raise Conflict(_("There is a status named %(name)s already.") % {"name": name})
    return CustomStatus.objects.create(
        name=name, lifecycle_state=lifecycle_state, position=position
    )


@transaction.atomic
def update_custom_status(
    *,
    actor: User,
    status_id: int,
    name: str | None = None,
    is_active: bool | None = None,
    position: int | None = None,
) -> CustomStatus:
    require_settings_access(actor)
    status = CustomStatus.objects.select_for_update().filter(pk=status_id).first()
    if status is None:
        raise ObjectNotFound("Custom status", status_id)
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 80:
            raise InvalidInput(_("A name of 1 to 80 characters is required."), field="name")
        if CustomStatus.objects.filter(name__iexact=name).exclude(pk=status.pk).exists():
            raise Conflict(_("There is a status named %(name)s already.") % {"name": name})
        status.name = name
    if is_active is not None:
        status.is_active = is_active
    if position is not None:
        status.position = position
    status.save()
    return status


@transaction.atomic
def create_tag(*, actor: User, name: str) -> Tag:
    require_settings_access(actor)
    names = _clean_tags([name])
    if not names:
        raise InvalidInput(_("A tag name is required."), field="name")
    tag, _created = Tag.objects.get_or_create(name=names[0])
    return tag


@transaction.atomic
def delete_tag(*, actor: User, name: str) -> None:
    """Remove a tag from every ticket (recorded on each) and from the tag list."""
    require_settings_access(actor)
    # No tag holds a NUL character, and PostgreSQL cannot even compare text that does.
    tag = Tag.objects.filter(name=name).first() if "\x00" not in name else None
    if tag is None:
        raise ObjectNotFound("Tag", name)
    request_id, at, who = new_request_id(), clock.now(), Actor.of_agent(actor)
    for ticket in tag.tickets.select_for_update().exclude(status=Status.CLOSED):
        _update_fields(
            ticket, TicketChanges(remove_tags=[tag.name]), actor=who, request_id=request_id, at=at
        )
    tag.delete()


def define_custom_field(*, actor: User, **definition: Any) -> CustomFieldDefinition:
    require_settings_access(actor)
    return create_custom_field(**definition)


def change_custom_field(*, actor: User, field_id: int, **changes: Any) -> CustomFieldDefinition:
    require_settings_access(actor)
    return update_custom_field(field_id=field_id, **changes)


# --- The customer's own actions (portal) --------------------------------------------------


@transaction.atomic
def solve_ticket_for_customer(*, ticket_id: int, customer: Customer) -> Ticket:
    """The requester says their problem is solved; a closed or solved request stays as it is.

    The caller has checked the customer may read this ticket (queries.ticket_for_customer).
    """
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ObjectNotFound("Ticket", ticket_id)
    if ticket.status in (Status.SOLVED, Status.CLOSED):
        return ticket
    _change_status(
        ticket,
        target=Status.SOLVED,
        actor=Actor.of_customer(customer),
        request_id=new_request_id(),
        at=clock.now(),
    )
    return ticket


# --- Saved queue views --------------------------------------------------------------------


@transaction.atomic
def save_view(*, agent: User, name: str, query: dict[str, Any], team_id: int | None) -> SavedView:
    """Keep a queue filter under a name, shared with one of the agent's teams if asked."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise InvalidInput(_("A name of 1 to 100 characters is required."), field="name")
    team = None
    if team_id is not None:
        team = agent.teams.filter(pk=team_id).first()
        if team is None:
            raise InvalidInput(_("You can share a view only with a team you are in."), field="team")
    clean = {str(k): [str(v) for v in values] for k, values in query.items() if k != "cursor"}
    return SavedView.objects.create(
        name=name, owner=agent, team=team, query=clean, created_at=clock.now()
    )


@transaction.atomic
def delete_saved_view(*, agent: User, view_id: int) -> None:
    """Remove a saved view; only its owner (or a supervisor) may."""
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None or (view.owner_id != agent.pk and not agent.manages_settings):
        raise ObjectNotFound("Saved view", view_id)
    view.delete()
