"""The transaction a service runs in: one unit of work, however many services it calls.

A service that runs on its own opens a transaction (or, inside someone else's, a
savepoint), and its event log and outbox rows are written together at its end
(`batching.batched_inserts`). A service that another service (or a mail import) runs
joins that caller's unit of work: no savepoint of its own, because if it fails the caller
fails too, and its rows are written with the caller's. A caller that catches a failure and
goes on must give the failing part its own savepoint: `unit_of_work(savepoint=True)`.

`remembered` keeps, for the length of the outermost unit of work, a value the change reads
again and again but does not change (which event types webhooks want, say): a mail import
batch reads it once, not once per message. Code that changes what such a value was read
from calls `forget`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection, transaction

from serviceloop.core.batching import batched_inserts

T = TypeVar("T")

_inside: ContextVar[bool] = ContextVar("unit_of_work", default=False)
_remembered: ContextVar[dict[str, Any] | None] = ContextVar("remembered", default=None)


@contextmanager
def unit_of_work(*, savepoint: bool = False) -> Iterator[None]:
    """Run the block as (part of) one unit of work; usable as a decorator."""
    joining = _inside.get() and connection.in_atomic_block
    token = _inside.set(True)
    memo = _remembered.set(_remembered.get() if joining else {})
    try:
        with transaction.atomic(savepoint=savepoint or not joining), batched_inserts():
            yield
    finally:
        _remembered.reset(memo)
        _inside.reset(token)


def remembered(key: str, read: Callable[[], T]) -> T:
    """`read()`, once per unit of work; outside one, every time."""
    memo = _remembered.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    value: T = memo[key]
    return value


def forget(key: str) -> None:
    """Drop what this unit of work remembered under `key`: it has just changed it."""
    memo = _remembered.get()
    if memo is not None:
        memo.pop(key, None)
