"""Webhooks end to end: a ticket change, the outbox, the task worker, a real HTTP receiver.

The worker is `serviceloop worker --burst` run in the test process, so the task backend is
whichever the settings choose: the database backend, or RQ when REDIS_URL is set.
"""

import json
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise

import pytest

from serviceloop.accounts.models import User
from serviceloop.core import clock, events, outbox
from serviceloop.core.models import EventDelivery
from serviceloop.tickets import services as tickets
from serviceloop.webhooks import services
from serviceloop.webhooks.handlers import deliver_to_webhooks
from serviceloop.webhooks.models import Webhook, WebhookDelivery
from serviceloop.webhooks.signing import HEADER, verify
from tests.background import run_worker_burst
from tests.tickets.factories import make_ticket
from tests.webhook_receiver import ReceivedPost, WebhookReceiver, refused_url, webhook_receiver

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("task_queue"),
    pytest.mark.slow,
]


def register(admin: User, url: str, event_types: list[str] | None = None) -> Webhook:
    return services.create_webhook(actor=admin, url=url, event_types=event_types or [])


def work_until(done: Callable[[], bool], *, timeout: float = 15.0) -> None:
    """Run burst workers, as a running worker would keep doing, until `done()` holds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the worker did not get there in %ss" % timeout
        run_worker_burst()
        time.sleep(0.1)


def event_types_received(receiver: WebhookReceiver) -> list[str]:
    return [json.loads(post.body)["type"] for post in receiver.posts]


def delivery_log(delivery: WebhookDelivery) -> list[tuple[int | None, str]]:
    return [(attempt.status_code, attempt.error) for attempt in delivery.log.all()]


def test_a_new_ticket_reaches_the_receiver_as_signed_json(admin):
    with webhook_receiver() as receiver:
        webhook = register(admin, receiver.url, ["ticket.created"])
        ticket = make_ticket(actor=admin)

        run_worker_burst()

    [post] = receiver.posts
    assert verify(webhook.secret, post.headers[HEADER], post.body, now=int(time.time()))
    assert not verify("another secret", post.headers[HEADER], post.body, now=int(time.time()))
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["X-Serviceloop-Event"] == "ticket.created"
    body = json.loads(post.body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "ticket.created"
    assert (body["data"]["ticket_id"], body["data"]["number"]) == (ticket.pk, ticket.number)
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.event_id == body["id"]
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert delivery_log(delivery) == [(200, "")]


def test_a_tampered_body_fails_verification(admin):
    with webhook_receiver() as receiver:
        webhook = register(admin, receiver.url, ["ticket.created"])
        make_ticket(actor=admin)

        run_worker_burst()

    [post] = receiver.posts
    tampered = post.body.replace(b'"ticket.created"', b'"ticket.merged"')
    assert not verify(webhook.secret, post.headers[HEADER], tampered, now=int(time.time()))


def test_each_webhook_gets_only_the_event_types_it_registered_for(admin):
    with (
        webhook_receiver() as created_only,
        webhook_receiver() as status_only,
        webhook_receiver() as everything,
        webhook_receiver() as switched_off,
    ):
        register(admin, created_only.url, ["ticket.created"])
        register(admin, status_only.url, ["ticket.status_changed"])
        register(admin, everything.url)
        services.update_webhook(
            actor=admin, webhook_id=register(admin, switched_off.url).pk, is_active=False
        )
        ticket = make_ticket(actor=admin)
        tickets.solve_ticket(number=ticket.number, agent=admin)

        run_worker_burst()

    assert event_types_received(created_only) == ["ticket.created"]
    assert event_types_received(status_only) == ["ticket.status_changed"]
    assert {"ticket.created", "ticket.message_added", "ticket.status_changed"} <= set(
        event_types_received(everything)
    )
    assert switched_off.posts == []


def test_a_failed_post_is_retried_after_a_backoff_and_both_attempts_are_logged(admin, settings):
    settings.SERVICELOOP_WEBHOOK_BACKOFF_SECONDS = 1.0
    with webhook_receiver(statuses=(500,)) as receiver:
        webhook = register(admin, receiver.url, ["ticket.created"])
        make_ticket(actor=admin)

        run_worker_burst()
        delivery = WebhookDelivery.objects.get(webhook=webhook)
        waiting = (delivery.state, delivery.attempts, len(receiver.posts))
        retry_after = delivery.next_attempt_at - delivery.log.get().attempted_at
        run_worker_burst()
        posts_before_the_backoff = len(receiver.posts)
        work_until(lambda: len(receiver.posts) == 2)

    assert waiting == (WebhookDelivery.State.PENDING, 1, 1)
    assert retry_after >= timedelta(seconds=1)
    assert posts_before_the_backoff == 1
    first, second = receiver.posts
    assert second.received_at - first.received_at >= 1.0
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert delivery.attempts == 2
    assert delivery_log(delivery) == [(500, "HTTP 500"), (200, "")]


def test_a_delivery_fails_for_good_after_the_last_attempt_with_doubling_waits(admin, settings):
    settings.SERVICELOOP_WEBHOOK_BACKOFF_SECONDS = 0.5
    settings.SERVICELOOP_WEBHOOK_MAX_ATTEMPTS = 3
    with webhook_receiver(statuses=(503,) * 10) as receiver:
        webhook = register(admin, receiver.url, ["ticket.created"])
        make_ticket(actor=admin)

        work_until(
            lambda: WebhookDelivery.objects.filter(
                webhook=webhook, state=WebhookDelivery.State.FAILED
            ).exists()
        )
        run_worker_burst()

    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.attempts == 3
    assert delivery.completed_at is not None
    assert delivery_log(delivery) == [(503, "HTTP 503")] * 3
    assert len(receiver.posts) == 3
    assert waits_between(receiver.posts)[1] >= 1.0  # 0.5 s, then twice that


def waits_between(posts: list[ReceivedPost]) -> list[float]:
    return [later.received_at - earlier.received_at for earlier, later in pairwise(posts)]


def test_a_refused_connection_is_logged_as_an_attempt_with_the_error(admin):
    webhook = register(admin, refused_url(), ["ticket.created"])
    make_ticket(actor=admin)

    run_worker_burst()

    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.attempts == 1
    [(status_code, error)] = delivery_log(delivery)
    assert status_code is None
    assert error.startswith("ConnectError")


def test_running_the_durable_handler_twice_sends_the_event_once(admin):
    with webhook_receiver() as receiver:
        webhook = register(admin, receiver.url, ["ticket.created"])
        make_ticket(actor=admin)
        outbox_row = EventDelivery.objects.get(
            event_name="ticket.created", handler__endswith="deliver_to_webhooks"
        )
        event = events.event_type_named(outbox_row.event_name)(**outbox_row.payload)

        deliver_to_webhooks(event)
        deliver_to_webhooks(event)
        run_worker_burst()

    assert WebhookDelivery.objects.filter(webhook=webhook).count() == 1
    assert len(receiver.posts) == 1
    outbox_row.refresh_from_db()
    assert outbox_row.state == EventDelivery.State.DONE


def test_an_attempt_cut_short_by_a_killed_worker_is_logged_and_counted(admin, settings):
    with webhook_receiver() as receiver:
        webhook = register(admin, receiver.url, ["ticket.created"])
        make_ticket(actor=admin)
        outbox.deliver_pending()
        delivery = WebhookDelivery.objects.get(webhook=webhook)
        # What a worker killed mid-POST leaves behind: the delivery still `sending`, under
        # a lease that has since run out.
        started = clock.now() - timedelta(minutes=10)
        lease = (
            settings.SERVICELOOP_WEBHOOK_TIMEOUT_SECONDS
            + settings.SERVICELOOP_DELIVERY_LEASE_SECONDS
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.SENDING, lease_until=started + timedelta(seconds=lease)
        )

        state = services.attempt_delivery(delivery_id=delivery.pk)

    assert state == WebhookDelivery.State.SUCCEEDED
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    log = list(delivery.log.all())
    assert [(a.status_code, a.error.split(":")[0]) for a in log] == [
        (None, "Interrupted"),
        (200, ""),
    ]
    assert abs((log[0].attempted_at - started).total_seconds()) < 1
    assert len(receiver.posts) == 1
