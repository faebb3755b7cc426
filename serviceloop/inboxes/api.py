"""Inboxes over HTTP: settings (admins and supervisors), the mail log, and the public
endpoint the embeddable web form posts to."""

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.api import (
    MAX_ID,
    READ_AUTH,
    WRITE_AUTH,
    AgentRequest,
    BoundedLimitOffset,
    ErrorOut,
    error_body,
)
from serviceloop.inboxes import queries, services, views, web_form
from serviceloop.inboxes.models import InboundMessage, Inbox, OutboundMessage
from serviceloop.inboxes.web_form import Outcome

router = Router(tags=["inboxes"])


class InboxOut(Schema):
    id: int
    address: str
    name: str
    slug: str
    is_active: bool
    imap_host: str
    imap_port: int | None
    imap_security: str
    imap_ca_certificate: str
    imap_username: str
    imap_folder: str
    imap_after_import: str
    imap_move_to: str
    imap_last_polled_at: datetime | None
    imap_last_error: str
    smtp_host: str
    smtp_port: int | None
    smtp_username: str
    smtp_use_tls: bool
    smtp_use_ssl: bool
    max_attachment_bytes: int
    send_acknowledgement: bool
    acknowledgement_template: str
    thread_by_subject_days: int
    sender_rate_limit_per_hour: int
    team_id: int | None
    contact_url: str

    @staticmethod
    def resolve_contact_url(inbox: Inbox) -> str:
        return "/contact/%s/" % inbox.slug


class InboxSettings(Schema):
    """Passwords are write-only: they are never returned."""

    name: str | None = Field(None, max_length=120)
    is_active: bool | None = None
    imap_host: str | None = Field(None, max_length=200)
    imap_port: int | None = Field(None, ge=1, le=65535)
    imap_security: str | None = None
    # PEM: a self-signed server's certificate or a private CA, trusted besides the system's.
    imap_ca_certificate: str | None = Field(None, max_length=20000)
    imap_username: str | None = Field(None, max_length=200)
    imap_password: str | None = Field(None, max_length=200)
    imap_folder: str | None = Field(None, max_length=200)
    imap_after_import: str | None = None
    imap_move_to: str | None = Field(None, max_length=200)
    smtp_host: str | None = Field(None, max_length=200)
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str | None = Field(None, max_length=200)
    smtp_password: str | None = Field(None, max_length=200)
    smtp_use_tls: bool | None = None
    smtp_use_ssl: bool | None = None
    max_attachment_bytes: int | None = Field(None, ge=0)
    send_acknowledgement: bool | None = None
    acknowledgement_template: str | None = Field(None, max_length=5000)
    thread_by_subject_days: int | None = Field(None, ge=0, le=365)
    sender_rate_limit_per_hour: int | None = Field(None, ge=0)
    team_id: int | None = None


class InboxIn(InboxSettings):
    address: str = Field(max_length=254)


def _given(payload: InboxSettings) -> dict[str, Any]:
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if k != "address"}


@router.get("/inboxes", response={200: list[InboxOut], 403: ErrorOut}, auth=READ_AUTH)
def list_inboxes(request: AgentRequest) -> list[Inbox]:
    return list(queries.inboxes_for_admin(request.auth))


