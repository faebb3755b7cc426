"""Which statements PostgreSQL plans once per connection and reuses (prepared statements).

PostgreSQL plans every statement afresh. For a short insert, or a look-up by a unique key,
the planning costs more than the work: measured on ticket creation, preparing them took
PostgreSQL's CPU per ticket from ~2.3 to ~1.5 ms (bench/README.md). But a reused plan is
chosen without the values, and where the best index depends on them (a queue's statuses
and the partial indexes that serve them) it can be several times slower: preparing every
statement doubled the queue page's time at 1M tickets. So only two kinds are prepared,
once a connection has run the statement a few times (a shape it runs once, such as a
short bulk insert of an unusual number of rows, is not worth preparing):

- every INSERT, whose plan never depends on its values, and
- look-ups by a unique key, which the code running them marks with `key_lookup()`.

Everything else is planned with its values, as Django does by default. The PostgreSQL
backend that applies this is `serviceloop.core.postgresql`; `DATABASE_PREPARED_STATEMENTS
=false` turns it off (for a connection pooler that cannot keep prepared statements).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.db import models

_key_lookup: ContextVar[bool] = ContextVar("key_lookup", default=False)
M = TypeVar("M", bound=models.Model)


@contextmanager
def key_lookup() -> Iterator[None]:
    """Prepare the statements run inside: each finds rows by a unique key (or reads all)."""
    token = _key_lookup.set(True)
    try:
        yield
    finally:
        _key_lookup.reset(token)


def should_prepare(query: object) -> bool:
    if _key_lookup.get():
        return True
    return isinstance(query, str) and query[:6].upper() == "INSERT"


def row_by_key(model: type[M], sql: str, params: Sequence[object]) -> M | None:
    """The one row of `model` that `sql` finds by a unique key, prepared; None if none.

    For the few look-ups every ticket creation makes, written as SQL because building and
    compiling them through the ORM cost more than running them (bench/README.md).
    """
    with key_lookup():
        return next(iter(model._default_manager.raw(sql, params)), None)
