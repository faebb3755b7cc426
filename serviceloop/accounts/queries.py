from datetime import timedelta

from django.db.models import QuerySet

from serviceloop.accounts.models import ApiToken, Team, User
from serviceloop.core import clock
from serviceloop.core.errors import ObjectNotFound
from serviceloop.core.prepared import key_lookup


def agent_for_token(key: str) -> tuple[User, ApiToken] | None:
    """Return the active agent and token for a bearer key, or None when it is not valid."""
    if not key:
        return None
    try:
        # get(), not first(): the hash is unique, and an ORDER BY would only cost.
        with key_lookup():
            token = ApiToken.objects.select_related("user").get(
                key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True
            )
    except ApiToken.DoesNotExist:
        return None
    now = clock.now()
    # Record use at most once a minute, so a busy integration does not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def active_agents() -> QuerySet[User]:
    return User.objects.filter(is_active=True).prefetch_related("skills", "teams")


def agent_by_id(agent_id: int) -> User:
    agent = User.objects.filter(pk=agent_id).first()
    if agent is None:
        raise ObjectNotFound("Agent", agent_id)
    return agent


def team_by_id(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ObjectNotFound("Team", team_id)
    return team
