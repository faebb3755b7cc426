"""Shared fixtures: agents of each role, teams, API clients with real tokens."""

import uuid
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from serviceloop.accounts.models import ApiToken, Role, User
from serviceloop.accounts.services import create_api_token
from serviceloop.core import outbox
from tests.accounts.factories import AgentFactory, TeamFactory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Keep a SQLite test database in a file, as in production, so worker processes can open it.

    Django would otherwise test SQLite in memory, which no second process can see.

    On PostgreSQL the test process runs without the web server's connection pool. It is no
    web server: the test client keeps one connection open across requests, so the pool would
    not be exercised per request anyway. It is also a worker (`run_worker_burst` runs RQ
    here, which forks per job and must not share pooled sockets), and under pytest-django a
    pool outlives what Django's test set-up expects: the test database is created without
    closing a pool opened before it, and cannot be dropped while a thread still holds a
    pooled connection. Which processes get a pool is tested in tests/core/test_database_pool.py.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)
    database.get("OPTIONS", {}).pop("pool", None)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _plain_static_files(settings) -> None:  # type: ignore[no-untyped-def]
    # Pages link static files; tests do not run collectstatic, so skip the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings) -> None:  # type: ignore[no-untyped-def]
    # With REDIS_URL the cache is one Redis shared by parallel test processes; a key prefix
    # per test keeps rate-limit counters and presence of one test out of another.
    default = settings.CACHES["default"]
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # PBKDF2 at production strength costs ~0.5 s per agent a factory creates; tests check
    # who may do what, not the hash. PBKDF2 stays second so passwords set by a subprocess
    # (`serviceloop createadmin`) still verify.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture
def agent(db) -> User:  # type: ignore[no-untyped-def]
    return AgentFactory(role=Role.AGENT)


@pytest.fixture
def admin(db) -> User:  # type: ignore[no-untyped-def]
    return AgentFactory(role=Role.ADMIN, username="admin-user")


@pytest.fixture
def supervisor(db) -> User:  # type: ignore[no-untyped-def]
    return AgentFactory(role=Role.SUPERVISOR)


@pytest.fixture
def contributor(db) -> User:  # type: ignore[no-untyped-def]
    return AgentFactory(role=Role.CONTRIBUTOR)


@pytest.fixture
def team(db, agent):  # type: ignore[no-untyped-def]
    team = TeamFactory()
    team.members.add(agent)
    return team


class ApiClient(Client):
    """A Django test client that sends a real bearer token and JSON bodies."""

    def __init__(self, key: str | None) -> None:
        super().__init__(headers={"Authorization": f"Bearer {key}"} if key else {})

    def post_json(self, path: str, data: object = None, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.post(path, data=data or {}, content_type="application/json", **kwargs)  # type: ignore[arg-type]

    def patch_json(self, path: str, data: object, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.patch(path, data=data, content_type="application/json", **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def api_client_for(db) -> Callable[..., ApiClient]:  # type: ignore[no-untyped-def]
    def make(user: User | None, scope: str = ApiToken.Scope.WRITE) -> ApiClient:
        if user is None:
            return ApiClient(None)
        _token, key = create_api_token(owner=user, scope=scope)
        return ApiClient(key)

    return make


@pytest.fixture
def api(api_client_for, agent) -> ApiClient:  # type: ignore[no-untyped-def]
    return api_client_for(agent)


@pytest.fixture
def deliver_events() -> Callable[[], int]:
    """Run the outbox as the worker would: every due durable delivery, now."""
    return lambda: outbox.deliver_pending(worker_id="test")


@pytest.fixture
def webhook_for_every_event(admin):  # type: ignore[no-untyped-def]
    """An active webhook that wants every event type: each event then owes it a delivery."""
    from serviceloop.webhooks import services as webhooks

    return webhooks.create_webhook(actor=admin, url="https://hooks.example.com/all", event_types=[])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The test database, whose left-over sessions are ended before it is dropped (PostgreSQL).

    A live server's request thread keeps its database connection while the browser keeps
    its HTTP connection alive, so at the end of the run PostgreSQL may still have a session
    on the test database, and refuses to drop it ("is being accessed by other users").
    """
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
