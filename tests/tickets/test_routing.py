"""Who gets a ticket that lands in a team queue, and when a waiting ticket gets routed."""

import pytest

from serviceloop.accounts.models import Skill, Team
from serviceloop.accounts.services import set_away, update_agent
from serviceloop.tickets import queries, services
from serviceloop.tickets.models import EventKind, Status
from serviceloop.tickets.services import TicketChanges
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.tickets.factories import make_ticket


def routing_team(routing: str, *members):  # type: ignore[no-untyped-def]
    team = TeamFactory(routing=routing)
    team.members.add(*members)
    return team


def assignee_of(ticket):  # type: ignore[no-untyped-def]
    ticket.refresh_from_db()
    return ticket.assignee


# --- Manual ---------------------------------------------------------------------------------


def test_a_manual_team_leaves_tickets_in_the_queue(agent):
    member = AgentFactory()
    team = routing_team(Team.Routing.MANUAL, member)

    ticket = make_ticket(actor=agent, team_id=team.pk)

    assert ticket.assignee is None
    assert ticket.status == Status.NEW
    assert list(queries.tickets_waiting_in_team(team.pk)) == [ticket]


# --- Round-robin ----------------------------------------------------------------------------


def test_round_robin_takes_turns(agent):
    ana, ben = AgentFactory(), AgentFactory()
    team = routing_team(Team.Routing.ROUND_ROBIN, ana, ben)

    tickets = [make_ticket(actor=agent, team_id=team.pk) for _ in range(4)]

    assert [t.assignee for t in tickets] == [ana, ben, ana, ben]


def test_a_routed_ticket_opens_and_the_system_is_the_actor(agent):
    ana = AgentFactory()
    team = routing_team(Team.Routing.ROUND_ROBIN, ana)

    ticket = make_ticket(actor=agent, team_id=team.pk)

    assert ticket.status == Status.OPEN
    event = ticket.events.get(kind=EventKind.ASSIGNEE)
    assert (event.actor, event.actor_kind, event.after) == (None, "system", ana.pk)
    created = ticket.events.get(kind=EventKind.CREATED)
    assert event.request_id == created.request_id


def test_round_robin_skips_an_agent_at_capacity(agent):
    ana, ben = AgentFactory(capacity=1), AgentFactory(capacity=5)
    team = routing_team(Team.Routing.ROUND_ROBIN, ana, ben)

    tickets = [make_ticket(actor=agent, team_id=team.pk) for _ in range(3)]

    assert [t.assignee for t in tickets] == [ana, ben, ben]


# --- Least loaded ---------------------------------------------------------------------------


def test_least_loaded_gives_the_ticket_to_who_holds_fewest(agent):
    ana, ben = AgentFactory(), AgentFactory()
    team = routing_team(Team.Routing.LEAST_LOADED, ana, ben)
    for _ in range(2):
        make_ticket(actor=agent, assignee_id=ana.pk)

    ticket = make_ticket(actor=agent, team_id=team.pk)

    assert ticket.assignee == ben


def test_least_loaded_counts_only_new_and_open_tickets(agent):
    ana, ben = AgentFactory(), AgentFactory()
    team = routing_team(Team.Routing.LEAST_LOADED, ana, ben)
    for _ in range(2):
        held = make_ticket(actor=agent, assignee_id=ana.pk)
        services.change_status(number=held.number, agent=agent, status=Status.PENDING)
    make_ticket(actor=agent, assignee_id=ben.pk)

    ticket = make_ticket(actor=agent, team_id=team.pk)

    assert ticket.assignee == ana


def test_nobody_gets_a_ticket_past_their_capacity(agent):
    ana = AgentFactory(capacity=2)
    team = routing_team(Team.Routing.LEAST_LOADED, ana)

    tickets = [make_ticket(actor=agent, team_id=team.pk) for _ in range(3)]

    assert [t.assignee for t in tickets] == [ana, ana, None]
    assert tickets[2].status == Status.NEW


def test_an_agent_with_no_capacity_gets_nothing(agent):
    ana = AgentFactory(capacity=0)
    team = routing_team(Team.Routing.ROUND_ROBIN, ana)

    ticket = make_ticket(actor=agent, team_id=team.pk)

    assert ticket.assignee is None


# --- Skills and away ------------------------------------------------------------------------


@pytest.fixture
def german(db):  # type: ignore[no-untyped-def]
    return Skill.objects.create(name="german")


def ticket_needing(skill: Skill, agent, team):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent)
    services.update_ticket(
        number=ticket.number, agent=agent, changes=TicketChanges(required_skills=[skill.name])
    )
    services.assign_ticket(number=ticket.number, agent=agent, team_id=team.pk)
    ticket.refresh_from_db()
    return ticket


def test_a_ticket_needing_a_skill_goes_to_an_agent_who_has_it(agent, german):
    ana, ben = AgentFactory(), AgentFactory()
    ben.skills.add(german)
    team = routing_team(Team.Routing.ROUND_ROBIN, ana, ben)

    ticket = ticket_needing(german, agent, team)

    assert ticket.assignee == ben


def test_a_ticket_needing_a_skill_nobody_has_waits(agent, german):
    ana = AgentFactory()
    team = routing_team(Team.Routing.LEAST_LOADED, ana)

    ticket = ticket_needing(german, agent, team)

    assert ticket.assignee is None
    assert list(queries.tickets_waiting_in_team(team.pk)) == [ticket]


