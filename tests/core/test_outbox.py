"""The outbox: durable deliveries commit with the change and are claimed, run and retried."""

import threading
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection, transaction

from serviceloop.accounts.models import User
from serviceloop.core import clock, events, outbox
from serviceloop.core.models import EventDelivery
from serviceloop.tickets.models import Ticket
from tests.tickets.factories import make_ticket


@dataclass(frozen=True, kw_only=True)
class ParcelScanned(events.DomainEvent):
    """An event only these tests publish, so no real subscriber gets it."""

    name = "test.parcel_scanned"
    parcel: str


@dataclass
class ParcelSubscriber:
    """What the durable subscriber saw; it raises while `failures_left` is positive."""

    seen: list[str] = field(default_factory=list)
    failures_left: int = 0


@pytest.fixture
def subscriber(monkeypatch: pytest.MonkeyPatch) -> ParcelSubscriber:
    """A durable subscriber to ParcelScanned, registered for this test only."""
    monkeypatch.setattr(events, "_event_types", dict(events._event_types))
    monkeypatch.setattr(events, "_durable", {k: dict(v) for k, v in events._durable.items()})
    events.register(ParcelScanned)
    state = ParcelSubscriber()

    @events.subscribe(ParcelScanned, durable=True)
    def record_parcel(event: ParcelScanned) -> None:
        state.seen.append(event.parcel)
        if state.failures_left:
            state.failures_left -= 1
            raise ConnectionError("The parcel tracker did not answer.")

    return state


def publish_parcel(parcel: str) -> None:
    with transaction.atomic():
        events.publish(ParcelScanned(parcel=parcel))


def parcel_deliveries() -> list[EventDelivery]:
    """The deliveries owed to the test subscriber (webhooks are owed every event too)."""
    return list(
        EventDelivery.objects.filter(
            event_name=ParcelScanned.name, handler__endswith=".record_parcel"
        ).order_by("id")
    )


def claim_parcels(*, worker_id: str) -> list[EventDelivery]:
    return [d for d in outbox.claim_deliveries(worker_id=worker_id) if d.handler.endswith("parcel")]


class RequestFailed(Exception):
    pass


def open_a_ticket_then_fail(admin: User) -> None:
    """A request that fails after the change, before its transaction commits."""
    with transaction.atomic():
        make_ticket(actor=admin)
        raise RequestFailed


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_delivery_behind(admin):
    with pytest.raises(RequestFailed):
        open_a_ticket_then_fail(admin)

    assert not Ticket.objects.exists()
    assert not EventDelivery.objects.exists()


@pytest.mark.django_db
def test_a_committed_change_leaves_its_deliveries_pending(admin, webhook_for_every_event):
    ticket = make_ticket(actor=admin)

    created = EventDelivery.objects.get(
        event_name="ticket.created", handler__endswith=".deliver_to_webhooks"
    )
    assert created.state == EventDelivery.State.PENDING
    assert created.payload["ticket_id"] == ticket.pk
    assert created.payload["number"] == ticket.number


@pytest.mark.django_db
def test_a_subscriber_is_owed_only_the_events_it_says_it_has_work_for(subscriber):
    @events.subscribe(ParcelScanned, durable=True, when=lambda e: e.parcel.startswith("EXP"))
    def send_express_notice(event: ParcelScanned) -> None:
        pass

    publish_parcel("STD-1")
    publish_parcel("EXP-2")

    express = EventDelivery.objects.filter(handler__endswith=".send_express_notice")
    assert [d.payload["parcel"] for d in express] == ["EXP-2"]
    assert [d.payload["parcel"] for d in parcel_deliveries()] == ["STD-1", "EXP-2"]