@router.post(
    "/inboxes", response={201: InboxOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)  # fmt: skip
def create_inbox(request: AgentRequest, payload: InboxIn) -> Status[Inbox]:
    inbox = services.create_inbox(actor=request.auth, address=payload.address, **_given(payload))
    return Status(201, inbox)


@router.get(
    "/inboxes/{inbox_id}", response={200: InboxOut, 403: ErrorOut, 404: ErrorOut}, auth=READ_AUTH
)
def get_inbox(request: AgentRequest, inbox_id: int) -> Inbox:
    return queries.inbox_for_admin(request.auth, inbox_id)


@router.patch(
    "/inboxes/{inbox_id}",
    response={200: InboxOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=WRITE_AUTH,
)
def update_inbox(request: AgentRequest, inbox_id: int, payload: InboxSettings) -> Inbox:
    return services.update_inbox(actor=request.auth, inbox_id=inbox_id, **_given(payload))


@router.delete(
    "/inboxes/{inbox_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}, auth=WRITE_AUTH
)
def delete_inbox(request: AgentRequest, inbox_id: int) -> Status[None]:
    services.delete_inbox(actor=request.auth, inbox_id=inbox_id)
    return Status(204, None)


class InboundMessageOut(Schema):
    id: int
    inbox_id: int | None
    via: str
    message_id: str
    from_address: str
    subject: str
    size: int
    state: str
    error: str
    is_automatic: bool
    duplicate_of_id: int | None
    ticket_number: int | None
    ticket_message_id: int | None
    received_at: datetime
    processed_at: datetime | None

    @staticmethod
    def resolve_ticket_number(row: InboundMessage) -> int | None:
        return row.ticket.number if row.ticket else None


class InboundFilter(Schema):
    state: Literal["", "received", "processed", "failed", "duplicate", "ignored"] = ""
    inbox_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get(
    "/inbound-messages",
    response={200: list[InboundMessageOut], 403: ErrorOut},
    auth=READ_AUTH,
)
@paginate(BoundedLimitOffset)
def list_inbound_messages(request: AgentRequest, filters: Query[InboundFilter]) -> Any:
    return queries.inbound_messages_for_admin(
        request.auth, state=filters.state, inbox_id=filters.inbox_id
    )


@router.get(
    "/inbound-messages/{inbound_id}/raw",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
    auth=READ_AUTH,
)
def download_raw(request: AgentRequest, inbound_id: int) -> HttpResponse:
    """The message exactly as received (message/rfc822)."""
    row = queries.inbound_message_for_admin(request.auth, inbound_id)
    response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
    response["Content-Disposition"] = 'attachment; filename="inbound-%s.eml"' % row.pk
    return response


@router.post(
    "/inbound-messages/{inbound_id}/reprocess",
    response={200: InboundMessageOut, 403: ErrorOut, 404: ErrorOut},
    auth=WRITE_AUTH,
)
def reprocess(request: AgentRequest, inbound_id: int) -> InboundMessage:
    queries.inbound_message_for_admin(request.auth, inbound_id)
    services.reprocess_inbound(inbound_id=inbound_id)
    return queries.inbound_message_for_admin(request.auth, inbound_id)


class OutboundMessageOut(Schema):
    id: int
    inbox_id: int | None
    kind: str
    message_id: str
    to_address: str
    subject: str
    state: str
    attempts: int
    last_error: str
    ticket_number: int
    created_at: datetime
    sent_at: datetime | None

    @staticmethod
    def resolve_ticket_number(row: OutboundMessage) -> int:
        return row.ticket.number


@router.get(
    "/outbound-messages",
    response={200: list[OutboundMessageOut], 403: ErrorOut},
    auth=READ_AUTH,
)
@paginate(BoundedLimitOffset)
def list_outbound_messages(
    request: AgentRequest,
    state: Literal["", "pending", "sending", "sent", "failed", "bounced"] = "",
) -> Any:
    return queries.outbound_messages_for_admin(request.auth, state=state)


# --- The web form -------------------------------------------------------------------------

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _public(response: HttpResponse) -> HttpResponse:
    # Anyone may post here and nothing private is answered, so a script on the customer's
    # own site may read the answer (it sends no cookies: none are needed).
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _as_json(status: int, body: dict[str, Any]) -> HttpResponse:
    return _public(JsonResponse(body, status=status))


# Public by design: the form is embedded on other sites, so there is no sign-in and no CSRF
# check. Nothing here looks at who is signed in, so a post from another site can do no more
# than a stranger filling in the form. Left out of the OpenAPI schema, which lists the
# endpoints that take an API token; README.md documents it.
@router.post("/contact/{slug}", auth=None, include_in_schema=False, url_name="submit_web_form")
def submit_web_form(request: HttpRequest, slug: str) -> HttpResponse:
    """Take a web-form post (multipart/form-data) and open a ticket, as the contact page does.

    A browser (Accept prefers text/html) is redirected (303) to the confirmation page with
    the ticket number, or shown the form again saying what is wrong; any other client gets
    201 with the ticket number, or a JSON error naming the field.
    """
    inbox = queries.contact_inbox(slug)
    wants_page = request.get_preferred_type(["application/json", "text/html"]) == "text/html"
    if request.content_type not in FORM_TYPES:
        return _as_json(
            415,
            error_body(
                "unsupported_media_type",
                _(
                    "Post the form as multipart/form-data (or, without attachments, "
                    "application/x-www-form-urlencoded)."
                ),
            ),
        )
    try:
        posted, files = request.POST, request.FILES.getlist("attachments")
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        return _as_json(
            413, error_body("too_large", _("The form is larger than this server accepts."))
        )
    submission = web_form.submit_web_form(
        inbox=inbox, posted=posted, files=files, client_ip=web_form.client_ip(request)
    )
    accepted = submission.outcome in (Outcome.SENT, Outcome.HONEYPOT)
    if wants_page:
        if accepted:
            url = views.confirmation_url(inbox, submission.ticket_number)
            return _public(HttpResponseRedirect(url, status=303))
        context = {**views.form_context(inbox, submission), "files_dropped": bool(files)}
        status = views.refusal_status(submission)
        return _public(render(request, "inboxes/contact.html", context, status=status))
    if accepted:
        number = submission.ticket_number
        # 202: received and kept, but not (yet) a ticket; a robot's post looks the same.
        return _as_json(201 if number is not None else 202, {"ticket_number": number})
    if submission.outcome == Outcome.RATE_LIMITED:
        return _as_json(429, error_body("rate_limited", submission.errors["form"]))
    problems = [{"field": name, "message": text} for name, text in submission.errors.items()]
    first = problems[0]
    field = None if first["field"] == "form" else first["field"]
    return _as_json(422, error_body("invalid", first["message"], field, errors=problems))
