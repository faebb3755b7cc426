from serviceloop.core import transactions
from serviceloop.webhooks.models import Webhook

# The key under which a unit of work remembers `wanted_event_types()`.
WANTED_EVENT_TYPES = "webhooks.wanted_event_types"


def wanted_event_types() -> frozenset[str] | None:
    """The event types some active webhook wants; None when one wants every type."""
    wanted: set[str] = set()
    for event_types in Webhook.objects.filter(is_active=True).values_list("event_types", flat=True):
        if not event_types:
            return None
        wanted.update(event_types)
    return frozenset(wanted)


def some_webhook_wants(event_name: str) -> bool:
    """Whether an active webhook wants this event type (read once per unit of work)."""
    wanted = transactions.remembered(WANTED_EVENT_TYPES, wanted_event_types)
    return wanted is None or event_name in wanted
