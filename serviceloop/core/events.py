"""Domain events, and the two kinds of subscriber DESIGN.md describes.

* In-transaction subscribers run inside the publishing service's transaction; if one fails
  the change fails.
* Durable subscribers never run in the request. `publish` writes one `EventDelivery` row per
  durable subscriber in the same transaction as the change (the outbox), and the worker
  claims and runs them (`serviceloop.core.outbox`). A crash between commit and delivery
  loses nothing, and every durable handler must be safe to run twice. Inside
  `batching.batched_inserts()` the rows are written at the end of the block, together.
  A durable subscriber may say `when` it has work: a test of the event, run at publish
  time, so that no row is written (and no worker runs) for a delivery that would do
  nothing, such as an email for a customer's own message or a webhook nobody registered.

Payloads are JSON: ids and plain values, never model instances.
"""

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.db import connection

from serviceloop.core import batching

E = TypeVar("E", bound="DomainEvent")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened; `name` is its stable, public type (also used by webhooks)."""

    name: ClassVar[str] = ""
    # Unique per event, so a subscriber run twice can recognise what it already did.
    event_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: str = dataclasses.field(default_factory=lambda: _now_iso())

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _now_iso() -> str:
    from serviceloop.core import clock

    return clock.now().isoformat()


Handler = Callable[[Any], None]
# Whether a durable handler has work for an event; it must not write to the database.
HasWork = Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class DurableSubscriber:
    handler: Handler
    when: HasWork | None = None

    def has_work(self, event: DomainEvent) -> bool:
        return self.when is None or self.when(event)


_event_types: dict[str, type[DomainEvent]] = {}
_in_transaction: dict[str, list[Handler]] = {}
_durable: dict[str, dict[str, DurableSubscriber]] = {}
# Durable handlers for every event type, including types registered after them.
_durable_all: dict[str, DurableSubscriber] = {}


def register(event_type: type[E]) -> type[E]:
    """Class decorator: make an event type known by its name (needed to rebuild it later)."""
    if not event_type.name:
        raise TypeError(f"{event_type.__qualname__} needs a `name`")
    _event_types[event_type.name] = event_type
    return event_type


def event_type_named(name: str) -> type[DomainEvent]:
    return _event_types[name]


def event_names() -> list[str]:
    return sorted(_event_types)


def handler_path(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def subscribe(
    *event_types: type[DomainEvent], durable: bool, when: HasWork | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler for these event types; `durable` says which kind it is.

    `when` (durable handlers only) tells from the event whether the handler has work for
    it; an event it says no to gets no delivery row.
    """
    if when is not None and not durable:
        raise TypeError("`when` applies to durable subscribers only")

    def decorator(handler: Handler) -> Handler:
        for event_type in event_types:
            if durable:
                subscriber = DurableSubscriber(handler, when)
                _durable.setdefault(event_type.name, {})[handler_path(handler)] = subscriber
            else:
                handlers = _in_transaction.setdefault(event_type.name, [])
                if handler not in handlers:
                    handlers.append(handler)
        return handler

    return decorator


def subscribe_all_durably(*, when: HasWork | None = None) -> Callable[[Handler], Handler]:
    """Register a durable handler for every event type, present and future (e.g. webhooks)."""

    def decorator(handler: Handler) -> Handler:
        _durable_all[handler_path(handler)] = DurableSubscriber(handler, when)
        return handler

    return decorator


def _durable_subscribers(event_name: str) -> dict[str, DurableSubscriber]:
    return {**_durable.get(event_name, {}), **_durable_all}


def durable_handler(event_name: str, path: str) -> Handler | None:
    subscriber = _durable_subscribers(event_name).get(path)
    return subscriber.handler if subscriber is not None else None


def publish(event: DomainEvent) -> None:
    """Run in-transaction subscribers now and queue durable ones in the same transaction.

    The caller must hold a transaction: the delivery rows commit or roll back with the change.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the service's transaction")
    for handler in _in_transaction.get(event.name, []):
        handler(event)
    owed = [
        path
        for path, subscriber in _durable_subscribers(event.name).items()
        if subscriber.has_work(event)
    ]
    if owed:
        from serviceloop.core.models import EventDelivery

        payload = event.to_payload()
        batching.insert_later(
            EventDelivery(event_name=event.name, payload=payload, handler=path) for path in owed
        )
