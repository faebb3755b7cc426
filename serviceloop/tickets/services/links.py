"""Merging tickets, and links between them: problems and incidents, parents and children."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import Role, User
from serviceloop.core import clock, events
from serviceloop.core.errors import InvalidInput
from serviceloop.customers.models import Customer
from serviceloop.tickets import queries
from serviceloop.tickets.errors import ContributorCannotAssign, StatusChangeRefused, TicketNotFound
from serviceloop.tickets.events import TicketLinked, TicketsMerged, TicketUpdated
from serviceloop.tickets.models import EventKind, Status, Ticket, TicketType
from serviceloop.tickets.services.base import (
    SYSTEM,
    Actor,
    ensure_may_work,
    ensure_not_closed,
    event_ids,
    new_request_id,
    record_event,
    tag_objects,
)
from serviceloop.tickets.services.fields import TicketChanges, update_fields
from serviceloop.tickets.services.lifecycle import move_status

# --- Merge and links ----------------------------------------------------------------------


@transaction.atomic
def merge_tickets(*, source_number: int, target_number: int, agent: User) -> Ticket:
    """Fold the source ticket into the target: its conversation moves, and it closes."""
    if source_number == target_number:
        raise InvalidInput(_("A ticket cannot be merged into itself."), field="into")
    if agent.role == Role.CONTRIBUTOR:
        raise ContributorCannotAssign()
    # Lock both in number order, so two opposite merges cannot deadlock. One exact lookup
    # each: SQLite raises OverflowError for a number past 64 bits in an IN list.
    visible = Ticket.objects.visible_to(agent).select_for_update()
    locked: dict[int, Ticket] = {}
    for number in sorted([source_number, target_number]):
        ticket = visible.filter(number=number).first()
        if ticket is None:
            raise TicketNotFound(number)
        locked[number] = ticket
    source, target = locked[source_number], locked[target_number]
    ensure_not_closed(source)
    ensure_not_closed(target)
    request_id = new_request_id()
    at = clock.now()
    actor = Actor.of_agent(agent)

    moved_messages = list(source.messages.values_list("id", flat=True))
    source.messages.update(ticket=target)
    # Message events travel with their messages, so the survivor's log tells its whole
    # conversation; the source keeps its own lifecycle history.
    source.events.filter(kind=EventKind.MESSAGE).update(ticket=target)
    followers_before = set(target.followers.values_list("id", flat=True))
    joining = ({source.requester_id} | set(source.followers.values_list("id", flat=True))) - (
        followers_before | {target.requester_id}
    )
    if joining:
        target.followers.add(*joining)
        record_event(
            target,
            kind=EventKind.FOLLOWERS,
            before=sorted(followers_before),
            after=sorted(followers_before | joining),
            actor=actor,
            request_id=request_id,
            at=at,
        )
    target_tags = set(target.tags.values_list("name", flat=True))
    source_tags = set(source.tags.values_list("name", flat=True))
    if source_tags - target_tags:
        after = sorted(target_tags | source_tags)
        target.tags.set(tag_objects(after))
        record_event(
            target,
            kind=EventKind.TAGS,
            before=sorted(target_tags),
            after=after,
            actor=actor,
            request_id=request_id,
            at=at,
        )
        # Tags changed as if edited: subscribers (webhooks, later SLA rules) hear of it.
        events.publish(
            TicketUpdated(**event_ids(target, actor, request_id), changes={"tags": after})
        )
    _repoint_links(source, target, actor=actor, request_id=request_id, at=at)
    for field_name in ("first_agent_reply_at",):
        mine, theirs = getattr(target, field_name), getattr(source, field_name)
        if theirs and (mine is None or theirs < mine):
            setattr(target, field_name, theirs)
    if source.last_customer_message_at and (
        target.last_customer_message_at is None
        or source.last_customer_message_at > target.last_customer_message_at
    ):
        target.last_customer_message_at = source.last_customer_message_at
    target.updated_at = at
    # Only what the merge changed: a full save would write back the target's stale links.
    target.save(update_fields=["first_agent_reply_at", "last_customer_message_at", "updated_at"])
    record_event(
        target,
        kind=EventKind.MERGE,
        field="merged_from",
        after={"number": source.number, "messages": moved_messages},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    record_event(
        source,
        kind=EventKind.MERGE,
        field="merged_into",
        after={"number": target.number},
        actor=actor,
        request_id=request_id,
        at=at,
    )
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    # A merged ticket is closed at once: it must not wait in any queue or be solved again.
    if source.status != Status.SOLVED:
        # Its required fields may be empty: the survivor is the one that gets solved.
        move_status(
            source,
            target=Status.SOLVED,
            actor=actor,
            request_id=request_id,
            at=at,
            check_required_fields=False,
        )
    move_status(source, target=Status.CLOSED, actor=actor, request_id=request_id, at=at)
    events.publish(
        TicketsMerged(
            **event_ids(source, actor, request_id),
            survivor_id=target.pk,
            survivor_number=target.number,
        )
    )
    return target


def _relink(
    ticket: Ticket,
    link: str,
    other: Ticket | None,
    *,
    before: int | None,
    actor: Actor,
    request_id: str,
    at: datetime,
) -> None:
    """Point a locked ticket's `parent` or `problem` at `other`, recorded and published."""
    setattr(ticket, link, other)
    ticket.updated_at = at
    ticket.save(update_fields=[link, "updated_at"])
    record_event(
        ticket,
        kind=EventKind.LINK,
        field=link,
        before=before,
        after=other.number if other else None,
        actor=actor,
        request_id=request_id,
        at=at,
    )
    events.publish(
        TicketLinked(
            **event_ids(ticket, actor, request_id),
            link=link,
            other_id=other.pk if other else None,
        )
    )


