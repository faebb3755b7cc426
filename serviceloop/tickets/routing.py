"""Who gets a ticket that lands in a team queue: manual, round-robin or least-loaded.

Routing honours capacity (new and open tickets held), required skills and the away flag.
This module only chooses; `services.route_ticket` makes the assignment.
"""

from datetime import UTC, datetime

from serviceloop.accounts.models import Team, User
from serviceloop.tickets import queries
from serviceloop.tickets.models import Ticket

_NEVER = datetime.min.replace(tzinfo=UTC)


def _candidates(team: Team) -> list[User]:
    return list(
        team.members.filter(is_active=True, is_away=False, capacity__gt=0).prefetch_related(
            "skills"
        )
    )


def choose_agent(team: Team, ticket: Ticket) -> User | None:
    """The team member who should get this ticket now, or None if nobody can take it."""
    if team.routing == Team.Routing.MANUAL:
        return None
    agents = _candidates(team)
    if not agents:
        return None
    load = queries.open_ticket_counts([a.pk for a in agents])
    needed = {s.pk for s in ticket.required_skills.all()}
    eligible = [
        a for a in agents if load[a.pk] < a.capacity and needed <= {s.pk for s in a.skills.all()}
    ]
    if not eligible:
        return None
    if team.routing == Team.Routing.LEAST_LOADED:
        return min(eligible, key=lambda a: (load[a.pk], a.last_routed_at or _NEVER, a.pk))
    # Round-robin: whoever was routed a ticket longest ago (never counts as longest).
    return min(eligible, key=lambda a: (a.last_routed_at or _NEVER, a.pk))


def anyone_has_room(team: Team) -> bool:
    agents = _candidates(team)
    load = queries.open_ticket_counts([a.pk for a in agents])
    return any(load[a.pk] < a.capacity for a in agents)
