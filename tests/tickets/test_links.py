"""Problems and their incidents; parent and child tickets."""

import pytest

from serviceloop.core.errors import InvalidInput
from serviceloop.tickets import services
from serviceloop.tickets.errors import StatusChangeRefused, TicketClosed
from serviceloop.tickets.models import EventKind, Status, TicketType
from tests.tickets.factories import make_ticket

# --- Problems and incidents -----------------------------------------------------------------


def test_linking_an_incident_makes_it_an_incident_of_the_problem(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)
    report = make_ticket(actor=agent)

    services.link_incident(
        incident_number=report.number, problem_number=problem.number, agent=agent
    )

    report.refresh_from_db()
    assert report.problem == problem
    assert report.type == TicketType.INCIDENT
    assert list(problem.incidents.all()) == [report]


def test_an_incident_can_only_be_linked_to_a_problem(agent):
    question = make_ticket(actor=agent)
    report = make_ticket(actor=agent)

    with pytest.raises(InvalidInput) as refused:
        services.link_incident(
            incident_number=report.number, problem_number=question.number, agent=agent
        )

    assert str(refused.value) == (
        f"Ticket #{question.number} is not a problem; set its type to Problem first."
    )
    report.refresh_from_db()
    assert (report.problem, report.type) == (None, TicketType.QUESTION)


def test_a_problem_cannot_be_an_incident_of_another_problem(agent):
    first = make_ticket(actor=agent, type=TicketType.PROBLEM)
    second = make_ticket(actor=agent, type=TicketType.PROBLEM)

    with pytest.raises(InvalidInput) as refused:
        services.link_incident(
            incident_number=second.number, problem_number=first.number, agent=agent
        )

    assert str(refused.value) == "A problem cannot be an incident of another problem."


def test_a_ticket_cannot_be_its_own_problem(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)

    with pytest.raises(InvalidInput) as refused:
        services.link_incident(
            incident_number=problem.number, problem_number=problem.number, agent=agent
        )

    assert str(refused.value) == "A ticket cannot be linked to itself."


def test_linking_an_incident_twice_records_one_link(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)
    report = make_ticket(actor=agent)
    for _attempt in range(2):
        services.link_incident(
            incident_number=report.number, problem_number=problem.number, agent=agent
        )

    assert report.events.filter(kind=EventKind.LINK).count() == 1


def test_solving_a_problem_with_its_incidents_solves_the_unsolved_ones(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)
    reports = [make_ticket(actor=agent) for _ in range(3)]
    for report in reports:
        services.link_incident(
            incident_number=report.number, problem_number=problem.number, agent=agent
        )
    services.change_status(number=reports[0].number, agent=agent, status=Status.PENDING)
    services.solve_ticket(number=reports[2].number, agent=agent)
    already_solved = reports[2].events.filter(kind=EventKind.STATUS).count()

    services.solve_ticket(number=problem.number, agent=agent, solve_incidents=True)

    for report in reports:
        report.refresh_from_db()
        assert report.status == Status.SOLVED
        assert report.solved_at is not None
    assert reports[2].events.filter(kind=EventKind.STATUS).count() == already_solved


def test_a_problem_and_its_incidents_are_solved_in_one_request(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)
    reports = [make_ticket(actor=agent) for _ in range(2)]
    for report in reports:
        services.link_incident(
            incident_number=report.number, problem_number=problem.number, agent=agent
        )

    services.solve_ticket(number=problem.number, agent=agent, solve_incidents=True)

    solves = [
        t.events.filter(kind=EventKind.STATUS).get(after__status=Status.SOLVED)
        for t in [problem, *reports]
    ]
    assert len({e.request_id for e in solves}) == 1
    assert {e.actor for e in solves} == {agent}


def test_solving_a_problem_alone_leaves_its_incidents_open(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)
    report = make_ticket(actor=agent)
    services.link_incident(
        incident_number=report.number, problem_number=problem.number, agent=agent
    )

    services.solve_ticket(number=problem.number, agent=agent)

    report.refresh_from_db()
    assert report.status == Status.NEW


def test_an_incident_cannot_be_linked_to_a_closed_problem(agent):
    problem = make_ticket(actor=agent, type=TicketType.PROBLEM)
    services.solve_ticket(number=problem.number, agent=agent)
    services.change_status(number=problem.number, agent=agent, status=Status.CLOSED)
    report = make_ticket(actor=agent)

    with pytest.raises(TicketClosed) as refused:
        services.link_incident(
            incident_number=report.number, problem_number=problem.number, agent=agent
        )

    assert str(refused.value) == (
        f"Ticket #{problem.number} is closed; a reply will open a follow-up."
    )


# --- Parents and children -------------------------------------------------------------------


