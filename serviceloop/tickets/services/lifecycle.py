"""The ticket lifecycle: every status change goes through `move_status`."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.core import clock, events
from serviceloop.core.custom_fields import missing_required_fields
from serviceloop.core.errors import InvalidInput, ObjectNotFound
from serviceloop.customers.models import Customer
from serviceloop.tickets import queries
from serviceloop.tickets.errors import StatusChangeRefused, TicketClosed
from serviceloop.tickets.events import StatusChanged
from serviceloop.tickets.models import UNSOLVED_STATES, CustomStatus, EventKind, Status, Ticket
from serviceloop.tickets.services.base import (
    SYSTEM,
    Actor,
    clean_choice,
    ensure_may_work,
    event_ids,
    new_request_id,
    record_event,
)

# --- Status -------------------------------------------------------------------------------


def move_status(
    ticket: Ticket,
    *,
    target: str,
    actor: Actor,
    request_id: str,
    at: datetime,
    custom_status: CustomStatus | None = None,
    check_required_fields: bool = True,
) -> None:
    """Move a locked ticket through the lifecycle; every rule of the lifecycle lives here."""
    clean_choice(target, Status, "status")
    before = ticket.status
    before_custom = ticket.custom_status.name if ticket.custom_status else None
    if before == Status.CLOSED:
        raise TicketClosed(ticket.number)
    if target == before and custom_status == ticket.custom_status:
        return
    if target == Status.NEW and before != Status.NEW:
        raise StatusChangeRefused(
            _("Ticket #%(number)s has been worked on; it cannot go back to New.")
            % {"number": ticket.number}
        )
    if target == Status.CLOSED and before != Status.SOLVED:
        raise StatusChangeRefused(
            _("Solve ticket #%(number)s before closing it.") % {"number": ticket.number}
        )
    if target == Status.SOLVED:
        open_children = (
            ticket.children.filter(status__in=UNSOLVED_STATES)
            .order_by("number")
            .values_list("number", flat=True)
        )
        if open_children:
            raise StatusChangeRefused(
                _("Ticket #%(number)s has unsolved child tickets: %(children)s.")
                % {
                    "number": ticket.number,
                    "children": ", ".join("#%s" % n for n in open_children),
                }
            )
        missing = (
            missing_required_fields(entity="ticket", values=ticket.custom_fields)
            if check_required_fields
            else []
        )
        if missing:
            raise StatusChangeRefused(
                _("Fill in %(fields)s before solving ticket #%(number)s.")
                % {"fields": ", ".join(d.label for d in missing), "number": ticket.number}
            )
    ticket.status = target
    ticket.custom_status = custom_status
    ticket.updated_at = at
    changed = ["status", "custom_status", "updated_at"]
    if target == Status.SOLVED:
        ticket.solved_at = at
        changed.append("solved_at")
    elif target == Status.CLOSED:
        ticket.closed_at = at
        changed.append("closed_at")
    if before == Status.SOLVED and target in UNSOLVED_STATES:
        # A reopen: SLA clocks and "one-touch" metrics read this from the event log.
        ticket.reopened_at = at
        ticket.reopen_count += 1
        ticket.solved_at = None
        changed += ["reopened_at", "reopen_count", "solved_at"]
    ticket.save(update_fields=changed)
    record_event(
        ticket,
        kind=EventKind.STATUS,
        field="reopen" if before == Status.SOLVED and target in UNSOLVED_STATES else "status",
        before={"status": before, "custom_status": before_custom},
        after={"status": target, "custom_status": custom_status.name if custom_status else None},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    events.publish(
        StatusChanged(**event_ids(ticket, actor, request_id), before=before, after=target)
    )
    if before == Status.SOLVED and target in UNSOLVED_STATES and ticket.parent_id is not None:
        _reopen_solved_parent(ticket.parent_id, request_id=request_id, at=at)


def _reopen_solved_parent(parent_id: int, *, request_id: str, at: datetime) -> None:
    """A parent is solved only while all its children are: a reopened child reopens it.

    The system reopens it, as part of the same change; a closed parent stays closed.
    """
    parent = (
        # Lock only the ticket row: its custom status may be NULL (an outer join).
        Ticket.objects.select_for_update(of=("self",))
        .filter(pk=parent_id, status=Status.SOLVED)
        .select_related("custom_status")
        .first()
    )
    if parent is not None:
        move_status(parent, target=Status.OPEN, actor=SYSTEM, request_id=request_id, at=at)


@transaction.atomic
def change_status(
    *,
    number: int,
    agent: User,
    status: str | None = None,
    custom_status_id: int | None = None,
    solve_incidents: bool = False,
    request_id: str | None = None,
) -> Ticket:
    """Set a lifecycle status, or a custom status (which sets the state it maps onto)."""
    ticket = queries.ticket_for_agent(agent, number, for_update=True)
    ensure_may_work(agent, ticket)
    custom_status = None
    if custom_status_id is not None:
        custom_status = CustomStatus.objects.filter(pk=custom_status_id, is_active=True).first()
        if custom_status is None:
            raise InvalidInput(
                _("There is no custom status %(id)s.") % {"id": custom_status_id},
                field="custom_status",
            )
        if status is not None and status != custom_status.lifecycle_state:
            raise InvalidInput(
                _("%(name)s is a %(state)s status.")
                % {"name": custom_status.name, "state": custom_status.lifecycle_state},
                field="custom_status",
            )
        status = custom_status.lifecycle_state
    if status is None:
        raise InvalidInput(_("status is required."), field="status")
    request_id = request_id or new_request_id()
    at = clock.now()
    actor = Actor.of_agent(agent)
    move_status(
        ticket,
        target=status,
        actor=actor,
        request_id=request_id,
        at=at,
        custom_status=custom_status,
    )
    if status == Status.SOLVED and solve_incidents:
        incidents = ticket.incidents.select_for_update().filter(status__in=UNSOLVED_STATES)
        for incident in incidents:
            move_status(incident, target=Status.SOLVED, actor=actor, request_id=request_id, at=at)
    return ticket


def solve_ticket(*, number: int, agent: User, solve_incidents: bool = False) -> Ticket:
    """Mark the requester's problem solved and start the auto-close window."""
    return change_status(
        number=number, agent=agent, status=Status.SOLVED, solve_incidents=solve_incidents
    )


@transaction.atomic
def close_solved_tickets(*, at: datetime | None = None, batch: int = 500) -> int:
    """Close tickets solved longer ago than the configured window (run by the scheduler)."""
    at = at or clock.now()
    cutoff = at - timedelta(hours=settings.SERVICELOOP_SOLVED_TO_CLOSED_HOURS)
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(status=Status.SOLVED, solved_at__lte=cutoff)
        .order_by("solved_at")[:batch]
    )
    request_id = new_request_id()
    for ticket in tickets:
        move_status(ticket, target=Status.CLOSED, actor=SYSTEM, request_id=request_id, at=at)
    return len(tickets)


# --- The customer's own actions (portal) --------------------------------------------------


@transaction.atomic
def solve_ticket_for_customer(*, ticket_id: int, customer: Customer) -> Ticket:
    """The requester says their problem is solved; a closed or solved request stays as it is.

    The caller has checked the customer may read this ticket (queries.ticket_for_customer).
    """
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ObjectNotFound("Ticket", ticket_id)
    if ticket.status in (Status.SOLVED, Status.CLOSED):
        return ticket
    move_status(
        ticket,
        target=Status.SOLVED,
        actor=Actor.of_customer(customer),
        request_id=new_request_id(),
        at=clock.now(),
    )
    return ticket
