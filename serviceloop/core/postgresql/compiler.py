"""Django's PostgreSQL SQL compilers, writing a small bulk insert as plain VALUES rows.

Django writes every multi-row insert as `INSERT ... SELECT * FROM UNNEST(arrays)`, which
saves PostgreSQL's planning on a long batch. A service's own batches are short (a ticket's
two events), and for them building the arrays costs the web process more than it saves:
two event rows took 0.36 ms of client CPU through UNNEST against 0.23 ms as VALUES; the
two were even at 30 rows, and UNNEST took half the time at 500 (bench/README.md).
Each short shape is its own statement, prepared once a connection has run it a few times.
"""

from typing import Any

from django.db.backends.postgresql import compiler
from django.db.backends.postgresql.compiler import (
    SQLAggregateCompiler,
    SQLCompiler,
    SQLDeleteCompiler,
    SQLUpdateCompiler,
)
from django.db.models.sql.compiler import SQLInsertCompiler as PlainSQLInsertCompiler

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]

# Up to this many rows an insert is written as VALUES rows; longer ones through UNNEST.
LONGEST_VALUES_INSERT = 10


class SQLInsertCompiler(compiler.SQLInsertCompiler):
    def assemble_as_sql(self, fields: Any, value_rows: Any) -> Any:
        if len(value_rows) <= LONGEST_VALUES_INSERT:
            return PlainSQLInsertCompiler.assemble_as_sql(self, fields, value_rows)
        return super().assemble_as_sql(fields, value_rows)