def test_a_parent_cannot_be_solved_while_a_child_is_unsolved(agent):
    parent = make_ticket(actor=agent)
    children = [make_ticket(actor=agent) for _ in range(2)]
    for child in children:
        services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)

    with pytest.raises(StatusChangeRefused) as refused:
        services.solve_ticket(number=parent.number, agent=agent)

    assert str(refused.value) == (
        f"Ticket #{parent.number} has unsolved child tickets: "
        f"#{children[0].number}, #{children[1].number}."
    )
    parent.refresh_from_db()
    assert parent.status == Status.NEW


def test_the_refusal_names_only_the_unsolved_children(agent):
    parent = make_ticket(actor=agent)
    done, waiting = make_ticket(actor=agent), make_ticket(actor=agent)
    for child in (done, waiting):
        services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)
    services.solve_ticket(number=done.number, agent=agent)

    with pytest.raises(StatusChangeRefused) as refused:
        services.solve_ticket(number=parent.number, agent=agent)

    assert str(refused.value) == (
        f"Ticket #{parent.number} has unsolved child tickets: #{waiting.number}."
    )


def test_a_parent_can_be_solved_once_its_children_are(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)
    services.solve_ticket(number=child.number, agent=agent)

    services.solve_ticket(number=parent.number, agent=agent)

    parent.refresh_from_db()
    assert parent.status == Status.SOLVED


def test_a_pending_child_also_blocks_solving_the_parent(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)
    services.change_status(number=child.number, agent=agent, status=Status.PENDING)

    with pytest.raises(StatusChangeRefused):
        services.solve_ticket(number=parent.number, agent=agent)


def test_an_open_child_cannot_be_added_to_a_solved_parent(agent):
    parent = make_ticket(actor=agent)
    services.solve_ticket(number=parent.number, agent=agent)
    child = make_ticket(actor=agent)

    with pytest.raises(StatusChangeRefused) as refused:
        services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)

    assert str(refused.value) == (
        f"Ticket #{parent.number} is solved; reopen it before adding an open child."
    )


def test_a_ticket_cannot_be_its_own_parent(agent):
    ticket = make_ticket(actor=agent)

    with pytest.raises(InvalidInput) as refused:
        services.set_parent(child_number=ticket.number, parent_number=ticket.number, agent=agent)

    assert str(refused.value) == "A ticket cannot be linked to itself."


def test_a_direct_loop_is_refused(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)

    with pytest.raises(InvalidInput) as refused:
        services.set_parent(child_number=parent.number, parent_number=child.number, agent=agent)

    assert str(refused.value) == (
        f"Ticket #{child.number} is below #{parent.number} already; that would make a loop."
    )
    parent.refresh_from_db()
    assert parent.parent is None


def test_a_loop_through_a_grandchild_is_refused(agent):
    top, middle, bottom = (make_ticket(actor=agent) for _ in range(3))
    services.set_parent(child_number=middle.number, parent_number=top.number, agent=agent)
    services.set_parent(child_number=bottom.number, parent_number=middle.number, agent=agent)

    with pytest.raises(InvalidInput) as refused:
        services.set_parent(child_number=top.number, parent_number=bottom.number, agent=agent)

    assert "that would make a loop" in str(refused.value)


def test_removing_the_parent_frees_the_former_parent(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)

    services.set_parent(child_number=child.number, parent_number=None, agent=agent)
    services.solve_ticket(number=parent.number, agent=agent)

    parent.refresh_from_db()
    child.refresh_from_db()
    assert child.parent is None
    assert parent.status == Status.SOLVED


def test_a_customer_reopening_a_solved_child_reopens_its_solved_parent(agent):
    parent = make_ticket(actor=agent, subject="Warehouse scanner outage")
    child = make_ticket(actor=agent, subject="Order 1042 not scanned")
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)
    services.solve_ticket(number=child.number, agent=agent)
    services.solve_ticket(number=parent.number, agent=agent)

    message = services.add_customer_message(
        ticket_id=child.pk, customer=child.requester, body="Still not scanned, sorry."
    )

    child.refresh_from_db()
    parent.refresh_from_db()
    assert (child.status, parent.status) == (Status.OPEN, Status.OPEN)
    assert parent.reopen_count == 1
    reopen = parent.events.filter(kind=EventKind.STATUS, field="reopen").get()
    assert reopen.actor_kind == "system"
    child_reopen = child.events.filter(kind=EventKind.STATUS, field="reopen").get()
    assert reopen.request_id == child_reopen.request_id
    assert message.ticket_id == child.pk


def test_a_reopened_child_leaves_a_closed_parent_closed(agent):
    parent = make_ticket(actor=agent)
    child = make_ticket(actor=agent)
    services.set_parent(child_number=child.number, parent_number=parent.number, agent=agent)
    services.solve_ticket(number=child.number, agent=agent)
    services.solve_ticket(number=parent.number, agent=agent)
    services.change_status(number=parent.number, agent=agent, status=Status.CLOSED)

    services.change_status(number=child.number, agent=agent, status=Status.OPEN)

    parent.refresh_from_db()
    assert parent.status == Status.CLOSED
