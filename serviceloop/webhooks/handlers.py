from django.db import transaction

from serviceloop.core import schedules
from serviceloop.core.events import DomainEvent, subscribe_all_durably
from serviceloop.webhooks import queries, services
from serviceloop.webhooks.models import Webhook


def _wanted(event: DomainEvent) -> bool:
    return queries.some_webhook_wants(event.name)


# A webhook registered once the change has read which types are wanted gets the events
# of changes that start after it.
@subscribe_all_durably(when=_wanted)
def deliver_to_webhooks(event: DomainEvent) -> None:
    """After commit, in the worker: queue a signed POST to each webhook that wants the event."""
    if not Webhook.objects.filter(is_active=True).exists():
        return
    with transaction.atomic():
        delivery_ids = services.queue_deliveries(event)

    def enqueue() -> None:
        from serviceloop.webhooks.tasks import send_webhook

        for delivery_id in delivery_ids:
            send_webhook.enqueue(delivery_id=delivery_id)

    # Deliveries are rows first; a send lost between commit and enqueue is found again by
    # the scheduled `retry_due_webhook_deliveries` sweep.
    transaction.on_commit(enqueue)


# Finds deliveries whose send was lost (a crash between commit and enqueue, a killed worker).
schedules.register("retry due webhook deliveries", 30, services.retry_due_webhook_deliveries)
