"""Tickets over HTTP: parse, call one service or query, serialize.

A ticket's API `id` is its number (#1042 is /api/v1/tickets/1042), the one identifier
agents and customers see.
"""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from serviceloop.api import MAX_ID, READ_AUTH, WRITE_AUTH, AgentRequest, ErrorOut
from serviceloop.core.errors import InvalidInput
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.tickets import queries, services
from serviceloop.tickets.models import CustomStatus, Message, Tag, Ticket, TicketEvent

router = Router(tags=["tickets"])


class PersonOut(Schema):
    id: int
    name: str
    email: str


class TeamRef(Schema):
    id: int
    name: str


class TicketOut(Schema):
    id: int
    number: int
    subject: str
    status: str
    custom_status: str | None
    priority: str
    type: str
    channel: str
    requester: PersonOut
    organization_id: int | None
    assignee: PersonOut | None
    team: TeamRef | None
    tags: list[str]
    custom_fields: dict[str, Any]
    problem: int | None
    parent: int | None
    merged_into: int | None
    follow_up_of: int | None
    created_at: datetime
    updated_at: datetime
    first_agent_reply_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    reopened_at: datetime | None
    reopen_count: int


def ticket_out(ticket: Ticket, *, tags: list[str] | None = None) -> dict[str, Any]:
    """The ticket as the API shows it; `tags` are its tag names when the caller knows them."""
    requester = ticket.requester
    assignee = ticket.assignee
    return {
        "id": ticket.number,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "custom_status": ticket.custom_status.name if ticket.custom_status else None,
        "priority": ticket.priority,
        "type": ticket.type,
        "channel": ticket.channel,
        "requester": {"id": requester.pk, "name": requester.name, "email": requester.email},
        "organization_id": ticket.organization_id,
        "assignee": (
            {"id": assignee.pk, "name": assignee.display_name, "email": assignee.email}
            if assignee
            else None
        ),
        "team": {"id": ticket.team.pk, "name": ticket.team.name} if ticket.team else None,
        "tags": sorted(t.name for t in ticket.tags.all()) if tags is None else tags,
        "custom_fields": ticket.custom_fields,
        "problem": _number_of(ticket, "problem"),
        "parent": _number_of(ticket, "parent"),
        "merged_into": _number_of(ticket, "merged_into"),
        "follow_up_of": _number_of(ticket, "follow_up_of"),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_agent_reply_at": ticket.first_agent_reply_at,
        "solved_at": ticket.solved_at,
        "closed_at": ticket.closed_at,
        "reopened_at": ticket.reopened_at,
        "reopen_count": ticket.reopen_count,
    }


def _number_of(ticket: Ticket, relation: str) -> int | None:
    # Queries fetch these with the ticket (queries.LINKED_TICKETS).
    other = getattr(ticket, relation)
    return other.number if other is not None else None


class RequesterIn(Schema):
    email: str = Field(..., max_length=320)
    name: str = Field("", max_length=200)


class TicketIn(Schema):
    subject: str = Field(..., max_length=250)
    body: str = ""
    body_html: str = ""
    requester: RequesterIn
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    type: Literal["question", "incident", "problem", "task"] = "question"
    channel: Literal["email", "web", "chat", "api", "phone", "social", "agent"] = "api"
    tags: list[str] = []
    team: int | None = None
    assignee: int | None = None
    custom_fields: dict[str, Any] = {}
    author: Literal["requester", "agent"] = "requester"


class TicketPage(Schema):
    items: list[TicketOut]
    next: str | None


class TicketListQuery(Schema):
    status: list[str] | None = None
    priority: list[str] | None = None
    team: int | None = Field(None, ge=1, le=MAX_ID)
    assignee: str | None = Field(None, description="An agent id, `me` or `none` (unassigned)")
    requester: int | None = Field(None, ge=1, le=MAX_ID)
    organization: int | None = Field(None, ge=1, le=MAX_ID)
    tag: str | None = None
    channel: str | None = None
    q: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    sort: Literal["updated_at", "-updated_at", "created_at", "-created_at", "number", "-number"] = (
        "-updated_at"
    )
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


