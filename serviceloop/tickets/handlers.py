"""Subscribers of the tickets app to events from below (customers, accounts) and its own."""

from serviceloop.accounts.events import AgentAvailabilityChanged
from serviceloop.accounts.models import Team
from serviceloop.core import schedules
from serviceloop.core.events import subscribe
from serviceloop.customers.events import CustomerMergeUndone, CustomersMerged
from serviceloop.customers.models import CustomerMerge
from serviceloop.tickets import services
from serviceloop.tickets.events import StatusChanged, TicketAssigned
from serviceloop.tickets.models import Status, Ticket


@subscribe(CustomersMerged, durable=False)
def move_tickets_to_surviving_customer(event: CustomersMerged) -> None:
    """In the merge's transaction: the source's tickets become the target's, recorded for undo."""
    moved = services.move_requester_tickets(
        source_id=event.source_id,
        target_id=event.target_id,
        ticket_ids=None,
        actor_id=event.actor_id,
        request_id=services.new_request_id(),
    )
    CustomerMerge.objects.filter(pk=event.merge_id).update(moved_ticket_ids=moved)


@subscribe(CustomerMergeUndone, durable=False)
def give_tickets_back_after_undone_merge(event: CustomerMergeUndone) -> None:
    merge = CustomerMerge.objects.get(pk=event.merge_id)
    services.move_requester_tickets(
        source_id=event.target_id,
        target_id=event.source_id,
        ticket_ids=merge.moved_ticket_ids,
        actor_id=event.actor_id,
        request_id=services.new_request_id(),
    )


def _route_for_agent(agent_id: int) -> None:
    for team_id in (
        Team.objects.filter(members=agent_id)
        .exclude(routing=Team.Routing.MANUAL)
        .values_list("id", flat=True)
    ):
        services.route_waiting_tickets(team_id=team_id)


def _left_new_or_open(event: StatusChanged) -> bool:
    return event.after not in (Status.NEW, Status.OPEN)


@subscribe(StatusChanged, durable=True, when=_left_new_or_open)
def route_when_capacity_frees_on_status(event: StatusChanged) -> None:
    """An agent's ticket left new/open: a waiting ticket may now fit them."""
    if not _left_new_or_open(event):
        return
    assignee_id = (
        Ticket.objects.filter(pk=event.ticket_id).values_list("assignee_id", flat=True).first()
    )
    if assignee_id is not None:
        _route_for_agent(assignee_id)


def _taken_from_an_agent(event: TicketAssigned) -> bool:
    return event.assignee_before is not None and event.assignee_before != event.assignee_after


@subscribe(TicketAssigned, durable=True, when=_taken_from_an_agent)
def route_when_capacity_frees_on_reassign(event: TicketAssigned) -> None:
    if event.assignee_before is not None and _taken_from_an_agent(event):
        _route_for_agent(event.assignee_before)


def _back_from_away(event: AgentAvailabilityChanged) -> bool:
    return not event.is_away


@subscribe(AgentAvailabilityChanged, durable=True, when=_back_from_away)
def route_when_agent_becomes_available(event: AgentAvailabilityChanged) -> None:
    if _back_from_away(event):
        _route_for_agent(event.agent_id)


schedules.register("close solved tickets", 300, services.close_solved_tickets)
