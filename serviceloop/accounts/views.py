"""Signing in (Django's auth views), the agent's own profile, and the people settings."""

import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from serviceloop.accounts import services
from serviceloop.accounts.models import ApiToken, Role, Team, User
from serviceloop.accounts.services import require_admin, require_settings_access
from serviceloop.core.errors import DomainError, InvalidInput
from serviceloop.core.http import AgentRequest, agent_required

TIME_ZONES = sorted(zoneinfo.available_timezones())


@agent_required
@require_http_methods(["GET", "POST"])
def profile(request: AgentRequest) -> HttpResponse:
    """The agent's own settings: name, time zone, availability, personal API tokens."""
    agent = request.user
    error = None
    if request.method == "POST":
        zone = request.POST.get("time_zone", "UTC")
        if zone not in TIME_ZONES:
            error = InvalidInput(_("Pick a time zone from the list."), field="time_zone")
        else:
            services.set_time_zone(agent=agent, time_zone=zone)
            messages.success(request, _("Your time zone is now %(zone)s.") % {"zone": zone})
            return redirect("accounts:profile")
    tokens = list(agent.api_tokens.filter(revoked_at__isnull=True))
    context = {"time_zones": TIME_ZONES, "error": error, "tokens": tokens}
    return render(request, "accounts/profile.html", context, status=422 if error else 200)


@agent_required
@require_POST
def away(request: AgentRequest) -> HttpResponse:
    """Switch between available and away (routing skips agents who are away)."""
    services.set_away(agent=request.user, is_away=request.POST.get("is_away") == "1")
    back = request.headers.get("Referer", "")
    return redirect(back if back.startswith(request.build_absolute_uri("/")) else "tickets:queue")


@agent_required
@require_POST
def create_token(request: AgentRequest) -> HttpResponse:
    """Issue a personal API token; the key is shown once on the page that follows."""
    try:
        _token, key = services.create_api_token(
            owner=request.user,
            scope=request.POST.get("scope", ApiToken.Scope.READ),
            name=request.POST.get("name", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("accounts:profile")
    tokens = list(request.user.api_tokens.filter(revoked_at__isnull=True))
    context = {"time_zones": TIME_ZONES, "tokens": tokens, "new_key": key}
    return render(request, "accounts/profile.html", context)


@agent_required
@require_POST
def revoke_token(request: AgentRequest, token_id: int) -> HttpResponse:
    services.revoke_api_token(actor=request.user, token_id=token_id)
    messages.success(request, _("The token was revoked."))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/settings/") else "accounts:profile")


# --- Settings: teams, agents, tokens ------------------------------------------------------


@agent_required
def settings_index(request: AgentRequest) -> HttpResponse:
    require_settings_access(request.user)
    return redirect("settings:teams")


def _settings(
    request: AgentRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"nav": "settings"} | context, status=status)


@agent_required
@require_http_methods(["GET", "POST"])
def teams(request: AgentRequest) -> HttpResponse:
    """Teams, their routing and their members."""
    require_settings_access(request.user)
    error = None
    if request.method == "POST":
        try:
            team = services.create_team(
                actor=request.user,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                routing=request.POST.get("routing", Team.Routing.MANUAL),
                member_ids=[int(i) for i in request.POST.getlist("members") if i.isdigit()],
            )
        except DomainError as refusal:
            error = refusal
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("settings:teams")
    context = {
        "teams": Team.objects.prefetch_related("members"),
        "agents": User.objects.filter(is_active=True),
        "routings": Team.Routing.choices,
        "error": error,
    }
    return _settings(request, "settings/teams.html", context, 422 if error else 200)


@agent_required
@require_POST
def edit_team(request: AgentRequest, team_id: int) -> HttpResponse:
    require_settings_access(request.user)
    try:
        services.update_team(
            actor=request.user,
            team_id=team_id,
            routing=request.POST.get("routing") or None,
            member_ids=[int(i) for i in request.POST.getlist("members") if i.isdigit()],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Team saved."))
    return redirect("settings:teams")


@agent_required
@require_http_methods(["GET", "POST"])
def agents(request: AgentRequest) -> HttpResponse:
    """Agents and roles; an admin invites a new agent by email."""
    require_settings_access(request.user)
    error = None
    if request.method == "POST":
        try:
            require_admin(request.user)
            agent = services.create_agent(
                actor=request.user,
                username=request.POST.get("email", "").strip().lower(),
                email=request.POST.get("email", ""),
                first_name=request.POST.get("first_name", ""),
                last_name=request.POST.get("last_name", ""),
                role=request.POST.get("role", Role.AGENT),
            )
            _send_invitation(request, agent)
        except DomainError as refusal:
            error = refusal
        else:
            messages.success(
                request,
                _("Invited %(email)s; they choose a password from the email.")
                % {"email": agent.email},
            )
            return redirect("settings:agents")
    context = {"agents": User.objects.order_by("username"), "roles": Role.choices, "error": error}
    return _settings(request, "settings/agents.html", context, 422 if error else 200)


def _send_invitation(request: AgentRequest, agent: User) -> None:
    """Email the new agent a link to choose their password (Django's reset flow)."""
    if not agent.email:
        raise InvalidInput(_("An email address is required to invite someone."), field="email")
    form = PasswordResetForm({"email": agent.email})
    # A new agent has no usable password, which Django's reset form skips; send directly.
    context = {
        "email": agent.email,
        "domain": request.get_host(),
        "site_name": "Serviceloop",
        "uid": urlsafe_base64_encode(force_bytes(agent.pk)),
        "user": agent,
        "token": default_token_generator.make_token(agent),
        "protocol": "https" if request.is_secure() else "http",
        "inviter": request.user.display_name,
    }
    form.send_mail(
        "accounts/invitation_subject.txt",
        "accounts/invitation_email.txt",
        context,
        None,
        agent.email,
    )


@agent_required
@require_POST
def edit_agent(request: AgentRequest, agent_id: int) -> HttpResponse:
    try:
        services.update_agent(
            actor=request.user,
            agent_id=agent_id,
            role=request.POST.get("role") or None,
            is_active=request.POST.get("is_active") == "1" if "is_active" in request.POST else None,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Agent saved."))
    return redirect("settings:agents")


@agent_required
def tokens(request: AgentRequest) -> HttpResponse:
    """Every live API token, for supervisors to see and revoke."""
    require_settings_access(request.user)
    context = {"tokens": ApiToken.objects.filter(revoked_at__isnull=True).select_related("user")}
    return _settings(request, "settings/tokens.html", context)
