"""A unit of work: services run inside another one succeed or fail with it, as one change."""

import pytest

from serviceloop.core.errors import InvalidInput
from serviceloop.core.models import EventDelivery
from serviceloop.core.transactions import unit_of_work
from serviceloop.tickets import services
from serviceloop.tickets.models import Message, Ticket, TicketEvent
from tests.tickets.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def nothing_stored() -> bool:
    return not (
        Ticket.objects.exists()
        or Message.objects.exists()
        or TicketEvent.objects.exists()
        or EventDelivery.objects.exists()
    )


def test_a_service_failing_inside_a_unit_of_work_undoes_the_whole_unit(agent):
    def open_and_reply() -> None:
        with unit_of_work():
            ticket = make_ticket(actor=agent)
            services.reply_to_ticket(number=ticket.number, agent=agent, body="   ")

    with pytest.raises(InvalidInput):
        open_and_reply()

    assert nothing_stored()


def open_and_fail_in_a_savepoint(agent, subject: str) -> None:
    with unit_of_work(savepoint=True):
        ticket = make_ticket(actor=agent, subject=subject)
        services.reply_to_ticket(number=ticket.number, agent=agent, body="   ")


def test_a_part_with_its_own_savepoint_fails_alone(agent, webhook_for_every_event):
    with unit_of_work():
        before = make_ticket(actor=agent, subject="Parcel lost")
        with pytest.raises(InvalidInput):
            open_and_fail_in_a_savepoint(agent, "Refund missing")
        after = make_ticket(actor=agent, subject="Wrong size")

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Parcel lost", "Wrong size"]
    assert set(TicketEvent.objects.values_list("ticket_id", flat=True)) == {before.pk, after.pk}
    assert set(EventDelivery.objects.values_list("payload__ticket_id", flat=True)) == {
        before.pk,
        after.pk,
    }


def test_services_in_one_unit_write_their_log_and_outbox_rows_at_its_end(
    agent, webhook_for_every_event
):
    with unit_of_work():
        ticket = make_ticket(actor=agent)
        services.add_internal_note(number=ticket.number, agent=agent, body="Called the courier")
        assert not TicketEvent.objects.filter(ticket=ticket).exists()

    kinds = list(ticket.events.order_by("id").values_list("kind", "field"))
    assert kinds == [("created", ""), ("message", "reply"), ("message", "note")]
    assert EventDelivery.objects.filter(payload__number=ticket.number).exists()
