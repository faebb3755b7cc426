from django.db import transaction

from serviceloop.accounts import events as _accounts_events  # noqa: F401  (registers types)
from serviceloop.core.events import DomainEvent, subscribe_all
from serviceloop.customers import events as _customers_events  # noqa: F401
from serviceloop.tickets import events as _tickets_events  # noqa: F401
from serviceloop.webhooks import services
from serviceloop.webhooks.models import Webhook


@subscribe_all(durable=True)
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