def _split(values: list[str] | None) -> list[str] | None:
    # Accept both ?status=open&status=new and ?status=open,new.
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get("/tickets", response={200: TicketPage, 400: ErrorOut}, auth=READ_AUTH)
def list_tickets(request: AgentRequest, filters: Query[TicketListQuery]) -> dict[str, Any]:
    assignee: int | None = None
    unassigned = False
    if filters.assignee == "me":
        assignee = request.auth.pk
    elif filters.assignee == "none":
        unassigned = True
    elif filters.assignee:
        # isascii: "²" is a digit to str.isdigit() but not to int().
        digits = filters.assignee.isascii() and filters.assignee.isdigit()
        if not digits or int(filters.assignee) > MAX_ID:
            raise InvalidInput("assignee must be an agent id, me or none.", field="assignee")
        assignee = int(filters.assignee)
    tickets, next_cursor = queries.ticket_page(
        request.auth,
        queries.TicketFilters(
            status=_split(filters.status),
            priority=_split(filters.priority),
            team=filters.team,
            assignee=assignee,
            unassigned=unassigned,
            requester=filters.requester,
            organization=filters.organization,
            tag=filters.tag,
            channel=filters.channel,
            q=filters.q,
            created_after=filters.created_after,
            created_before=filters.created_before,
            updated_after=filters.updated_after,
            updated_before=filters.updated_before,
        ),
        sort=filters.sort,
        limit=filters.limit,
        cursor=filters.cursor,
    )
    return {"items": [ticket_out(t) for t in tickets], "next": next_cursor}


