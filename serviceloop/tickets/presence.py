"""Who has a ticket open right now ("also viewing"), kept in the shared cache.

Presence is advisory and short-lived, so it lives in the cache (Redis in production,
shared by every web process) rather than the database. Each open ticket page reports
every few seconds; an agent not heard from for STALE_SECONDS is gone.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache

from serviceloop.accounts.models import User

STALE_SECONDS = 15


@dataclass(frozen=True)
class Viewer:
    agent_id: int
    name: str
    typing: bool


def _key(number: int) -> str:
    return "ticket-presence:%s" % number


def report_viewing(*, number: int, agent: User, typing: bool) -> list[Viewer]:
    """Record that this agent has the ticket open; return the other agents who have too."""
    now = time.time()
    seen: dict[str, list] = cache.get(_key(number)) or {}
    seen = {k: v for k, v in seen.items() if now - v[0] < STALE_SECONDS}
    seen[str(agent.pk)] = [now, agent.display_name, typing]
    cache.set(_key(number), seen, STALE_SECONDS * 2)
    return [
        Viewer(agent_id=int(k), name=v[1], typing=bool(v[2]))
        for k, v in sorted(seen.items(), key=lambda item: item[1][1])
        if k != str(agent.pk)
    ]


def leave(*, number: int, agent: User) -> None:
    seen: dict[str, list] = cache.get(_key(number)) or {}
    if seen.pop(str(agent.pk), None) is not None:
        cache.set(_key(number), seen, STALE_SECONDS * 2)
