"""The webhooks settings page: register outside URLs for signed event deliveries."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from serviceloop.accounts.services import require_settings_access
from serviceloop.core.errors import DomainError
from serviceloop.core.events import event_names
from serviceloop.core.http import AgentRequest, agent_required
from serviceloop.webhooks import services
from serviceloop.webhooks.models import Webhook


@agent_required
@require_http_methods(["GET", "POST"])
def webhooks(request: AgentRequest) -> HttpResponse:
    require_settings_access(request.user)
    error = None
    new_secret = None
    if request.method == "POST":
        try:
            webhook = services.create_webhook(
                actor=request.user,
                url=request.POST.get("url", ""),
                event_types=request.POST.getlist("event_types"),
                description=request.POST.get("description", ""),
            )
        except DomainError as refusal:
            error = refusal
        else:
            new_secret = webhook.secret
            messages.success(request, _("Webhook added. Copy its signing secret now."))
    context = {
        "nav": "settings",
        "webhooks": Webhook.objects.all(),
        "event_names": event_names(),
        "error": error,
        "new_secret": new_secret,
    }
    return render(request, "settings/webhooks.html", context, status=422 if error else 200)


@agent_required
@require_POST
def toggle_webhook(request: AgentRequest, webhook_id: int) -> HttpResponse:
    services.update_webhook(
        actor=request.user, webhook_id=webhook_id, is_active=request.POST.get("is_active") == "1"
    )
    return redirect("settings:webhooks")


@agent_required
@require_POST
def delete_webhook(request: AgentRequest, webhook_id: int) -> HttpResponse:
    try:
        services.delete_webhook(actor=request.user, webhook_id=webhook_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Webhook removed."))
    return redirect("settings:webhooks")