@router.post(
    "/tickets",
    response={201: TicketOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def create_ticket(request: AgentRequest, payload: TicketIn) -> Status[dict[str, Any]]:
    ticket, _first_message = services.open_ticket(
        actor=request.auth,
        subject=payload.subject,
        body=payload.body,
        body_html=payload.body_html,
        requester_email=payload.requester.email,
        requester_name=payload.requester.name,
        priority=payload.priority,
        type=payload.type,
        channel=payload.channel,
        tags=payload.tags,
        team_id=payload.team,
        assignee_id=payload.assignee,
        custom_fields=payload.custom_fields,
        author=payload.author,
    )
    # The ticket carries the requester, team and assignee the service set on it, and its
    # tags are the request's, cleaned as the service cleans them: nothing is read back.
    return Status(201, ticket_out(ticket, tags=services.clean_tags(payload.tags)))


class BulkIn(Schema):
    numbers: list[int] = Field(..., min_length=1, max_length=500)
    status: Literal["open", "pending", "on_hold", "solved", "closed"] | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    assignee: int | None = None
    team: int | None = None
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None


class BulkResultOut(Schema):
    number: int
    ok: bool
    code: str
    message: str


# Registered before /tickets/{number}: URL patterns match in order, and the number
# pattern would take "bulk" and answer 405 for a POST.
@router.post(
    "/tickets/bulk",
    response={200: list[BulkResultOut], 400: ErrorOut, 403: ErrorOut},
    auth=WRITE_AUTH,
)
def bulk_update(request: AgentRequest, payload: BulkIn) -> list[services.BulkResult]:
    sent = payload.model_fields_set
    changes = services.TicketChanges(
        priority=payload.priority, add_tags=payload.add_tags, remove_tags=payload.remove_tags
    )
    return services.bulk_update_tickets(
        numbers=payload.numbers,
        agent=request.auth,
        changes=None if changes == services.TicketChanges() else changes,
        status=payload.status,
        **{f"{name}_id": getattr(payload, name) for name in ("assignee", "team") if name in sent},
    )


@router.get("/tickets/{number}", response={200: TicketOut, 404: ErrorOut}, auth=READ_AUTH)
def get_ticket(request: AgentRequest, number: int) -> dict[str, Any]:
    return ticket_out(queries.ticket_for_agent(request.auth, number))


class TicketPatch(Schema):
    subject: str | None = None
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"] | None = None
    custom_status: int | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    type: Literal["question", "incident", "problem", "task"] | None = None
    assignee: int | None = None
    team: int | None = None
    tags: list[str] | None = None
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    required_skills: list[str] | None = None
    problem: int | None = None
    parent: int | None = None
    solve_incidents: bool = False


@router.patch(
    "/tickets/{number}",
    response={200: TicketOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def update_ticket(request: AgentRequest, number: int, payload: TicketPatch) -> dict[str, Any]:
    agent = request.auth
    sent = payload.model_fields_set
    services.edit_ticket(
        number=number,
        agent=agent,
        changes=services.TicketChanges(
            subject=payload.subject,
            priority=payload.priority,
            type=payload.type,
            tags=payload.tags,
            add_tags=payload.add_tags,
            remove_tags=payload.remove_tags,
            custom_fields=payload.custom_fields,
            required_skills=payload.required_skills,
        ),
        status=payload.status,
        custom_status_id=payload.custom_status,
        solve_incidents=payload.solve_incidents,
        **{
            f"{name}_id" if name in ("assignee", "team") else f"{name}_number": getattr(
                payload, name
            )
            for name in ("assignee", "team", "problem", "parent")
            if name in sent
        },
    )
    return ticket_out(queries.ticket_for_agent(agent, number))


class MergeIn(Schema):
    into: int = Field(..., description="Number of the ticket that survives")


@router.post(
    "/tickets/{number}/merge",
    response={200: TicketOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def merge_ticket(request: AgentRequest, number: int, payload: MergeIn) -> dict[str, Any]:
    survivor = services.merge_tickets(
        source_number=number,
        target_number=payload.into,
        agent=request.auth,
    )
    return ticket_out(queries.ticket_for_agent(request.auth, survivor.number))


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(Schema):
    id: int
    kind: str
    author_kind: str
    author_agent_id: int | None
    author_customer_id: int | None
    body: str
    body_html: str
    channel: str
    created_at: datetime
    attachments: list[AttachmentOut]


def message_out(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "author_kind": message.author_kind,
        "author_agent_id": message.author_agent_id,
        "author_customer_id": message.author_customer_id,
        "body": message.body_text,
        "body_html": message.body_html,
        "channel": message.channel,
        "created_at": message.created_at,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": a.file.url,
            }
            for a in message.attachments.all()
        ],
    }


class MessageIn(Schema):
    body: str = ""
    body_html: str = ""
    kind: Literal["reply", "note"] = "reply"
    status: Literal["open", "pending", "on_hold", "solved"] | None = None


@router.get(
    "/tickets/{number}/messages", response={200: list[MessageOut], 404: ErrorOut}, auth=READ_AUTH
)
def list_messages(request: AgentRequest, number: int) -> list[dict[str, Any]]:
    return [message_out(m) for m in queries.messages_for_agent(request.auth, number)]


@router.post(
    "/tickets/{number}/messages",
    response={201: MessageOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def add_message(request: AgentRequest, number: int, payload: MessageIn) -> Status[dict[str, Any]]:
    agent = request.auth
    if payload.kind == "note":
        if payload.status is not None:
            raise InvalidInput("status can be set with a reply, not a note.", field="status")
        message = services.add_internal_note(
            number=number,
            agent=agent,
            body=payload.body,
            body_html=payload.body_html,
        )
    else:
        message = services.reply_to_ticket(
            number=number,
            agent=agent,
            body=payload.body,
            body_html=payload.body_html,
            status=payload.status,
        )
    return Status(201, message_out(message))


class EventOut(Schema):
    id: int
    kind: str
    field: str
    before: Any
    after: Any
    actor_kind: str
    actor_id: int | None
    actor_customer_id: int | None
    request_id: str
    created_at: datetime


def event_out(event: TicketEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "field": event.field,
        "before": event.before,
        "after": event.after,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_customer_id": event.actor_customer_id,
        "request_id": str(event.request_id),
        "created_at": event.created_at,
    }


@router.get(
    "/tickets/{number}/events", response={200: list[EventOut], 404: ErrorOut}, auth=READ_AUTH
)
def list_events(request: AgentRequest, number: int) -> list[dict[str, Any]]:
    return [event_out(e) for e in queries.events_for_agent(request.auth, number)]


# --- Settings: tags, custom fields, custom statuses ---------------------------------------

settings_router = Router(tags=["ticket settings"])


class TagOut(Schema):
    name: str


class TagIn(Schema):
    name: str = Field(..., max_length=80)


@settings_router.get("/tags", response={200: list[TagOut]}, auth=READ_AUTH)
def list_tags(request: AgentRequest, q: str = "") -> list[Tag]:
    tags = Tag.objects.all()
    if q:
        tags = tags.filter(name__startswith=q.strip().lower())
    return list(tags[:1000])


@settings_router.post(
    "/tags", response={201: TagOut, 400: ErrorOut, 403: ErrorOut}, auth=WRITE_AUTH
)
def create_tag(request: AgentRequest, payload: TagIn) -> Status[Tag]:
    return Status(201, services.create_tag(actor=request.auth, name=payload.name))


@settings_router.delete(
    "/tags/{name}", response={204: None, 403: ErrorOut, 404: ErrorOut}, auth=WRITE_AUTH
)
def delete_tag(request: AgentRequest, name: str) -> Status[None]:
    services.delete_tag(actor=request.auth, name=name)
    return Status(204, None)


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label: str
    kind: str
    options: list[Any]
    required: bool
    is_active: bool
    position: int
    shown_on_web_form: bool


class CustomFieldIn(Schema):
    entity: Literal["ticket", "customer"] = "ticket"
    key: str = Field(..., max_length=60)
    label: str = Field(..., max_length=100)
    kind: Literal["text", "number", "dropdown", "checkbox", "date"]
    options: list[str] = []
    required: bool = False
    position: int = Field(0, ge=0)
    shown_on_web_form: bool = False


class CustomFieldPatch(Schema):
    label: str | None = Field(None, max_length=100)
    options: list[str] | None = None
    required: bool | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0)
    shown_on_web_form: bool | None = None


@settings_router.get("/custom-fields", response={200: list[CustomFieldOut]}, auth=READ_AUTH)
def list_custom_fields(request: AgentRequest) -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.all())


@settings_router.post(
    "/custom-fields",
    response={201: CustomFieldOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def create_custom_field(
    request: AgentRequest, payload: CustomFieldIn
) -> Status[CustomFieldDefinition]:
    return Status(201, services.define_custom_field(actor=request.auth, **payload.dict()))


@settings_router.patch(
    "/custom-fields/{field_id}",
    response={200: CustomFieldOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=WRITE_AUTH,
)
def update_custom_field(
    request: AgentRequest, field_id: int, payload: CustomFieldPatch
) -> CustomFieldDefinition:
    return services.change_custom_field(
        actor=request.auth,
        field_id=field_id,
        **payload.dict(exclude_unset=True),
    )


class CustomStatusOut(Schema):
    id: int
    name: str
    lifecycle_state: str
    position: int
    is_active: bool


class CustomStatusIn(Schema):
    name: str = Field(..., max_length=80)
    lifecycle_state: Literal["open", "pending", "on_hold", "solved"]
    position: int = Field(0, ge=0)


class CustomStatusPatch(Schema):
    name: str | None = Field(None, max_length=80)
    is_active: bool | None = None
    position: int | None = Field(None, ge=0)


@settings_router.get("/custom-statuses", response={200: list[CustomStatusOut]}, auth=READ_AUTH)
def list_custom_statuses(request: AgentRequest) -> list[CustomStatus]:
    return list(CustomStatus.objects.all())


@settings_router.post(
    "/custom-statuses",
    response={201: CustomStatusOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def create_custom_status(request: AgentRequest, payload: CustomStatusIn) -> Status[CustomStatus]:
    return Status(201, services.create_custom_status(actor=request.auth, **payload.dict()))


@settings_router.patch(
    "/custom-statuses/{status_id}",
    response={200: CustomStatusOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def update_custom_status(
    request: AgentRequest, status_id: int, payload: CustomStatusPatch
) -> CustomStatus:
    return services.update_custom_status(
        actor=request.auth,
        status_id=status_id,
        **payload.dict(exclude_unset=True),
    )
