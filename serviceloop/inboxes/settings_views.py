"""Inbox settings pages: add and edit inboxes, test their mail servers, watch their mail.

Supervisors and admins only (the queries and services check it). Every form works as a
plain POST with a redirect; with htmx, the part of the page that changed is swapped in.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from serviceloop.accounts.services import require_settings_access
from serviceloop.core.errors import DomainError
from serviceloop.core.http import AgentRequest, agent_required
from serviceloop.inboxes import connection_checks, queries, services
from serviceloop.inboxes.forms import InboxForm
from serviceloop.inboxes.models import InboundMessage, Inbox

RECENT = 50
INBOX_PAGE = "settings/inbox.html"


@agent_required
@require_GET
def inboxes(request: AgentRequest) -> HttpResponse:
    context = {"nav": "settings", "inboxes": queries.inboxes_with_mail_health(request.user)}
    return render(request, "settings/inboxes.html", context)


@agent_required
@require_http_methods(["GET", "POST"])
def new_inbox(request: AgentRequest) -> HttpResponse:
    require_settings_access(request.user)
    form = InboxForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            inbox = services.create_inbox(
                actor=request.user, address=form.cleaned_data["address"], **form.inbox_settings()
            )
        except DomainError as refusal:
            form.add_refusal(refusal)
        else:
            messages.success(request, _("Inbox %(address)s added.") % {"address": inbox.address})
            url = reverse("settings:inbox", args=[inbox.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    template = "settings/inbox_new.html"
    if request.htmx:
        template += "#inbox-form"
    context = {"nav": "settings", "form": form}
    return render(request, template, context, status=422 if form.errors else 200)


def _page_context(request: AgentRequest, inbox: Inbox, form: InboxForm) -> dict:
    state = request.GET.get("inbound", "")
    if state not in InboundMessage.State.values:
        state = ""
    inbound = queries.inbound_messages_for_admin(request.user, inbox_id=inbox.pk, state=state)
    outbound = queries.outbound_messages_for_admin(request.user, inbox_id=inbox.pk)
    return {
        "nav": "settings",
        "inbox": inbox,
        "form": form,
        "inbound_state": state,
        "inbound_states": InboundMessage.State.choices,
        "inbound": inbound[:RECENT],
        "outbound": outbound[:RECENT],
        "contact_url": request.build_absolute_uri(reverse("inboxes:contact", args=[inbox.slug])),
    }


@agent_required
@require_http_methods(["GET", "POST"])
def inbox(request: AgentRequest, inbox_id: int) -> HttpResponse:
    current = queries.inbox_for_admin(request.user, inbox_id)
    form = InboxForm(request.POST if request.method == "POST" else None, inbox=current)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            current = services.update_inbox(
                actor=request.user, inbox_id=inbox_id, **form.inbox_settings()
            )
        except DomainError as refusal:
            form.add_refusal(refusal)
        else:
            if not request.htmx:
                messages.success(request, _("Inbox settings saved."))
                return redirect("settings:inbox", inbox_id)
            form, saved = InboxForm(inbox=current), True
    if request.htmx and request.method == "POST":
        context = {"inbox": current, "form": form, "saved": saved}
        status = 422 if form.errors else 200
        return render(request, INBOX_PAGE + "#inbox-form", context, status=status)
    context = _page_context(request, current, form)
    return render(request, INBOX_PAGE, context, status=422 if form.errors else 200)


def _show_check(
    request: AgentRequest, inbox: Inbox, check: connection_checks.ConnectionCheck, kind: str
) -> HttpResponse:
    if request.htmx:
        context = {"inbox": inbox, "check": check, "kind": kind}
        return render(request, INBOX_PAGE + "#connection-check", context)
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("settings:inbox", inbox.pk)


@agent_required
@require_POST
def check_imap(request: AgentRequest, inbox_id: int) -> HttpResponse:
    inbox = queries.inbox_for_admin(request.user, inbox_id)
    return _show_check(request, inbox, connection_checks.check_imap(inbox), "IMAP")


@agent_required
@require_POST
def check_smtp(request: AgentRequest, inbox_id: int) -> HttpResponse:
    inbox = queries.inbox_for_admin(request.user, inbox_id)
    return _show_check(request, inbox, connection_checks.check_smtp(inbox), "SMTP")


@agent_required
@require_POST
def reprocess_inbound(request: AgentRequest, inbox_id: int, inbound_id: int) -> HttpResponse:
    inbox = queries.inbox_for_admin(request.user, inbox_id)
    queries.inbound_message_for_admin(request.user, inbound_id)
    services.reprocess_inbound(inbound_id=inbound_id)
    row = queries.inbound_message_for_admin(request.user, inbound_id)
    if request.htmx:
        return render(request, INBOX_PAGE + "#inbound-row", {"inbox": inbox, "m": row})
    if row.state == InboundMessage.State.PROCESSED:
        messages.success(request, _("The message was processed again."))
    else:
        messages.error(
            request,
            _("The message is still %(state)s: %(error)s")
            % {"state": row.get_state_display(), "error": row.error_summary},
        )
    return redirect("settings:inbox", inbox.pk)


@agent_required
@require_POST
def delete_inbox(request: AgentRequest, inbox_id: int) -> HttpResponse:
    inbox = queries.inbox_for_admin(request.user, inbox_id)
    services.delete_inbox(actor=request.user, inbox_id=inbox_id)
    messages.success(
        request,
        _("Inbox %(address)s removed; the mail it received is kept.") % {"address": inbox.address},
    )
    return redirect("settings:inboxes")
