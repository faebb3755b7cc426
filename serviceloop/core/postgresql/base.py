"""Django's PostgreSQL backend, preparing the statements `core.prepared` says to prepare,
and writing short bulk inserts as VALUES rows (`compiler.py`)."""

from typing import Any, Self, overload

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg.abc import Params, QueryNoTemplate, Template

from serviceloop.core.prepared import should_prepare

# A statement that may be prepared is prepared when a connection runs it the third time,
# so a shape run once (an unusual statement) is never prepared and then evicted.
PREPARE_ON_RUN = 3


class PreparingCursor(base.CursorMixin, psycopg.Cursor[Any]):
    """Django's server-binding cursor (a prepared statement needs the parameters apart)."""

    @overload
    def execute(
        self,
        query: QueryNoTemplate,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self: ...

    @overload
    def execute(
        self, query: Template, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Self: ...

    def execute(
        self,
        query: Any,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        # Without parameters a statement may hold several commands, which cannot be prepared
        # (migrations, raw SQL); the ORM always passes parameters, even none.
        if prepare is None and (params is None or not should_prepare(query)):
            prepare = False
        return super().execute(query, params, prepare=prepare, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "serviceloop.core.postgresql.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        params["cursor_factory"] = PreparingCursor
        params["prepare_threshold"] = PREPARE_ON_RUN - 1
        return params
