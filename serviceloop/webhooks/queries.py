from serviceloop.core import transactions
from serviceloop.core.prepared import key_lookup
from serviceloop.webhooks.models import Webhook

# The key under which a unit of work remembers `active_webhooks()`.
ACTIVE_WEBHOOKS = "webhooks.active"


def active_webhooks() -> list[Webhook]:
    # A short table read whole: its plan never depends on anything. Every change asks, so
    # it is written as SQL: 0.07 ms of Python against 0.18 ms through the ORM
    # (bench/README.md).
    with key_lookup():
        return list(
            Webhook.objects.raw(
                "SELECT id, is_active, event_types FROM webhooks_webhook WHERE is_active = %s",
                [True],
            )
        )


def some_webhook_wants(event_name: str) -> bool:
    """Whether an active webhook wants this event type (read once per unit of work)."""
    webhooks = transactions.remembered(ACTIVE_WEBHOOKS, active_webhooks)
    return any(webhook.wants(event_name) for webhook in webhooks)
