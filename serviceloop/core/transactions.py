"""The transaction a service runs in: one unit of work, however many services it calls.

A service that runs on its own opens a transaction (or, inside someone else's, a
savepoint), and its event log and outbox rows are written together at its end
(`batching.batched_inserts`). A service that another service (or a mail import) runs
joins that caller's unit of work: no savepoint of its own, because if it fails the caller
fails too, and its rows are written with the caller's. A caller that catches a failure and
goes on must give the failing part its own savepoint: `unit_of_work(savepoint=True)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

from serviceloop.core.batching import batched_inserts

_inside: ContextVar[bool] = ContextVar("unit_of_work", default=False)


@contextmanager
def unit_of_work(*, savepoint: bool = False) -> Iterator[None]:
    """Run the block as (part of) one unit of work; usable as a decorator."""
    joining = _inside.get() and connection.in_atomic_block
    token = _inside.set(True)
    try:
        with transaction.atomic(savepoint=savepoint or not joining), batched_inserts():
            yield
    finally:
        _inside.reset(token)
