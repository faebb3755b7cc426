"""Finished background work is cleared away after its keeping time; failures stay."""

from datetime import timedelta

import pytest

from serviceloop.core import clock, schedules
from serviceloop.core.housekeeping import prune_finished_work
from serviceloop.core.models import EventDelivery

pytestmark = pytest.mark.django_db


def delivery(state: str, *, done_days_ago: float | None) -> EventDelivery:
    done_at = clock.now() - timedelta(days=done_days_ago) if done_days_ago is not None else None
    return EventDelivery.objects.create(
        event_name="ticket.created",
        payload={"number": 1042},
        handler="serviceloop.webhooks.handlers.deliver_to_webhooks",
        state=state,
        done_at=done_at,
    )


def test_delivered_outbox_rows_go_after_the_keeping_time_and_failed_ones_stay(settings):
    settings.SERVICELOOP_KEEP_FINISHED_WORK_DAYS = 14
    old_done = delivery(EventDelivery.State.DONE, done_days_ago=15)
    recent_done = delivery(EventDelivery.State.DONE, done_days_ago=13)
    old_failed = delivery(EventDelivery.State.FAILED, done_days_ago=None)
    pending = delivery(EventDelivery.State.PENDING, done_days_ago=None)

    assert prune_finished_work() == 1

    left = set(EventDelivery.objects.values_list("id", flat=True))
    assert left == {recent_done.pk, old_failed.pk, pending.pk}
    assert old_done.pk not in left


def test_every_app_registers_its_sweeps_with_the_worker():
    names = {schedule.name for schedule in schedules.registered()}

    assert names >= {
        "close solved tickets",
        "retry due webhook deliveries",
        "send due outbound email",
        "poll IMAP inboxes",
        "prune finished background work",
    }
    poll = next(s for s in schedules.registered() if s.name == "poll IMAP inboxes")
    assert poll.every_seconds > 0
