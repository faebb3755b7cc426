"""Which processes get PostgreSQL's connection pool: the web server does, the worker never.

The settings are read without connecting, so the PostgreSQL address below needs nothing
listening, and these tests mean the same on the SQLite pass.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.background import process_env, run_serviceloop

pytestmark = pytest.mark.slow

POSTGRESQL = "postgres://postgres@127.0.0.1:1/serviceloop"
# RQ runs the worker's tasks when REDIS_URL is set; nothing listens here either.
REDIS = "redis://127.0.0.1:1/0"

SHOW_DATABASE = """
import json
from django.conf import settings
database = settings.DATABASES["default"]
print(json.dumps({"pool": "pool" in database["OPTIONS"], "conn_max_age": database["CONN_MAX_AGE"]}))
"""


def environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = process_env(var_dir, DATABASE_URL=POSTGRESQL)
    for name in ("SERVICELOOP_DATABASE_POOL", "CONN_MAX_AGE"):
        env.pop(name, None)  # as a fresh shell has them
    env.update(overrides)
    return env


def python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run this Python with `args` in the project folder, as an operator would."""
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def web_server_database(env: dict[str, str]) -> dict[str, object]:
    """The database settings of a process that loads Serviceloop as the web server does."""
    result = python("-c", "import serviceloop.wsgi\n" + SHOW_DATABASE, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_web_server_gets_a_connection_pool(tmp_path):
    assert web_server_database(environment(tmp_path)) == {"pool": True, "conn_max_age": 0}


def test_the_web_server_pool_can_be_turned_off(tmp_path):
    env = environment(tmp_path, SERVICELOOP_DATABASE_POOL="false")

    assert web_server_database(env) == {"pool": False, "conn_max_age": 60}


def test_operator_commands_run_without_a_pool(tmp_path):
    env = environment(tmp_path)

    result = run_serviceloop("shell", "--no-imports", "-c", SHOW_DATABASE, env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"pool": False, "conn_max_age": 60}


def test_manage_py_chooses_as_the_serviceloop_command_does(tmp_path):
    result = python(
        "manage.py", "shell", "--no-imports", "-c", SHOW_DATABASE, env=environment(tmp_path)
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"pool": False, "conn_max_age": 60}


def test_a_worker_started_without_serviceloop_refuses_a_pool(tmp_path):
    env = environment(tmp_path, REDIS_URL=REDIS, DJANGO_SETTINGS_MODULE="serviceloop.settings")

    result = python("-m", "django", "worker", "--burst", env=env)

    assert result.returncode != 0
    assert "The worker forks a process per task, so it must not use a database connection " in (
        result.stderr
    )
    assert "SERVICELOOP_DATABASE_POOL=false" in result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("task_queue")
def test_serviceloop_worker_ignores_a_pool_exported_for_the_web_server(tmp_path):
    env = process_env(tmp_path / "var", SERVICELOOP_DATABASE_POOL="true")

    result = run_serviceloop("worker", "--burst", env=env)

    assert result.returncode == 0, result.stdout + result.stderr


HEALTH_CHECK = """
import json, time
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "seconds": time.monotonic() - started}))
"""


def test_a_web_server_with_its_database_down_answers_health_checks_with_503_in_seconds(tmp_path):
    # Nothing listens at the database's address: the pool never gets a connection.
    result = python("-c", "import serviceloop.wsgi\n" + HEALTH_CHECK, env=environment(tmp_path))

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["seconds"] < 10
