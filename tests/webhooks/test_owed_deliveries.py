"""Which durable deliveries a change owes: none to a webhook nobody registered.

A change writes an outbox row for each durable subscriber with work for its event. The
webhook subscriber has work only when an active webhook wants the event type, and the
change reads which types are wanted once, whatever number of events it publishes.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from serviceloop.accounts.models import User
from serviceloop.core.models import EventDelivery
from serviceloop.core.transactions import unit_of_work
from serviceloop.tickets import services as tickets
from serviceloop.webhooks import services
from tests.tickets.factories import make_ticket

pytestmark = pytest.mark.django_db

WEBHOOKS = "serviceloop.webhooks.handlers.deliver_to_webhooks"


def owed_to_webhooks(event_name: str) -> int:
    return EventDelivery.objects.filter(event_name=event_name, handler=WEBHOOKS).count()


def test_without_webhooks_a_new_ticket_owes_no_delivery(admin):
    make_ticket(actor=admin)

    assert not EventDelivery.objects.exists()


def test_a_webhook_is_owed_only_the_event_types_it_wants(admin):
    services.create_webhook(
        actor=admin, url="https://crm.example.com/hook", event_types=["ticket.status_changed"]
    )

    ticket = make_ticket(actor=admin)
    tickets.solve_ticket(number=ticket.number, agent=admin)

    assert owed_to_webhooks("ticket.created") == 0
    assert owed_to_webhooks("ticket.message_added") == 0
    assert owed_to_webhooks("ticket.status_changed") == 1


def test_a_webhook_for_every_type_is_owed_every_event(admin, webhook_for_every_event):
    make_ticket(actor=admin)

    assert owed_to_webhooks("ticket.created") == 1
    assert owed_to_webhooks("ticket.message_added") == 1


def test_a_paused_webhook_is_owed_nothing(admin):
    webhook = services.create_webhook(
        actor=admin, url="https://crm.example.com/hook", event_types=[]
    )
    services.update_webhook(actor=admin, webhook_id=webhook.pk, is_active=False)

    make_ticket(actor=admin)

    assert not EventDelivery.objects.filter(handler=WEBHOOKS).exists()


def test_a_change_reads_the_wanted_types_once_for_all_its_events(admin: User):
    services.create_webhook(actor=admin, url="https://crm.example.com/hook", event_types=[])

    with CaptureQueriesContext(connection) as queries, unit_of_work():
        for subject in ("Lamp arrived broken", "Invoice is wrong", "Parcel lost"):
            make_ticket(actor=admin, subject=subject)

    webhook_reads = [q for q in queries.captured_queries if "webhooks_webhook" in q["sql"]]
    assert len(webhook_reads) == 1
    assert owed_to_webhooks("ticket.created") == 3


def test_a_webhook_registered_within_a_change_gets_its_later_events(admin):
    with unit_of_work():
        make_ticket(actor=admin, subject="Before the webhook")
        services.create_webhook(actor=admin, url="https://crm.example.com/hook", event_types=[])
        after = make_ticket(actor=admin, subject="After the webhook")

    owed = EventDelivery.objects.filter(event_name="ticket.created", handler=WEBHOOKS)
    assert [d.payload["number"] for d in owed] == [after.number]
