"""Who works a ticket: assignment to agents and teams, and routing within a team."""

from datetime import datetime
from typing import Any

from django.db import transaction

from serviceloop.accounts.models import Role, Team, User
from serviceloop.core import clock, events
from serviceloop.tickets import queries, routing
from serviceloop.tickets.errors import ContributorCannotAssign
from serviceloop.tickets.events import TicketAssigned
from serviceloop.tickets.models import EventKind, Status, Ticket
from serviceloop.tickets.services.base import (
    SYSTEM,
    UNSET,
    Actor,
    clean_assignee,
    clean_team,
    ensure_not_closed,
    event_ids,
    new_request_id,
    record_event,
)
from serviceloop.tickets.services.lifecycle import move_status

# --- Assignment ---------------------------------------------------------------------------


def assign(
    ticket: Ticket,
    *,
    team: Team | Any | None = UNSET,
    assignee: User | Any | None = UNSET,
    actor: Actor,
    request_id: str,
    at: datetime,
) -> bool:
    """Change team and/or assignee of a locked ticket; return whether anything changed."""
    before_team, before_assignee = ticket.team_id, ticket.assignee_id
    if team is not UNSET:
        ticket.team = team
    if assignee is not UNSET:
        ticket.assignee = assignee
    if ticket.team_id == before_team and ticket.assignee_id == before_assignee:
        return False
    ticket.updated_at = at
    changed = ["team", "assignee", "updated_at"]
    if ticket.assignee_id != before_assignee and ticket.assignee_id is not None:
        ticket.assigned_at = at
        changed.append("assigned_at")
    ticket.save(update_fields=changed)
    if ticket.team_id != before_team:
        record_event(
            ticket,
            kind=EventKind.TEAM,
            before=before_team,
            after=ticket.team_id,
            actor=actor,
            request_id=request_id,
            at=at,
        )
    if ticket.assignee_id != before_assignee:
        record_event(
            ticket,
            kind=EventKind.ASSIGNEE,
            before=before_assignee,
            after=ticket.assignee_id,
            actor=actor,
            request_id=request_id,
            at=at,
        )
    events.publish(
        TicketAssigned(
            **event_ids(ticket, actor, request_id),
            assignee_before=before_assignee,
            assignee_after=ticket.assignee_id,
            team_before=before_team,
            team_after=ticket.team_id,
        )
    )
    if ticket.status == Status.NEW and ticket.assignee_id is not None:
        move_status(ticket, target=Status.OPEN, actor=actor, request_id=request_id, at=at)
    return True


@transaction.atomic
def assign_ticket(
    *,
    number: int,
    agent: User,
    assignee_id: int | Any | None = UNSET,
    team_id: int | Any | None = UNSET,
    request_id: str | None = None,
) -> Ticket:
    """Give the ticket to an agent and/or a team; a team with routing picks the agent."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    ensure_not_closed(ticket)
    if agent.role == Role.CONTRIBUTOR:
        raise ContributorCannotAssign()
    request_id = request_id or new_request_id()
    team = ticket.team if team_id is UNSET else clean_team(team_id)
    if assignee_id is UNSET:
        # Moving a ticket to another team leaves an assignee who is not in it.
        assignee = (
            UNSET
            if team is None
            or ticket.assignee_id is None
            or team.members.filter(pk=ticket.assignee_id).exists()
            else None
        )
    else:
        assignee = clean_assignee(assignee_id, team)
    changed = assign(
        ticket,
        team=team,
        assignee=assignee,
        actor=Actor.of_agent(agent),
        request_id=request_id,
        at=clock.now(),
    )
    if changed and ticket.assignee_id is None and ticket.team_id is not None:
        route_ticket(ticket, request_id=request_id)
    return ticket


def route_ticket(ticket: Ticket, *, request_id: str) -> User | None:
    """Assign a locked, unassigned team ticket if its team routes and someone can take it."""
    if ticket.team_id is None or ticket.assignee_id is not None or not ticket.is_unsolved:
        return None
    known_team = ticket.team if Ticket.team.is_cached(ticket) else None
    if known_team is not None and known_team.routing == Team.Routing.MANUAL:
        return None  # known without a query, e.g. for a ticket just created
    # Lock the team row: two tickets routed at once must not both take one free slot.
    team = Team.objects.select_for_update().get(pk=ticket.team_id)
    agent = routing.choose_agent(team, ticket)
    if agent is None:
        return None
    at = clock.now()
    assign(ticket, assignee=agent, actor=SYSTEM, request_id=request_id, at=at)
    User.objects.filter(pk=agent.pk).update(last_routed_at=at)
    return agent


@transaction.atomic
def route_waiting_tickets(*, team_id: int, limit: int = 50) -> int:
    """Hand a team's waiting tickets, oldest first, to members who now have room."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None or team.routing == Team.Routing.MANUAL:
        return 0
    request_id = new_request_id()
    routed = 0
    for ticket in queries.tickets_waiting_in_team(team_id).select_for_update()[:limit]:
        if route_ticket(ticket, request_id=request_id) is not None:
            routed += 1
        elif not routing.anyone_has_room(team):
            # Skills differ per ticket, so a later one may still fit someone with room;
            # with nobody under capacity there is no point going on.
            break
    return routed