def _repoint_links(
    source: Ticket, target: Ticket, *, actor: Actor, request_id: str, at: datetime
) -> None:
    """Give the source's children and incidents to the survivor, recorded on each.

    Closed tickets keep their link (they never change again), and a target that was the
    source's own child or incident loses that link rather than pointing at itself.
    """
    for link in ("parent", "problem"):
        linked = (
            Ticket.objects.select_for_update()
            .filter(**{link: source})
            .exclude(status=Status.CLOSED)
            .order_by("number")
        )
        for ticket in linked:
            after = None if ticket.pk == target.pk else target
            _relink(
                ticket,
                link,
                after,
                before=source.number,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            if ticket.pk == target.pk:
                setattr(target, link, None)


def _linked_pair(agent: User, number: int, other_number: int) -> tuple[Ticket, Ticket]:
    if number == other_number:
        raise InvalidInput(_("A ticket cannot be linked to itself."), field="number")
    first = queries.ticket_for_agent(agent, min(number, other_number), for_update=True)
    second = queries.ticket_for_agent(agent, max(number, other_number), for_update=True)
    return (first, second) if first.number == number else (second, first)


@transaction.atomic
def link_incident(*, incident_number: int, problem_number: int | None, agent: User) -> Ticket:
    """Attach an incident to the problem behind it (None detaches it)."""
    actor = Actor.of_agent(agent)
    request_id, at = new_request_id(), clock.now()
    if problem_number is None:
        incident = queries.ticket_for_agent(agent, incident_number, for_update=True)
        problem = None
    else:
        incident, problem = _linked_pair(agent, incident_number, problem_number)
        ensure_not_closed(problem)
        if problem.type != TicketType.PROBLEM:
            raise InvalidInput(
                _("Ticket #%(number)s is not a problem; set its type to Problem first.")
                % {"number": problem.number},
                field="problem",
            )
    ensure_not_closed(incident)
    ensure_may_work(agent, incident)
    if incident.type == TicketType.PROBLEM and problem is not None:
        raise InvalidInput(_("A problem cannot be an incident of another problem."), field="number")
    before = incident.problem.number if incident.problem else None
    after = problem.number if problem else None
    if before == after:
        return incident
    if problem is not None and incident.type != TicketType.INCIDENT:
        update_fields(
            incident,
            TicketChanges(type=TicketType.INCIDENT),
            actor=actor,
            request_id=request_id,
            at=at,
        )
    _relink(incident, "problem", problem, before=before, actor=actor, request_id=request_id, at=at)
    return incident


@transaction.atomic
def set_parent(*, child_number: int, parent_number: int | None, agent: User) -> Ticket:
    """Make a ticket the child of another (a parent cannot be solved while a child is open)."""
    actor = Actor.of_agent(agent)
    request_id, at = new_request_id(), clock.now()
    if parent_number is None:
        child = queries.ticket_for_agent(agent, child_number, for_update=True)
        parent = None
    else:
        child, parent = _linked_pair(agent, child_number, parent_number)
        ensure_not_closed(parent)
        ancestor: Ticket | None = parent
        while ancestor is not None:
            if ancestor.pk == child.pk:
                raise InvalidInput(
                    _("Ticket #%(parent)s is below #%(child)s already; that would make a loop.")
                    % {"parent": parent.number, "child": child.number},
                    field="parent",
                )
            ancestor = ancestor.parent
        if parent.status == Status.SOLVED and child.is_unsolved:
            raise StatusChangeRefused(
                _("Ticket #%(parent)s is solved; reopen it before adding an open child.")
                % {"parent": parent.number}
            )
    ensure_not_closed(child)
    ensure_may_work(agent, child)
    before = child.parent.number if child.parent else None
    after = parent.number if parent else None
    if before == after:
        return child
    _relink(child, "parent", parent, before=before, actor=actor, request_id=request_id, at=at)
    return child


def move_requester_tickets(
    *,
    source_id: int,
    target_id: int,
    ticket_ids: list[int] | None,
    actor_id: int | None,
    request_id: str,
) -> list[int]:
    """Give a (merged or unmerged) customer's tickets to another customer; log each move."""
    tickets = Ticket.objects.select_for_update().filter(requester_id=source_id)
    if ticket_ids is not None:
        tickets = tickets.filter(pk__in=ticket_ids)
    actor = Actor.of_agent(User.objects.get(pk=actor_id)) if actor_id else SYSTEM
    at = clock.now()
    moved = []
    target = Customer.objects.get(pk=target_id)
    for ticket in tickets:
        # Closed tickets never change, except that their requester follows a customer merge:
        # the conversation is the same person's either way.
        ticket.requester = target
        ticket.organization_id = target.organization_id or ticket.organization_id
        ticket.save(update_fields=["requester", "organization"])
        record_event(
            ticket,
            kind=EventKind.REQUESTER,
            before=source_id,
            after=target_id,
            actor=actor,
            request_id=request_id,
            at=at,
        )
        moved.append(ticket.pk)
    return moved
