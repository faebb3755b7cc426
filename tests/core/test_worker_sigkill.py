"""`serviceloop worker` killed with SIGKILL in the middle of a delivery loses nothing."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from serviceloop.core import clock
from serviceloop.core.models import EventDelivery
from serviceloop.webhooks import services
from serviceloop.webhooks.models import WebhookDelivery
from tests.background import kill_process_tree, process_env, worker_process
from tests.tickets.factories import make_ticket
from tests.webhook_receiver import webhook_receiver


def wait_until(done: Callable[[], object], *, timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            output = "\n".join(f"--- {log.name}\n{log.read_text()}" for log in logs)
            pytest.fail("Gave up after %ss. Worker output:\n%s" % (timeout, output))
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("task_queue")
def test_a_worker_killed_mid_delivery_loses_no_event(admin, tmp_path):
    env = process_env(
        tmp_path / "var",
        # A sender holds a delivery for the POST timeout plus the lease: 3 s here.
        SERVICELOOP_DELIVERY_LEASE_SECONDS="1",
        SERVICELOOP_WEBHOOK_TIMEOUT_SECONDS="2",
        # Exported for the web server, the pool must still not reach the worker: RQ's forked
        # children would share its sockets, and a delivery would hang or fail at random.
        SERVICELOOP_DATABASE_POOL="true",
    )
    logs = [tmp_path / "first-worker.log", tmp_path / "second-worker.log"]
    with webhook_receiver(delay=0.6) as receiver:
        webhook = services.create_webhook(
            actor=admin, url=receiver.url, event_types=["ticket.created"]
        )
        tickets = [make_ticket(actor=admin) for _ in range(3)]

        with worker_process(env, logs[0]) as first_worker:
            wait_until(lambda: receiver.posts, timeout=20, logs=logs)
            kill_process_tree(first_worker)  # while the receiver is still answering
        in_flight = WebhookDelivery.objects.filter(state=WebhookDelivery.State.SENDING).get()
        # A supervisor restarts the worker; the killed one's claim runs out meanwhile.
        lease_until = in_flight.lease_until
        assert lease_until is not None
        wait_until(lambda: lease_until < clock.now(), timeout=10, logs=logs)
        with worker_process(env, logs[1]):
            wait_until(
                lambda: (
                    WebhookDelivery.objects.filter(
                        webhook=webhook, state=WebhookDelivery.State.SUCCEEDED
                    ).count()
                    == len(tickets)
                ),
                timeout=20,
                logs=logs,
            )

    deliveries = WebhookDelivery.objects.filter(webhook=webhook)
    assert sorted(d.payload["data"]["number"] for d in deliveries) == [t.number for t in tickets]
    assert all(d.state == WebhookDelivery.State.SUCCEEDED for d in deliveries)
    received = [post.headers["X-Serviceloop-Delivery"] for post in receiver.posts]
    assert set(received) == {str(d.pk) for d in deliveries}
    assert received.count(str(in_flight.pk)) == 2  # the killed POST, and the one that landed
    assert not EventDelivery.objects.exclude(state=EventDelivery.State.DONE).exists()
