"""Settings pages for the ticket vocabulary: tags, custom fields and custom statuses."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from serviceloop.accounts.services import require_settings_access
from serviceloop.core.errors import DomainError
from serviceloop.core.http import AgentRequest, agent_required
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.tickets import services
from serviceloop.tickets.models import CustomStatus, Status, Tag


@agent_required
@require_http_methods(["GET", "POST"])
def tags(request: AgentRequest) -> HttpResponse:
    require_settings_access(request.user)
    error = None
    if request.method == "POST":
        try:
            tag = services.create_tag(actor=request.user, name=request.POST.get("name", ""))
        except DomainError as refusal:
            error = refusal
        else:
            messages.success(request, _("Tag %(name)s added.") % {"name": tag.name})
            return redirect("settings:tags")
    context = {"nav": "settings", "tags": Tag.objects.all(), "error": error}
    return render(request, "settings/tags.html", context, status=422 if error else 200)


@agent_required
@require_POST
def delete_tag(request: AgentRequest, name: str) -> HttpResponse:
    services.delete_tag(actor=request.user, name=name)
    messages.success(request, _("Tag %(name)s removed from every ticket.") % {"name": name})
    return redirect("settings:tags")


@agent_required
@require_http_methods(["GET", "POST"])
def custom_fields(request: AgentRequest) -> HttpResponse:
    require_settings_access(request.user)
    error = None
    if request.method == "POST":
        options = [o.strip() for o in request.POST.get("options", "").split(",") if o.strip()]
        try:
            definition = services.define_custom_field(
                actor=request.user,
                entity=request.POST.get("entity", CustomFieldDefinition.Entity.TICKET),
                key=request.POST.get("key", "").strip(),
                label=request.POST.get("label", ""),
                kind=request.POST.get("kind", ""),
                options=options,
                required="required" in request.POST,
                shown_on_web_form="shown_on_web_form" in request.POST,
            )
        except DomainError as refusal:
            error = refusal
        else:
            messages.success(request, _("Field %(label)s added.") % {"label": definition.label})
            return redirect("settings:fields")
    context = {
        "nav": "settings",
        "fields": CustomFieldDefinition.objects.all(),
        "kinds": CustomFieldDefinition.Kind.choices,
        "entities": CustomFieldDefinition.Entity.choices,
        "error": error,
    }
    return render(request, "settings/fields.html", context, status=422 if error else 200)


@agent_required
@require_POST
def edit_custom_field(request: AgentRequest, field_id: int) -> HttpResponse:
    try:
        services.change_custom_field(
            actor=request.user,
            field_id=field_id,
            required="required" in request.POST,
            is_active="is_active" in request.POST,
            shown_on_web_form="shown_on_web_form" in request.POST,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Field saved."))
    return redirect("settings:fields")


@agent_required
@require_http_methods(["GET", "POST"])
def custom_statuses(request: AgentRequest) -> HttpResponse:
    require_settings_access(request.user)
    error = None
    if request.method == "POST":
        try:
            status = services.create_custom_status(
                actor=request.user,
                name=request.POST.get("name", ""),
                lifecycle_state=request.POST.get("lifecycle_state", ""),
            )
        except DomainError as refusal:
            error = refusal
        else:
            messages.success(request, _("Status %(name)s added.") % {"name": status.name})
            return redirect("settings:statuses")
    context = {
        "nav": "settings",
        "statuses": CustomStatus.objects.all(),
        "states": [(v, label) for v, label in Status.choices if v not in ("new", "closed")],
        "error": error,
    }
    return render(request, "settings/statuses.html", context, status=422 if error else 200)


@agent_required
@require_POST
def edit_custom_status(request: AgentRequest, status_id: int) -> HttpResponse:
    try:
        services.update_custom_status(
            actor=request.user,
            status_id=status_id,
            name=request.POST.get("name") or None,
            is_active="is_active" in request.POST,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Status saved."))
    return redirect("settings:statuses")
