"""Migrations build the schema from nothing, on SQLite and on PostgreSQL, as an operator would."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

from tests.background import run_serviceloop


def _postgresql_configured() -> bool:
    return connection.vendor == "postgresql"


# SQLite always; PostgreSQL too when the suite runs on it (DATABASE_URL).
ENGINES = ["sqlite"] + (["postgresql"] if _postgresql_configured() else [])


@contextmanager
def fresh_postgresql_database() -> Iterator[str]:
    """Create an empty PostgreSQL database next to the test database; drop it after."""
    configured = settings.DATABASES["default"]
    name = ("%s_fresh_%d" % (configured["NAME"], os.getpid()))[-63:]
    host, port = configured["HOST"] or "localhost", configured["PORT"] or 5432
    user, password = configured["USER"], configured["PASSWORD"]
    with psycopg.connect(
        host=host, port=port, user=user, password=password, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            credentials = "%s:%s" % (user, password) if password else user
            yield "postgres://%s@%s:%s/%s" % (credentials, host, port, name)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def fresh_database(engine: str, tmp_path: Path) -> Iterator[str]:
    if engine == "postgresql":
        with fresh_postgresql_database() as url:
            yield url
    else:
        yield "sqlite:///%s" % (tmp_path / "fresh.sqlite3")


def env_for(database_url: str, tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=database_url, SERVICELOOP_VAR_DIR=str(tmp_path / "var"))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_migrations_build_a_fresh_database(engine, tmp_path):
    with fresh_database(engine, tmp_path) as url:
        env = env_for(url, tmp_path)

        migrated = run_serviceloop("migrate", "--no-input", env=env, timeout=180)
        ready = run_serviceloop("check", env=env)  # fails while any migration is unapplied

    assert migrated.returncode == 0, migrated.stderr
    assert "Applying tickets.0001_initial... OK" in migrated.stdout
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "Everything looks ready." in ready.stdout


@pytest.mark.slow
def test_every_model_change_has_its_migration(tmp_path):
    env = env_for("sqlite:///%s" % (tmp_path / "empty.sqlite3"), tmp_path)

    result = run_serviceloop("makemigrations", "--check", "--dry-run", env=env)

    assert result.returncode == 0, "Missing migrations:\n%s%s" % (result.stdout, result.stderr)
    assert "No changes detected" in result.stdout
