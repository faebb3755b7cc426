"""Append-only rows a service adds as it goes, written in one INSERT per table at its end.

Every change appends rows to the event log and the outbox: creating a ticket adds two
events and their deliveries, a mail import adds them for each message. Inside
`batched_inserts()` such rows are collected and written together when the block ends,
still inside the service's transaction, each table's rows in the order they were added.

Blocks nest. An inner block that ends normally hands its rows to the outer one; one left by
an exception drops its rows, just as leaving a savepoint by an exception rolls back the
changes those rows describe. Only rows that nothing in the same block reads back belong
here (`insert_later` is used for the event log and the outbox, which nobody reads inside
the change that writes them).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, models

_open_blocks: ContextVar[tuple[list[models.Model], ...]] = ContextVar("batched_inserts", default=())


@contextmanager
def batched_inserts() -> Iterator[None]:
    """Collect `insert_later` rows in this block; write them when the outermost block ends."""
    rows: list[models.Model] = []
    token = _open_blocks.set((*_open_blocks.get(), rows))
    try:
        yield
    finally:
        _open_blocks.reset(token)
    outer = _open_blocks.get()
    if outer:
        outer[-1].extend(rows)
    else:
        _write(rows)


def insert_later(rows: Iterable[models.Model]) -> None:
    """Insert these new rows now, or at the end of the open `batched_inserts()` block."""
    open_blocks = _open_blocks.get()
    if open_blocks:
        open_blocks[-1].extend(rows)
    else:
        _write(list(rows))


def _write(rows: list[models.Model]) -> None:
    if not rows:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("batched rows must be written inside the service's transaction")
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    for model, model_rows in by_model.items():
        model._default_manager.bulk_create(model_rows)
