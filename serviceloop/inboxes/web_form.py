"""A web-form submission, from the contact page or the embeddable form (through the API).

Both ways in call `submit_web_form`, so they check the same things: the fields a request
needs, the custom fields the admin exposes, and spam protection without third-party
services: a honeypot field, rate limits per IP and per address, size limits. A submission
that passes becomes a stored message and a ticket through `services.submit_contact_form`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.translation import gettext as _

from serviceloop.core.custom_fields import clean_custom_fields
from serviceloop.core.errors import DomainError, InvalidInput
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.customers.normalize import normalize_email
from serviceloop.inboxes import queries, services
from serviceloop.inboxes.models import InboundMessage, Inbox

MAX_NAME = 200
MAX_SUBJECT = 250
MAX_MESSAGE = 20_000
MAX_FILES = 5
# People never see this field; robots fill in every field they find.
HONEYPOT = "website"


class Outcome:
    SENT = "sent"
    # A filled honeypot: the robot is shown success, and nothing is kept.
    HONEYPOT = "honeypot"
    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"


@dataclass
class WebFormField:
    """One admin-defined ticket field on the form: what was typed and what was wrong."""

    definition: CustomFieldDefinition
    value: str = ""
    error: str = ""

    @property
    def name(self) -> str:
        return "cf_%s" % self.definition.key


@dataclass
class Submission:
    """What became of one submission, and what to show the person if it was refused."""

    outcome: str
    # What was typed, cleaned, to fill the form in again.
    data: dict[str, str] = field(default_factory=dict)
    fields: list[WebFormField] = field(default_factory=list)
    # By form field name ("email", "cf_order", or "form" for the whole form).
    errors: dict[str, str] = field(default_factory=dict)
    # None when nothing became a ticket (yet): kept for the admins, but no number to show.
    ticket_number: int | None = None


def client_ip(request: HttpRequest) -> str:
    """The address a per-IP rate limit counts against."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def web_form_fields(posted: Mapping[str, str] | None = None) -> list[WebFormField]:
    """The custom fields the form asks, with what was posted for each."""
    fields = [WebFormField(d) for d in queries.web_form_fields()]
    if posted is not None:
        for item in fields:
            item.value = (posted.get(item.name) or "").strip()
    return fields


def _over_limit(key: str, limit: int) -> bool:
    """Count one submission against a per-hour budget; True when it is spent."""
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


def _clean_custom_fields(fields: list[WebFormField]) -> dict[str, Any]:
    """The typed values of the asked fields; each refusal is put on its own field."""
    cleaned: dict[str, Any] = {}
    for item in fields:
        key = item.definition.key
        if item.definition.kind == CustomFieldDefinition.Kind.CHECKBOX:
            raw: Any = True if item.value else None
        else:
            raw = item.value or None
        try:
            cleaned.update(clean_custom_fields(entity="ticket", values={key: raw}, existing={}))
        except InvalidInput as refusal:
            item.error = refusal.message
    return cleaned


def _clean(
    posted: Mapping[str, str], files: Sequence[UploadedFile], inbox: Inbox
) -> tuple[dict[str, str], dict[str, str]]:
    data = {
        # A line break in a name or subject would break the mail header they go into.
        "name": " ".join((posted.get("name") or "").split()),
        "email": (posted.get("email") or "").strip(),
        "subject": " ".join((posted.get("subject") or "").split()),
        "message": (posted.get("message") or "").strip(),
    }
    errors: dict[str, str] = {}
    if len(data["name"]) > MAX_NAME:
        errors["name"] = _("Name: at most %(n)s characters.") % {"n": MAX_NAME}
    try:
        data["email"] = normalize_email(data["email"], field="email")
    except InvalidInput:
        errors["email"] = _("Email: enter a valid email address so we can answer you.")
    if not data["subject"]:
        errors["subject"] = _("Subject: say in a few words what it is about.")
    elif len(data["subject"]) > MAX_SUBJECT:
        errors["subject"] = _("Subject: at most %(n)s characters.") % {"n": MAX_SUBJECT}
    if not data["message"]:
        errors["message"] = _("Message: tell us how we can help.")
    elif len(data["message"]) > MAX_MESSAGE:
        errors["message"] = _("Message: at most %(n)s characters.") % {"n": MAX_MESSAGE}
    limit = min(inbox.max_attachment_bytes, settings.SERVICELOOP_MAX_ATTACHMENT_BYTES)
    if len(files) > MAX_FILES:
        errors["attachments"] = _("Attachments: at most %(n)s files.") % {"n": MAX_FILES}
    for upload in files:
        if (upload.size or 0) > limit:
            errors["attachments"] = _("Attachments: %(name)s is larger than %(limit)s bytes.") % {
                "name": upload.name,
                "limit": limit,
            }
    return data, errors


def submit_web_form(
    *, inbox: Inbox, posted: Mapping[str, str], files: Sequence[UploadedFile], client_ip: str
) -> Submission:
    """Check a submission and, if it passes, turn it into a stored message and a ticket."""
    fields = web_form_fields(posted)
    if posted.get(HONEYPOT):
        return Submission(Outcome.HONEYPOT)
    data, errors = _clean(posted, files, inbox)
    custom_fields = _clean_custom_fields(fields)
    errors.update({item.name: item.error for item in fields if item.error})
    submission = Submission(Outcome.REFUSED, data=data, fields=fields, errors=errors)
    if errors:
        return submission
    # Only a submission that would be accepted counts against the limits.
    if _over_limit(
        "contact-ip:%s" % client_ip, settings.SERVICELOOP_CONTACT_PER_IP_PER_HOUR
    ) or _over_limit(
        "contact-address:%s" % data["email"], settings.SERVICELOOP_CONTACT_PER_ADDRESS_PER_HOUR
    ):
        errors["form"] = _("Too many messages in a short time; please try again in an hour.")
        submission.outcome = Outcome.RATE_LIMITED
        return submission
    try:
        received = services.submit_contact_form(
            inbox=inbox,
            name=data["name"],
            email_address=data["email"],
            subject=data["subject"],
            message=data["message"],
            attachments=[
                (f.name or "attachment", f.content_type or "application/octet-stream", f.read())
                for f in files
            ],
            custom_fields=custom_fields,
        )
    except DomainError as error:
        errors[error.field or "form"] = error.message
        return submission
    inbound = received.inbound
    submission.outcome = Outcome.SENT
    if inbound.state == InboundMessage.State.PROCESSED and inbound.ticket is not None:
        submission.ticket_number = inbound.ticket.number
    return submission
