"""Changes of several kinds at once, on one ticket or many."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.core.errors import DomainError, InvalidInput
from serviceloop.tickets import queries
from serviceloop.tickets.models import Ticket
from serviceloop.tickets.services.assignment import assign_ticket
from serviceloop.tickets.services.base import UNSET, new_request_id
from serviceloop.tickets.services.fields import TicketChanges, update_ticket
from serviceloop.tickets.services.lifecycle import change_status
from serviceloop.tickets.services.links import link_incident, set_parent


@transaction.atomic
def edit_ticket(
    *,
    number: int,
    agent: User,
    changes: TicketChanges,
    status: str | None = None,
    custom_status_id: int | None = None,
    solve_incidents: bool = False,
    assignee_id: int | Any | None = UNSET,
    team_id: int | Any | None = UNSET,
    problem_number: int | Any | None = UNSET,
    parent_number: int | Any | None = UNSET,
) -> Ticket:
    """Apply an edit of several fields as one change: all of it, or none of it."""
    request_id = new_request_id()
    if assignee_id is not UNSET or team_id is not UNSET:
        assign_ticket(
            number=number,
            agent=agent,
            assignee_id=assignee_id,
            team_id=team_id,
            request_id=request_id,
        )
    if changes != TicketChanges():
        update_ticket(number=number, agent=agent, changes=changes, request_id=request_id)
    if problem_number is not UNSET:
        link_incident(incident_number=number, problem_number=problem_number, agent=agent)
    if parent_number is not UNSET:
        set_parent(child_number=number, parent_number=parent_number, agent=agent)
    if status is not None or custom_status_id is not None:
        change_status(
            number=number,
            agent=agent,
            status=status,
            custom_status_id=custom_status_id,
            solve_incidents=solve_incidents,
            request_id=request_id,
        )
    return queries.ticket_for_agent(agent, number)


@dataclass
class BulkResult:
    number: int
    ok: bool
    code: str = ""
    message: str = ""


def bulk_update_tickets(
    *,
    numbers: list[int],
    agent: User,
    changes: TicketChanges | None = None,
    status: str | None = None,
    assignee_id: int | Any | None = UNSET,
    team_id: int | Any | None = UNSET,
) -> list[BulkResult]:
    """Apply one change to many tickets; each ticket succeeds or fails on its own.

    All events share one request_id, so the change reads as one change in the log.
    """
    if not numbers:
        raise InvalidInput(_("Select at least one ticket."), field="numbers")
    if len(numbers) > 500:
        raise InvalidInput(_("At most 500 tickets can be changed at once."), field="numbers")
    request_id = new_request_id()
    results = []
    for number in dict.fromkeys(numbers):
        try:
            with transaction.atomic():
                if assignee_id is not UNSET or team_id is not UNSET:
                    assign_ticket(
                        number=number,
                        agent=agent,
                        assignee_id=assignee_id,
                        team_id=team_id,
                        request_id=request_id,
                    )
                if changes is not None:
                    update_ticket(
                        number=number, agent=agent, changes=changes, request_id=request_id
                    )
                if status is not None:
                    change_status(number=number, agent=agent, status=status, request_id=request_id)
        except DomainError as error:
            results.append(
                BulkResult(number=number, ok=False, code=error.code, message=error.message)
            )
        else:
            results.append(BulkResult(number=number, ok=True))
    return results
