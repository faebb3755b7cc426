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

# A row, and whether a row already there with the same unique key makes it unneeded.
_Pending = tuple[models.Model, bool]
_open_blocks: ContextVar[tuple[list[_Pending], ...]] = ContextVar("batched_inserts", default=())


@contextmanager
def batched_inserts() -> Iterator[None]:
    """Collect `insert_later` rows in this block; write them when the outermost block ends."""
    rows: list[_Pending] = []
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


def insert_later(rows: Iterable[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert these new rows now, or at the end of the open `batched_inserts()` block.

    `ignore_conflicts`: a row whose unique key is taken already is skipped, not an error.
    """
    pending = [(row, ignore_conflicts) for row in rows]
    open_blocks = _open_blocks.get()
    if open_blocks:
        open_blocks[-1].extend(pending)
    else:
        _write(pending)


def _write(rows: list[_Pending]) -> None:
    if not rows:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("batched rows must be written inside the service's transaction")
    by_kind: dict[tuple[type[models.Model], bool], list[models.Model]] = {}
    for row, ignore_conflicts in rows:
        by_kind.setdefault((type(row), ignore_conflicts), []).append(row)
    for (model, ignore_conflicts), model_rows in by_kind.items():
        model._default_manager.bulk_create(model_rows, ignore_conflicts=ignore_conflicts)
