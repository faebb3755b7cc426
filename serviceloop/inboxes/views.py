"""The public contact page of an inbox, and the snippet to embed it elsewhere.

Anyone may post here (the embeddable form posts from other sites, so there is no CSRF
token); a honeypot field, per-IP and per-address rate limits and size limits keep robots
out without third-party services. Refusals re-render the form with status 422.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

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
HONEYPOT = "website"


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _over_limit(key: str, limit: int) -> bool:
    """Count one submission against a per-hour budget; True when it is spent."""
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


@dataclass
class WebFormField:
    """One admin-defined ticket field on the form: what was typed and what was wrong."""

    definition: CustomFieldDefinition
    value: str = ""
    error: str = ""

    @property
    def name(self) -> str:
        return "cf_%s" % self.definition.key


def _web_form_fields(request: HttpRequest) -> list[WebFormField]:
    fields = [WebFormField(d) for d in queries.web_form_fields()]
    if request.method == "POST":
        for field in fields:
            field.value = request.POST.get(field.name, "").strip()
    return fields


def _clean_custom_fields(fields: list[WebFormField]) -> dict[str, Any]:
    """The typed values of the asked fields; each refusal is put on its own field."""
    cleaned: dict[str, Any] = {}
    for field in fields:
        key = field.definition.key
        if field.definition.kind == CustomFieldDefinition.Kind.CHECKBOX:
            raw: Any = True if field.value else None
        else:
            raw = field.value or None
        try:
            cleaned.update(clean_custom_fields(entity="ticket", values={key: raw}, existing={}))
        except InvalidInput as refusal:
            field.error = refusal.message
    return cleaned


def _clean(request: HttpRequest, inbox: Inbox) -> tuple[dict[str, str], dict[str, str], list]:
    data = {
        # A line break in a name or subject would break the mail header they go into.
        "name": " ".join(request.POST.get("name", "").split()),
        "email": request.POST.get("email", "").strip(),
        "subject": " ".join(request.POST.get("subject", "").split()),
        "message": request.POST.get("message", "").strip(),
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
    files = request.FILES.getlist("attachments")
    limit = min(inbox.max_attachment_bytes, settings.SERVICELOOP_MAX_ATTACHMENT_BYTES)
    if len(files) > MAX_FILES:
        errors["attachments"] = _("Attachments: at most %(n)s files.") % {"n": MAX_FILES}
    for upload in files:
        if (upload.size or 0) > limit:
            errors["attachments"] = _("Attachments: %(name)s is larger than %(limit)s bytes.") % {
                "name": upload.name,
                "limit": limit,
            }
    return data, errors, files


@csrf_exempt
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, slug: str) -> HttpResponse:
    inbox = queries.contact_inbox(slug)
    web_fields = _web_form_fields(request)
    context: dict = {
        "inbox": inbox,
        "data": {},
        "errors": {},
        "honeypot": HONEYPOT,
        "web_fields": web_fields,
    }
    if request.method == "GET":
        return render(request, "inboxes/contact.html", context)
    if request.POST.get(HONEYPOT):
        # Robots fill every field; people never see this one. Look successful, do nothing.
        return render(request, "inboxes/contact_sent.html", {"inbox": inbox, "number": None})
    data, errors, files = _clean(request, inbox)
    custom_fields = _clean_custom_fields(web_fields)
    errors.update({f.name: f.error for f in web_fields if f.error})
    context.update(data=data, errors=errors)
    ip_key = "contact-ip:%s" % _client_ip(request)
    address_key = "contact-address:%s" % data.get("email", "")
    if not errors and (
        _over_limit(ip_key, settings.SERVICELOOP_CONTACT_PER_IP_PER_HOUR)
        or _over_limit(address_key, settings.SERVICELOOP_CONTACT_PER_ADDRESS_PER_HOUR)
    ):
        errors["form"] = _("Too many messages in a short time; please try again in an hour.")
        return render(request, "inboxes/contact.html", context, status=429)
    if errors:
        return render(request, "inboxes/contact.html", context, status=422)
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
        return render(request, "inboxes/contact.html", context, status=422)
    inbound = received.inbound
    if inbound.state != InboundMessage.State.PROCESSED or inbound.ticket is None:
        # Kept and visible to admins; the person is told it arrived, without a number.
        return render(request, "inboxes/contact_sent.html", {"inbox": inbox, "number": None})
    return render(
        request, "inboxes/contact_sent.html", {"inbox": inbox, "number": inbound.ticket.number}
    )


def embed_snippet(request: HttpRequest, slug: str) -> HttpResponse:
    """The plain HTML form to paste into another site; it posts to the contact page."""
    inbox = queries.contact_inbox(slug)
    action = request.build_absolute_uri("/contact/%s/" % inbox.slug)
    context = {
        "inbox": inbox,
        "action": action,
        "honeypot": HONEYPOT,
        "web_fields": _web_form_fields(request),
    }
    snippet = render(request, "inboxes/embed.html", context).content.decode()
    return render(request, "inboxes/embed_page.html", {"inbox": inbox, "snippet": snippet})