def test_only_a_durable_subscriber_takes_a_when():
    with pytest.raises(TypeError):
        events.subscribe(ParcelScanned, durable=False, when=lambda e: True)


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_get_the_same_delivery(subscriber):
    for n in range(40):
        publish_parcel(f"parcel-{n}")
    claimed: dict[str, list[int]] = {"worker-a": [], "worker-b": []}
    start = threading.Barrier(2)

    def claim_until_empty(worker_id: str) -> None:
        try:
            start.wait()
            while batch := outbox.claim_deliveries(worker_id=worker_id, limit=3):
                claimed[worker_id] += [delivery.pk for delivery in batch]
        finally:
            connection.close()

    workers = [threading.Thread(target=claim_until_empty, args=(name,)) for name in claimed]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    a, b = set(claimed["worker-a"]), set(claimed["worker-b"])
    assert len(a) == len(claimed["worker-a"])
    assert len(b) == len(claimed["worker-b"])
    assert not a & b
    everything = EventDelivery.objects.all()
    assert len(everything) == 40  # to the test subscriber only: no webhook is registered
    assert a | b == {delivery.pk for delivery in everything}
    for delivery in everything:
        assert delivery.state == EventDelivery.State.RUNNING
        assert delivery.claimed_by == ("worker-a" if delivery.pk in a else "worker-b")


@pytest.mark.django_db
def test_a_failing_handler_is_tried_again_after_a_backoff(subscriber):
    subscriber.failures_left = 1
    publish_parcel("parcel-1")
    start = clock.now()

    outbox.deliver_pending(worker_id="w1")
    [delivery] = parcel_deliveries()
    outbox.deliver_pending(worker_id="w1")
    tries_before_the_backoff = len(subscriber.seen)
    with clock.frozen_at(start + timedelta(seconds=3)):
        outbox.deliver_pending(worker_id="w1")

    assert delivery.state == EventDelivery.State.PENDING
    assert delivery.attempts == 1
    assert "The parcel tracker did not answer." in delivery.last_error
    assert delivery.available_at - start >= timedelta(seconds=2)
    assert tries_before_the_backoff == 1
    assert subscriber.seen == ["parcel-1", "parcel-1"]
    [delivery] = parcel_deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("done", 2, "")


@pytest.mark.django_db
def test_a_handler_that_keeps_failing_is_marked_failed_after_the_last_attempt(subscriber):
    subscriber.failures_left = 1000
    publish_parcel("parcel-1")
    start = clock.now()

    for hour in range(outbox.MAX_ATTEMPTS + 3):
        with clock.frozen_at(start + timedelta(hours=hour)):
            outbox.deliver_pending(worker_id="w1")

    [delivery] = parcel_deliveries()
    assert delivery.state == EventDelivery.State.FAILED
    assert delivery.attempts == outbox.MAX_ATTEMPTS
    assert len(subscriber.seen) == outbox.MAX_ATTEMPTS


@pytest.mark.django_db
def test_a_lease_that_ran_out_is_taken_over_by_another_worker(subscriber, settings):
    settings.SERVICELOOP_DELIVERY_LEASE_SECONDS = 5
    publish_parcel("parcel-1")
    start = clock.now()

    [lost] = claim_parcels(worker_id="killed-worker")  # and then it died
    claimed_while_leased = claim_parcels(worker_id="w2")
    with clock.frozen_at(start + timedelta(seconds=6)):
        [taken_over] = claim_parcels(worker_id="w2")
        outbox.run_delivery(taken_over, worker_id="w2")

    assert claimed_while_leased == []
    assert taken_over.pk == lost.pk
    [delivery] = parcel_deliveries()
    assert (delivery.state, delivery.claimed_by) == ("done", "w2")
    assert subscriber.seen == ["parcel-1"]


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_cannot_overwrite_the_result(subscriber, settings):
    settings.SERVICELOOP_DELIVERY_LEASE_SECONDS = 5
    publish_parcel("parcel-1")
    start = clock.now()
    [slow] = claim_parcels(worker_id="slow-worker")
    with clock.frozen_at(start + timedelta(seconds=6)):
        [taken_over] = claim_parcels(worker_id="w2")
        outbox.run_delivery(taken_over, worker_id="w2")
    subscriber.failures_left = 1

    succeeded = outbox.run_delivery(slow, worker_id="slow-worker")

    assert not succeeded
    [delivery] = parcel_deliveries()
    assert (delivery.state, delivery.claimed_by, delivery.attempts) == ("done", "w2", 1)
    assert delivery.last_error == ""
