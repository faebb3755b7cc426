"""Ticket histories built step by step with the rules of `tickets.services`.

Each `TicketLife` method is the in-memory twin of one service (open_ticket, route_ticket,
reply_to_ticket, change_status, merge_tickets, link_incident, ...): it changes the same
columns and appends the same TicketEvent rows, with the same before/after shapes and one
request id per call. Rows are written in bulk afterwards (`serviceloop.demo.loading`), so
a demo of thousands of tickets loads in seconds yet reads, event by event, as if agents
had worked it. A step that would happen after "now" stops the ticket where it stands,
which is how recent tickets end up new, open or pending and old ones closed.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from serviceloop.accounts.models import Role, Team, User
from serviceloop.customers.models import Customer, Organization
from serviceloop.demo.people import CustomerPlan, StaffMember
from serviceloop.demo.rhythm import Shift
from serviceloop.tickets.models import (
    UNSOLVED_STATES,
    Channel,
    EventKind,
    Message,
    Status,
    TicketEvent,
    TicketType,
)
from serviceloop.tickets.services import SYSTEM, Actor

ActorKind = TicketEvent.ActorKind
_UNSET: Any = object()
FAR_FUTURE = datetime.max.replace(year=9000, tzinfo=UTC)


class Stop(Exception):
    """The next step of this ticket would happen after "now": its history ends here."""


class RuleBroken(Exception):
    """The demo tried something the ticket services would refuse (a bug in the demo)."""


@dataclass(eq=False)
class Agent:
    user: User
    member: StaffMember
    shift: Shift

    @property
    def is_contributor(self) -> bool:
        return self.user.role == Role.CONTRIBUTOR


@dataclass(eq=False)
class TeamQueue:
    team: Team
    members: list[Agent]

    @property
    def name(self) -> str:
        return self.team.name


@dataclass(eq=False)
class Requester:
    customer: Customer
    plan: CustomerPlan
    organization: Organization | None


@dataclass(eq=False)
class MessageRow:
    owner: "TicketLife"
    kind: str
    author_kind: str
    author_agent: User | None
    author_customer: Customer | None
    body: str
    channel: str
    metadata: dict[str, Any]
    created_at: datetime
    seq: int
    pk: int | None = None


@dataclass(eq=False)
class EventRow:
    owner: "TicketLife"
    kind: str
    field: str
    before: Any
    after: Any
    actor: Actor
    request_id: uuid.UUID
    created_at: datetime
    seq: int


class World:
    """What all ticket histories share: the clock, agents, routing state and counters."""

    def __init__(
        self,
        rng: random.Random,
        *,
        now: datetime,
        teams: dict[str, TeamQueue],
        agents: list[Agent],
        close_after: timedelta,
        custom_statuses: dict[str, str],
    ) -> None:
        self.rng = rng
        self.now = now
        self.teams = teams
        self.agents = agents
        self.close_after = close_after
        self.custom_statuses = custom_statuses  # name -> lifecycle state
        self.lives: list[TicketLife] = []
        self.last_routed: dict[int, datetime] = {}
        self.open_intervals: dict[int, list[tuple[datetime, datetime]]] = {
            a.user.pk: [] for a in agents
        }
        # No routing question is asked about a moment before this one (see build_demo).
        self.floor = datetime.min.replace(tzinfo=UTC)
        self._seq = 0
        self._sweeps: dict[datetime, uuid.UUID] = {}

    def seq(self) -> int:
        self._seq += 1
        return self._seq

    def request_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def sweep_request(self, at: datetime) -> uuid.UUID:
        """The scheduler closes every due ticket of one sweep in one request."""
        if at not in self._sweeps:
            self._sweeps[at] = self.request_id()
        return self._sweeps[at]

    def load(self, agent: Agent, at: datetime) -> int:
        """New and open tickets the agent holds at `at` (what routing's capacity counts)."""
        intervals = self.open_intervals[agent.user.pk]
        if len(intervals) > 64:
            intervals[:] = [i for i in intervals if i[1] > self.floor]
        return sum(1 for start, end in intervals if start <= at < end)

    def choose_agent(self, queue: TeamQueue, at: datetime) -> Agent | None:
        """The twin of `routing.choose_agent`, with load as it stood at `at`."""
        if queue.team.routing == Team.Routing.MANUAL:
            return None
        candidates = [
            a for a in queue.members if a.user.is_active and not a.user.is_away and a.user.capacity
        ]
        load = {a.user.pk: self.load(a, at) for a in candidates}
        eligible = [a for a in candidates if load[a.user.pk] < a.user.capacity]
        if not eligible:
            return None
        never = datetime.min.replace(tzinfo=at.tzinfo)
        if queue.team.routing == Team.Routing.LEAST_LOADED:
            return min(
                eligible,
                key=lambda a: (load[a.user.pk], self.last_routed.get(a.user.pk, never), a.user.pk),
            )
        return min(eligible, key=lambda a: (self.last_routed.get(a.user.pk, never), a.user.pk))


class TicketLife:
    """One ticket as the services would have left it, plus its events and messages."""

    def __init__(self, world: World, requester: Requester) -> None:
        self.world = world
        self.requester = requester
        self.number: int | None = None
        self.pk: int | None = None
        self.subject = ""
        self.status: str = Status.NEW
        self.custom_status: str | None = None
        self.priority = "normal"
        self.type: str = TicketType.QUESTION
        self.channel: str = Channel.EMAIL
        self.assignee: Agent | None = None
        self.team: TeamQueue | None = None
        self.tags: list[str] = []
        self.custom_fields: dict[str, Any] = {}
        self.problem: TicketLife | None = None
        self.parent: TicketLife | None = None
        self.merged_into: TicketLife | None = None
        self.follow_up_of: TicketLife | None = None
        self.children: list[TicketLife] = []
        self.created_at = world.now
        self.updated_at = world.now
        self.first_agent_reply_at: datetime | None = None
        self.last_customer_message_at: datetime | None = None
        self.last_agent_reply_at: datetime | None = None
        self.assigned_at: datetime | None = None
        self.solved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.reopened_at: datetime | None = None
        self.reopen_count = 0
        self.messages: list[MessageRow] = []
        self.events: list[EventRow] = []
        self._load_key: int | None = None
        self._load_since: datetime | None = None
        self._last_at: datetime | None = None

    # --- Plumbing ---------------------------------------------------------------------------

    def at(self, moment: datetime) -> datetime:
        """Check a step's time: never after now, never before this ticket's last step."""
        if self._last_at is not None and moment < self._last_at:
            moment = self._last_at
        if moment > self.world.now:
            raise Stop()
        self._last_at = moment
        return moment

    def _record(
        self,
        kind: str,
        *,
        actor: Actor,
        request_id: uuid.UUID,
        at: datetime,
        field: str = "",
        before: Any = None,
        after: Any = None,
    ) -> EventRow:
        event = EventRow(self, kind, field, before, after, actor, request_id, at, self.world.seq())
        self.events.append(event)
        return event

    def _track_load(self, at: datetime) -> None:
        """Keep the intervals in which this ticket counts against its assignee's capacity."""
        key = (
            self.assignee.user.pk
            if self.assignee is not None and self.status in (Status.NEW, Status.OPEN)
            else None
        )
        if key == self._load_key:
            return
        if self._load_key is not None and self._load_since is not None:
            self.world.open_intervals[self._load_key].append((self._load_since, at))
        self._load_key, self._load_since = key, at

    def finish(self) -> None:
        """Close the load interval still running when the history ends."""
        if self._load_key is not None and self._load_since is not None:
            self.world.open_intervals[self._load_key].append((self._load_since, FAR_FUTURE))
            self._load_key = None

    def _ensure_not_closed(self) -> None:
        if self.status == Status.CLOSED:
            raise RuleBroken(f"{self.subject!r} is closed")

    def _ensure_may_work(self, agent: Agent) -> None:
        if agent.is_contributor and self.assignee is not agent:
            raise RuleBroken(f"{agent.user.username} may not work {self.subject!r}")

    @property
    def is_unsolved(self) -> bool:
        return self.status in UNSOLVED_STATES

    def _add_message(
        self,
        *,
        kind: str,
        actor: Actor,
        body: str,
        channel: str,
        metadata: dict[str, Any] | None,
        request_id: uuid.UUID,
        at: datetime,
    ) -> MessageRow:
        author_kind = {
            ActorKind.AGENT: Message.AuthorKind.AGENT,
            ActorKind.CUSTOMER: Message.AuthorKind.CUSTOMER,
            ActorKind.ASSISTANT: Message.AuthorKind.ASSISTANT,
        }.get(ActorKind(actor.kind), Message.AuthorKind.SYSTEM)
        message = MessageRow(
            self,
            kind,
            author_kind,
            actor.agent,
            actor.customer,
            body.strip(),
            channel,
            metadata or {},
            at,
            self.world.seq(),
        )
        self.messages.append(message)
        self._record(
            EventKind.MESSAGE,
            field=kind,
            after={"message_id": message, "author_kind": author_kind, "channel": channel},
            actor=actor,
            request_id=request_id,
            at=at,
        )
        return message

    # --- Services' twins --------------------------------------------------------------------

    def create(
        self,
        *,
        at: datetime,
        subject: str,
        body: str,
        channel: str,
        priority: str,
        type: str,
        tags: list[str],
        team: TeamQueue | None,
        creator: Agent | None = None,
        assignee: Agent | None = None,
        custom_fields: dict[str, Any] | None = None,
        author: str = "requester",
        follow_up_of: "TicketLife | None" = None,
        metadata: dict[str, Any] | None = None,
        request_id: uuid.UUID | None = None,
    ) -> None:
        """open_ticket."""
        at = self.at(at)
        if creator is not None and creator.is_contributor:
            raise RuleBroken("contributors cannot create tickets")
        if assignee is not None and team is not None and assignee not in team.members:
            raise RuleBroken(f"{assignee.user.username} is not in {team.name}")
        request_id = request_id or self.world.request_id()
        customer = self.requester.customer
        self.subject = " ".join(subject.split())[:250]
        self.channel, self.priority, self.type = channel, priority, type
        self.tags = sorted(set(tags))
        self.custom_fields = dict(custom_fields or {})
        self.team, self.assignee = team, assignee
        self.status = Status.OPEN if assignee else Status.NEW
        self.assigned_at = at if assignee else None
        self.follow_up_of = follow_up_of
        self.created_at = self.updated_at = at
        self.last_customer_message_at = at if author == "requester" else None
        event_actor = Actor.of_agent(creator.user) if creator else Actor.of_customer(customer)
        self._record(
            EventKind.CREATED,
            actor=event_actor,
            request_id=request_id,
            at=at,
            after={
                "status": self.status,
                "priority": priority,
                "type": type,
                "channel": channel,
                "requester": customer.pk,
                "team": team.team.pk if team else None,
                "assignee": assignee.user.pk if assignee else None,
                "tags": self.tags,
                "custom_fields": self.custom_fields,
                "follow_up_of": follow_up_of,
            },
        )
        message_actor = (
            Actor.of_agent(creator.user)
            if author == "agent" and creator
            else Actor.of_customer(customer)
        )
        self._add_message(
            kind=Message.Kind.REPLY,
            actor=message_actor,
            body=body,
            channel=channel,
            metadata=metadata,
            request_id=request_id,
            at=at,
        )
        if author == "agent" and creator:
            self.first_agent_reply_at = self.last_agent_reply_at = at
        self._track_load(at)
        self.world.lives.append(self)
        if team is not None and assignee is None:
            self.route(at=at, request_id=request_id)

    def route(self, *, at: datetime, request_id: uuid.UUID) -> Agent | None:
        """route_ticket."""
        if self.team is None or self.assignee is not None or not self.is_unsolved:
            return None
        agent = self.world.choose_agent(self.team, at)
        if agent is None:
            return None
        self._assign(at=at, actor=SYSTEM, request_id=request_id, assignee=agent)
        self.world.last_routed[agent.user.pk] = at
        return agent

    def _assign(
        self,
        *,
        at: datetime,
        actor: Actor,
        request_id: uuid.UUID,
        team: TeamQueue | None = _UNSET,
        assignee: Agent | None = _UNSET,
    ) -> bool:
        before_team, before_assignee = self.team, self.assignee
        if team is not _UNSET:
            self.team = team
        if assignee is not _UNSET:
            self.assignee = assignee
        if self.team is before_team and self.assignee is before_assignee:
            return False
        self.updated_at = at
        if self.assignee is not before_assignee and self.assignee is not None:
            self.assigned_at = at
        if self.team is not before_team:
            self._record(
                EventKind.TEAM,
                before=before_team.team.pk if before_team else None,
                after=self.team.team.pk if self.team else None,
                actor=actor,
                request_id=request_id,
                at=at,
            )
        if self.assignee is not before_assignee:
            self._record(
                EventKind.ASSIGNEE,
                before=before_assignee.user.pk if before_assignee else None,
                after=self.assignee.user.pk if self.assignee else None,
                actor=actor,
                request_id=request_id,
                at=at,
            )
        self._track_load(at)
        if self.status == Status.NEW and self.assignee is not None:
            self._change_status(target=Status.OPEN, actor=actor, request_id=request_id, at=at)
        return True

    def assign(
        self,
        *,
        at: datetime,
        agent: Agent,
        assignee: Agent | None = _UNSET,
        team: TeamQueue | None = _UNSET,
    ) -> None:
        """assign_ticket."""
        at = self.at(at)
        self._ensure_not_closed()
        if agent.is_contributor:
            raise RuleBroken("contributors cannot assign")
        request_id = self.world.request_id()
        new_team = self.team if team is _UNSET else team
        if assignee is _UNSET:
            new_assignee = (
                _UNSET
                if new_team is None or self.assignee is None or self.assignee in new_team.members
                else None
            )
        else:
            if assignee is not None and new_team is not None and assignee not in new_team.members:
                raise RuleBroken(f"{assignee.user.username} is not in {new_team.name}")
            new_assignee = assignee
        changed = self._assign(
            at=at,
            actor=Actor.of_agent(agent.user),
            request_id=request_id,
            team=new_team,
            assignee=new_assignee,
        )
        if changed and self.assignee is None and self.team is not None:
            self.route(at=at, request_id=request_id)

    def reply(
        self, *, at: datetime, agent: Agent, body: str, status: str | None = None
    ) -> MessageRow:
        """reply_to_ticket."""
        at = self.at(at)
        self._ensure_not_closed()
        self._ensure_may_work(agent)
        request_id = self.world.request_id()
        actor = Actor.of_agent(agent.user)
        message = self._add_message(
            kind=Message.Kind.REPLY,
            actor=actor,
            body=body,
            channel=self.channel,
            metadata=None,
            request_id=request_id,
            at=at,
        )
        if self.first_agent_reply_at is None:
            self.first_agent_reply_at = at
        self.last_agent_reply_at = at
        self.updated_at = at
        target = status or (Status.OPEN if self.status == Status.NEW else None)
        if target and target != self.status:
            self._change_status(target=target, actor=actor, request_id=request_id, at=at)
        return message

    def note(self, *, at: datetime, agent: Agent, body: str) -> None:
        """add_internal_note."""
        at = self.at(at)
        self._ensure_not_closed()
        self._add_message(
            kind=Message.Kind.NOTE,
            actor=Actor.of_agent(agent.user),
            body=body,
            channel=Channel.AGENT,
            metadata=None,
            request_id=self.world.request_id(),
            at=at,
        )
        self.updated_at = at

    def customer_writes(self, *, at: datetime, body: str, channel: str) -> None:
        """add_customer_message on a ticket that is not closed (a closed one gets a follow-up)."""
        at = self.at(at)
        self._ensure_not_closed()
        if self.merged_into is not None:
            raise RuleBroken("replies to a merged ticket go to the survivor")
        request_id = self.world.request_id()
        customer = self.requester.customer
        actor = Actor.of_customer(customer)
        metadata = {"from": customer.email} if channel == Channel.EMAIL else None
        self._add_message(
            kind=Message.Kind.REPLY,
            actor=actor,
            body=body,
            channel=channel,
            metadata=metadata,
            request_id=request_id,
            at=at,
        )
        self.last_customer_message_at = at
        self.updated_at = at
        if self.status in (Status.SOLVED, Status.PENDING, Status.ON_HOLD):
            self._change_status(target=Status.OPEN, actor=actor, request_id=request_id, at=at)

    def _change_status(
        self,
        *,
        target: str,
        actor: Actor,
        request_id: uuid.UUID,
        at: datetime,
        custom_status: str | None = None,
    ) -> None:
        before, before_custom = self.status, self.custom_status
        if before == Status.CLOSED:
            raise RuleBroken(f"{self.subject!r} is closed")
        if target == before and custom_status == before_custom:
            return
        if target == Status.NEW and before != Status.NEW:
            raise RuleBroken("a worked ticket cannot go back to new")
        if target == Status.CLOSED and before != Status.SOLVED:
            raise RuleBroken("only a solved ticket closes")
        if target == Status.SOLVED and any(c.is_unsolved for c in self.children):
            raise RuleBroken("a parent cannot be solved before its children")
        self.status, self.custom_status, self.updated_at = target, custom_status, at
        if target == Status.SOLVED:
            self.solved_at = at
        elif target == Status.CLOSED:
            self.closed_at = at
        reopen = before == Status.SOLVED and target in UNSOLVED_STATES
        if reopen:
            self.reopened_at = at
            self.reopen_count += 1
            self.solved_at = None
        self._record(
            EventKind.STATUS,
            field="reopen" if reopen else "status",
            before={"status": before, "custom_status": before_custom},
            after={"status": target, "custom_status": custom_status},
            actor=actor,
            request_id=request_id,
            at=at,
        )
        self._track_load(at)

    def change_status(
        self,
        *,
        at: datetime,
        agent: Agent,
        status: str | None = None,
        custom_status: str | None = None,
        request_id: uuid.UUID | None = None,
    ) -> None:
        """change_status (and solve_ticket)."""
        at = self.at(at)
        self._ensure_may_work(agent)
        if custom_status is not None:
            status = self.world.custom_statuses[custom_status]
        if status is None:
            raise RuleBroken("status is required")
        self._change_status(
            target=status,
            actor=Actor.of_agent(agent.user),
            request_id=request_id or self.world.request_id(),
            at=at,
            custom_status=custom_status,
        )

    def solve_with_problem(self, *, at: datetime, agent: Agent, request_id: uuid.UUID) -> None:
        """The incident's part of solve_ticket(solve_incidents=True) on its problem."""
        at = self.at(at)
        if self.problem is None or not self.is_unsolved:
            raise RuleBroken("only an unsolved incident is solved with its problem")
        self._change_status(
            target=Status.SOLVED, actor=Actor.of_agent(agent.user), request_id=request_id, at=at
        )

    def close(self, *, at: datetime) -> None:
        """close_solved_tickets, run by the scheduler every five minutes."""
        at = self.at(at)
        self._change_status(
            target=Status.CLOSED, actor=SYSTEM, request_id=self.world.sweep_request(at), at=at
        )

    def update(
        self,
        *,
        at: datetime,
        agent: Agent,
        subject: str | None = None,
        priority: str | None = None,
        type: str | None = None,
        add_tags: tuple[str, ...] = (),
        custom_fields: dict[str, Any] | None = None,
        request_id: uuid.UUID | None = None,
    ) -> None:
        """update_ticket (the changes of `_update_fields`, in its order)."""
        at = self.at(at)
        self._ensure_not_closed()
        self._ensure_may_work(agent)
        self._update_fields(
            at=at,
            actor=Actor.of_agent(agent.user),
            request_id=request_id or self.world.request_id(),
            subject=subject,
            priority=priority,
            type=type,
            add_tags=add_tags,
            custom_fields=custom_fields,
        )

    def _update_fields(
        self,
        *,
        at: datetime,
        actor: Actor,
        request_id: uuid.UUID,
        subject: str | None = None,
        priority: str | None = None,
        type: str | None = None,
        add_tags: tuple[str, ...] = (),
        custom_fields: dict[str, Any] | None = None,
    ) -> None:
        changed = False
        for name, kind, value in (
            ("subject", EventKind.SUBJECT, subject),
            ("priority", EventKind.PRIORITY, priority),
            ("type", EventKind.TYPE, type),
        ):
            if value is None or value == getattr(self, name):
                continue
            before = getattr(self, name)
            setattr(self, name, value)
            self._record(
                kind, before=before, after=value, actor=actor, request_id=request_id, at=at
            )
            changed = True
        after_tags = sorted(set(self.tags) | set(add_tags))
        if after_tags != self.tags:
            self._record(
                EventKind.TAGS,
                before=self.tags,
                after=after_tags,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            self.tags = after_tags
            changed = True
        if custom_fields:
            after_fields = {**self.custom_fields, **custom_fields}
            for key in sorted(set(self.custom_fields) | set(after_fields)):
                if self.custom_fields.get(key) != after_fields.get(key):
                    self._record(
                        EventKind.FIELD,
                        field=key,
                        before=self.custom_fields.get(key),
                        after=after_fields.get(key),
                        actor=actor,
                        request_id=request_id,
                        at=at,
                    )
            if after_fields != self.custom_fields:
                self.custom_fields = after_fields
                changed = True
        if changed:
            self.updated_at = at

    def link_to_problem(self, *, at: datetime, agent: Agent, problem: "TicketLife") -> None:
        """link_incident."""
        at = self.at(at)
        # The problem's own history is built first and runs ahead; judge it as it was at `at`.
        if problem.created_at > at or (problem.closed_at is not None and problem.closed_at <= at):
            raise RuleBroken("link to a problem ticket that is open at the time")
        if problem.type != TicketType.PROBLEM:
            raise RuleBroken("link to a problem ticket only")
        self._ensure_not_closed()
        self._ensure_may_work(agent)
        if self.type == TicketType.PROBLEM:
            raise RuleBroken("a problem cannot be an incident")
        if self.problem is problem:
            return
        actor, request_id = Actor.of_agent(agent.user), self.world.request_id()
        if self.type != TicketType.INCIDENT:
            self._update_fields(at=at, actor=actor, request_id=request_id, type=TicketType.INCIDENT)
        before = self.problem
        self.problem = problem
        self.updated_at = at
        self._record(
            EventKind.LINK,
            field="problem",
            before=before,
            after=problem,
            actor=actor,
            request_id=request_id,
            at=at,
        )

    def set_parent(self, *, at: datetime, agent: Agent, parent: "TicketLife") -> None:
        """set_parent."""
        at = self.at(at)
        if parent.created_at > at:
            raise RuleBroken("the parent ticket does not exist yet")
        parent._ensure_not_closed()
        if parent.status == Status.SOLVED and self.is_unsolved:
            raise RuleBroken("a solved parent takes no open child")
        self._ensure_not_closed()
        self._ensure_may_work(agent)
        if self.parent is parent:
            return
        before = self.parent
        self.parent = parent
        parent.children.append(self)
        self.updated_at = at
        self._record(
            EventKind.LINK,
            field="parent",
            before=before,
            after=parent,
            actor=Actor.of_agent(agent.user),
            request_id=self.world.request_id(),
            at=at,
        )

    def merge_into(self, *, at: datetime, agent: Agent, target: "TicketLife") -> None:
        """merge_tickets, with self as the source."""
        at = target.at(self.at(at))
        self._last_at = at
        if agent.is_contributor:
            raise RuleBroken("contributors cannot merge")
        self._ensure_not_closed()
        target._ensure_not_closed()
        if self.requester.customer.pk != target.requester.customer.pk:
            raise RuleBroken("demo merges are duplicates from one requester")
        request_id, actor = self.world.request_id(), Actor.of_agent(agent.user)
        moved = list(self.messages)
        for message in moved:
            message.owner = target
        target.messages.extend(moved)
        self.messages = []
        message_events = [e for e in self.events if e.kind == EventKind.MESSAGE]
        for event in message_events:
            event.owner = target
        target.events.extend(message_events)
        self.events = [e for e in self.events if e.kind != EventKind.MESSAGE]
        extra_tags = sorted(set(self.tags) - set(target.tags))
        if extra_tags:
            after = sorted(set(target.tags) | set(self.tags))
            target._record(
                EventKind.TAGS,
                before=target.tags,
                after=after,
                actor=actor,
                request_id=request_id,
                at=at,
            )
            target.tags = after
        if self.first_agent_reply_at and (
            target.first_agent_reply_at is None
            or self.first_agent_reply_at < target.first_agent_reply_at
        ):
            target.first_agent_reply_at = self.first_agent_reply_at
        if self.last_customer_message_at and (
            target.last_customer_message_at is None
            or self.last_customer_message_at > target.last_customer_message_at
        ):
            target.last_customer_message_at = self.last_customer_message_at
        target.updated_at = at
        target._record(
            EventKind.MERGE,
            field="merged_from",
            after={"number": self, "messages": moved},
            actor=actor,
            request_id=request_id,
            at=at,
        )
        self._record(
            EventKind.MERGE,
            field="merged_into",
            after={"number": target},
            actor=actor,
            request_id=request_id,
            at=at,
        )
        self.merged_into = target
        if self.status != Status.SOLVED:
            self._change_status(target=Status.SOLVED, actor=actor, request_id=request_id, at=at)
        self._change_status(target=Status.CLOSED, actor=actor, request_id=request_id, at=at)


@dataclass
class Budget:
    """Tickets that other tickets may still spawn (duplicates, follow-ups)."""

    merges: int = 0
    follow_ups: int = 0
    extra: dict[str, int] = field(default_factory=dict)
