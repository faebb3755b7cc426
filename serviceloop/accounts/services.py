"""Agents, teams, skills and API tokens: every write."""

import secrets
import zoneinfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.errors import AdminOnly, ContributorNotAllowed, SettingsNotAllowed
from serviceloop.accounts.events import AgentAvailabilityChanged
from serviceloop.accounts.models import ApiToken, Role, Skill, Team, User
from serviceloop.core import clock, events
from serviceloop.core.errors import Conflict, InvalidInput, ObjectNotFound

TOKEN_PREFIX = "sl_"


def require_settings_access(actor: User) -> None:
    if not actor.manages_settings:
        raise SettingsNotAllowed()


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise AdminOnly()


def require_full_agent(actor: User) -> None:
    """Contributors work the tickets assigned to them; everything else needs an agent."""
    if not actor.is_active or actor.role == Role.CONTRIBUTOR:
        raise ContributorNotAllowed()


def _clean_username(username: str) -> str:
    username = (username or "").strip()
    if not username or len(username) > 150:
        raise InvalidInput(_("A username of 1 to 150 characters is required."), field="username")
    return username


@transaction.atomic
def create_agent(
    *,
    actor: User | None,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    role: str = Role.AGENT,
    password: str | None = None,
    capacity: int = 20,
    skills: list[str] | None = None,
) -> User:
    """Add a person to the queue. `actor` None means the operator's command line."""
    if actor is not None:
        require_admin(actor)
    username = _clean_username(username)
    if role not in Role.values:
        raise InvalidInput(
            _("Role must be one of: %(roles)s.") % {"roles": ", ".join(Role.values)}, field="role"
        )
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("The username %(name)s is taken.") % {"name": username}, field="username")
    agent = User(
        username=username,
        email=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        role=role,
        capacity=capacity,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        agent.set_password(password)
    else:
        agent.set_unusable_password()
    agent.save()
    if skills:
        agent.skills.set(_skills_named(skills))
    return agent


def _skills_named(names: list[str]) -> list[Skill]:
    found = []
    for name in {n.strip().lower() for n in names if n.strip()}:
        skill, _created = Skill.objects.get_or_create(name=name)
        found.append(skill)
    return found


@transaction.atomic
def update_agent(
    *,
    actor: User,
    agent_id: int,
    role: str | None = None,
    capacity: int | None = None,
    skills: list[str] | None = None,
    is_active: bool | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
) -> User:
    require_admin(actor)
    agent = User.objects.select_for_update().filter(pk=agent_id).first()
    if agent is None:
        raise ObjectNotFound("Agent", agent_id)
    if role is not None:
        if role not in Role.values:
            raise InvalidInput(_("Unknown role %(role)s.") % {"role": role}, field="role")
        if agent.pk == actor.pk and role != Role.ADMIN:
            raise Conflict(_("You cannot take away your own admin role."), field="role")
        agent.role = role
        agent.is_staff = agent.is_superuser = role == Role.ADMIN
    if capacity is not None:
        if capacity < 0 or capacity > 1000:
            raise InvalidInput(_("Capacity must be between 0 and 1000."), field="capacity")
        agent.capacity = capacity
    if is_active is not None:
        if agent.pk == actor.pk and not is_active:
            raise Conflict(_("You cannot deactivate yourself."), field="is_active")
        agent.is_active = is_active
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        if value is not None:
            setattr(agent, name, value.strip()[:150])
    if email is not None:
        agent.email = email.strip().lower()
    agent.save()
    if skills is not None:
        agent.skills.set(_skills_named(skills))
    events.publish(
        AgentAvailabilityChanged(agent_id=agent.pk, is_away=agent.is_away, capacity=agent.capacity)
    )
    return agent


@transaction.atomic
def set_away(*, agent: User, is_away: bool) -> User:
    """Mark yourself away (routing skips you) or back (waiting tickets may come to you)."""
    User.objects.filter(pk=agent.pk).update(is_away=is_away)
    agent.is_away = is_away
    events.publish(
        AgentAvailabilityChanged(agent_id=agent.pk, is_away=is_away, capacity=agent.capacity)
    )
    return agent


def _clean_team_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("A team name of 1 to 100 characters is required."), field="name")
    return name


@transaction.atomic
def create_team(
    *,
    actor: User | None,
    name: str,
    description: str = "",
    routing: str = Team.Routing.MANUAL,
    member_ids: list[int] | None = None,
) -> Team:
    if actor is not None:
        require_settings_access(actor)
    name = _clean_team_name(name)
    if routing not in Team.Routing.values:
        raise InvalidInput(
            _("Routing must be one of: %(values)s.") % {"values": ", ".join(Team.Routing.values)},
            field="routing",
        )
    if Team.objects.filter(name__iexact=name).exists():
        raise Conflict(_("A team named %(name)s exists already.") % {"name": name}, field="name")
    team = Team.objects.create(name=name, description=description, routing=routing)
    if member_ids:
        team.members.set(_agents(member_ids))
    return team


def _agents(ids: list[int]) -> list[User]:
    agents = list(User.objects.filter(pk__in=ids, is_active=True))
    missing = set(ids) - {a.pk for a in agents}
    if missing:
        raise InvalidInput(
            _("No active agent with id %(ids)s.") % {"ids": ", ".join(map(str, sorted(missing)))},
            field="members",
        )
    return agents


@transaction.atomic
def update_team(
    *,
    actor: User,
    team_id: int,
    name: str | None = None,
    description: str | None = None,
    routing: str | None = None,
    member_ids: list[int] | None = None,
) -> Team:
    require_settings_access(actor)
    team = Team.objects.select_for_update().filter(pk=team_id).first()
    if team is None:
        raise ObjectNotFound("Team", team_id)
    if name is not None:
        name = _clean_team_name(name)
        if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
            raise Conflict(
                _("A team named %(name)s exists already.") % {"name": name}, field="name"
            )
        team.name = name
    if description is not None:
        team.description = description
    if routing is not None:
        if routing not in Team.Routing.values:
            raise InvalidInput(_("Unknown routing %(r)s.") % {"r": routing}, field="routing")
        team.routing = routing
    team.save()
    if member_ids is not None:
        team.members.set(_agents(member_ids))
        for agent in team.members.all():
            events.publish(
                AgentAvailabilityChanged(
                    agent_id=agent.pk, is_away=agent.is_away, capacity=agent.capacity
                )
            )
    return team


def create_api_token(
    *, owner: User, scope: str = ApiToken.Scope.READ, name: str = ""
) -> tuple[ApiToken, str]:
    """Issue a personal token; the plain key is returned once and never stored."""
    if scope not in ApiToken.Scope.values:
        raise InvalidInput(_("Scope must be read or write."), field="scope")
    if not owner.is_active:
        raise InvalidInput(_("%(name)s is deactivated.") % {"name": owner.username})
    for _attempt in range(3):
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=owner,
                    name=name[:100],
                    prefix=key[:12],
                    key_hash=ApiToken.hash_key(key),
                    scope=scope,
                )
        except IntegrityError:
            continue
        return token, key
    raise Conflict(_("Could not issue a unique token; try again."))


def revoke_api_token(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None or (token.user_id != actor.pk and not actor.is_admin):
        raise ObjectNotFound("API token", token_id)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def set_time_zone(*, agent: User, time_zone: str) -> User:
    """Show this agent times in their own zone (an IANA name such as Europe/Berlin)."""
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("%(zone)s is not a time zone name.") % {"zone": time_zone}, field="time_zone"
        ) from None
    User.objects.filter(pk=agent.pk).update(time_zone=time_zone)
    agent.time_zone = time_zone
    return agent
