"""The worker's side of the outbox: claim event deliveries, run durable handlers, record.

Claims are leases. A worker that dies (even by SIGKILL) leaves its deliveries `running`
with a lease in the past, and the next claim by any worker takes them over, so a delivery
is never lost; it may run twice, which every durable handler tolerates.
"""

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from serviceloop.core import clock, events
from serviceloop.core.models import EventDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 3600))


def claim_deliveries(*, worker_id: str, limit: int = 50) -> list[EventDelivery]:
    """Take up to `limit` due deliveries for this worker; no two workers get the same one."""
    at = clock.now()
    lease = timedelta(seconds=settings.SERVICELOOP_DELIVERY_LEASE_SECONDS)
    due = Q(state=EventDelivery.State.PENDING, available_at__lte=at) | Q(
        state=EventDelivery.State.RUNNING, lease_until__lt=at
    )
    with transaction.atomic():
        candidates = EventDelivery.objects.filter(due).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        # On SQLite the IMMEDIATE transaction already holds the database write lock, so the
        # select and the update below cannot interleave with another worker's.
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        EventDelivery.objects.filter(id__in=ids).update(
            state=EventDelivery.State.RUNNING, claimed_by=worker_id, lease_until=at + lease
        )
    return list(EventDelivery.objects.filter(id__in=ids, claimed_by=worker_id).order_by("id"))


def run_delivery(delivery: EventDelivery, *, worker_id: str) -> bool:
    """Run one claimed delivery; return True when its handler succeeded."""
    handler = events.durable_handler(delivery.event_name, delivery.handler)
    mine = EventDelivery.objects.filter(pk=delivery.pk, claimed_by=worker_id)
    if handler is None:
        mine.update(
            state=EventDelivery.State.FAILED,
            last_error="No subscriber %s for %s" % (delivery.handler, delivery.event_name),
        )
        return False
    try:
        event = events.event_type_named(delivery.event_name)(**delivery.payload)
        handler(event)
    except Exception:
        attempts = delivery.attempts + 1
        logger.exception("Delivery %s to %s failed", delivery.pk, delivery.handler)
        mine.update(
            state=(
                EventDelivery.State.FAILED
                if attempts >= MAX_ATTEMPTS
                else EventDelivery.State.PENDING
            ),
            attempts=attempts,
            available_at=clock.now() + _retry_delay(attempts),
            lease_until=None,
            last_error=traceback.format_exc()[-4000:],
        )
        return False
    mine.update(
        state=EventDelivery.State.DONE,
        attempts=delivery.attempts + 1,
        done_at=clock.now(),
        lease_until=None,
        last_error="",
    )
    return True


def deliver_pending(*, worker_id: str = "inline", limit: int = 50) -> int:
    """Claim and run due deliveries until none are left; return how many ran."""
    ran = 0
    while batch := claim_deliveries(worker_id=worker_id, limit=limit):
        for delivery in batch:
            run_delivery(delivery, worker_id=worker_id)
            ran += 1
    return ran