def test_an_away_agent_gets_no_tickets(agent):
    ana, ben = AgentFactory(), AgentFactory()
    team = routing_team(Team.Routing.ROUND_ROBIN, ana, ben)
    set_away(agent=ana, is_away=True)

    tickets = [make_ticket(actor=agent, team_id=team.pk) for _ in range(2)]

    assert [t.assignee for t in tickets] == [ben, ben]


def test_a_deactivated_agent_gets_no_tickets(agent, admin):
    ana, ben = AgentFactory(), AgentFactory()
    team = routing_team(Team.Routing.ROUND_ROBIN, ana, ben)
    update_agent(actor=admin, agent_id=ana.pk, is_active=False)

    tickets = [make_ticket(actor=agent, team_id=team.pk) for _ in range(2)]

    assert [t.assignee for t in tickets] == [ben, ben]


# --- The queue: waiting tickets get routed when capacity frees ------------------------------


@pytest.fixture
def full_agent(agent):  # type: ignore[no-untyped-def]
    """An agent with room for one ticket, holding one, in a team that routes."""
    ana = AgentFactory(capacity=1)
    team = routing_team(Team.Routing.ROUND_ROBIN, ana)
    held = make_ticket(actor=agent, team_id=team.pk)
    assert held.assignee == ana
    return ana, team, held


def test_tickets_wait_in_the_team_queue_oldest_first(agent, full_agent):
    _ana, team, _held = full_agent

    first = make_ticket(actor=agent, team_id=team.pk)
    second = make_ticket(actor=agent, team_id=team.pk)

    assert list(queries.tickets_waiting_in_team(team.pk)) == [first, second]


def test_solving_a_ticket_routes_the_oldest_waiting_one(agent, full_agent, deliver_events):
    ana, team, held = full_agent
    first = make_ticket(actor=agent, team_id=team.pk)
    second = make_ticket(actor=agent, team_id=team.pk)

    services.solve_ticket(number=held.number, agent=ana)
    deliver_events()

    assert assignee_of(first) == ana
    assert assignee_of(second) is None
    assert first.status == Status.OPEN


def test_setting_a_ticket_pending_frees_capacity(agent, full_agent, deliver_events):
    ana, team, held = full_agent
    waiting = make_ticket(actor=agent, team_id=team.pk)

    services.change_status(number=held.number, agent=ana, status=Status.PENDING)
    deliver_events()

    assert assignee_of(waiting) == ana


def test_nothing_is_routed_before_the_worker_runs(agent, full_agent):
    ana, team, held = full_agent
    waiting = make_ticket(actor=agent, team_id=team.pk)

    services.solve_ticket(number=held.number, agent=ana)

    assert assignee_of(waiting) is None


def test_reassigning_a_ticket_away_routes_a_waiting_one(agent, full_agent, deliver_events):
    ana, team, held = full_agent
    waiting = make_ticket(actor=agent, team_id=team.pk)
    colleague = AgentFactory()

    services.assign_ticket(number=held.number, agent=agent, assignee_id=colleague.pk, team_id=None)
    deliver_events()

    assert assignee_of(held) == colleague
    assert assignee_of(waiting) == ana


def test_coming_back_from_away_routes_waiting_tickets(agent, deliver_events):
    ana = AgentFactory()
    team = routing_team(Team.Routing.LEAST_LOADED, ana)
    set_away(agent=ana, is_away=True)
    waiting = [make_ticket(actor=agent, team_id=team.pk) for _ in range(2)]
    assert [assignee_of(t) for t in waiting] == [None, None]

    set_away(agent=ana, is_away=False)
    deliver_events()

    assert [assignee_of(t) for t in waiting] == [ana, ana]


def test_raising_capacity_routes_waiting_tickets(agent, admin, full_agent, deliver_events):
    ana, team, _held = full_agent
    waiting = make_ticket(actor=agent, team_id=team.pk)

    update_agent(actor=admin, agent_id=ana.pk, capacity=2)
    deliver_events()

    assert assignee_of(waiting) == ana


def test_a_waiting_ticket_needing_a_skill_is_passed_over_for_one_that_fits(
    agent, german, deliver_events
):
    ana = AgentFactory(capacity=1)
    team = routing_team(Team.Routing.ROUND_ROBIN, ana)
    held = make_ticket(actor=agent, team_id=team.pk)
    needs_german = ticket_needing(german, agent, team)
    plain = make_ticket(actor=agent, team_id=team.pk)

    services.solve_ticket(number=held.number, agent=ana)
    deliver_events()

    assert assignee_of(needs_german) is None
    assert assignee_of(plain) == ana


def test_a_manual_team_routes_nothing_when_capacity_frees(agent, deliver_events):
    ana = AgentFactory(capacity=1)
    team = routing_team(Team.Routing.MANUAL, ana)
    held = make_ticket(actor=agent, team_id=team.pk, assignee_id=ana.pk)
    waiting = make_ticket(actor=agent, team_id=team.pk)

    services.solve_ticket(number=held.number, agent=ana)
    deliver_events()

    assert assignee_of(waiting) is None


def test_running_the_worker_twice_routes_a_ticket_once(agent, full_agent, deliver_events):
    ana, team, held = full_agent
    waiting = make_ticket(actor=agent, team_id=team.pk)
    services.solve_ticket(number=held.number, agent=ana)
    deliver_events()

    services.route_waiting_tickets(team_id=team.pk)
    deliver_events()

    assert assignee_of(waiting) == ana
    assert waiting.events.filter(kind=EventKind.ASSIGNEE).count() == 1
