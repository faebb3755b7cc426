"""The `serviceloop` command as an operator runs it: a separate process, real output."""

import json

import pytest

from serviceloop.accounts.models import Role, User
from tests.accounts.factories import AgentFactory
from tests.background import process_env, run_serviceloop
from tests.conftest import ApiClient

# Nothing listens on port 1, so connecting fails at once.
UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/serviceloop"

pytestmark = pytest.mark.slow


@pytest.mark.django_db(transaction=True)
def test_token_create_prints_a_write_token_that_works_with_the_api(tmp_path):
    AgentFactory(username="mia")

    result = run_serviceloop(
        "token", "create", "mia", "--scope", "write", env=process_env(tmp_path / "var")
    )

    assert result.returncode == 0, result.stderr
    assert "Store it now" in result.stderr
    key = result.stdout.strip().splitlines()[-1]
    api = ApiClient(key)
    me = api.get("/api/v1/agents/me")
    assert me.status_code == 200
    assert me.json()["username"] == "mia"
    away = api.post_json("/api/v1/agents/me/away", {"is_away": True})
    assert away.status_code == 200
    assert away.json()["is_away"] is True


@pytest.mark.django_db(transaction=True)
def test_token_create_for_a_missing_user_says_so(tmp_path):
    result = run_serviceloop("token", "create", "nobody", env=process_env(tmp_path / "var"))

    assert result.returncode != 0
    assert "There is no user 'nobody'." in result.stderr
    assert result.stdout == ""


@pytest.mark.django_db
def test_check_passes_on_a_working_installation(tmp_path):
    result = run_serviceloop("check", env=process_env(tmp_path / "var"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Everything looks ready." in result.stdout


def test_check_says_why_when_the_database_is_unreachable(tmp_path):
    env = process_env(tmp_path / "var", DATABASE_URL=UNREACHABLE_DATABASE)

    result = run_serviceloop("check", env=env)

    assert result.returncode != 0
    assert "Database: cannot connect (" in result.stderr
    assert "1 problem(s) found." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db(transaction=True)
def test_createadmin_prints_the_username_and_password_it_set(tmp_path):
    result = run_serviceloop("createadmin", "--username", "olga", env=process_env(tmp_path / "var"))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Username: olga" in lines
    [password] = [
        line.removeprefix("Password: ") for line in lines if line.startswith("Password: ")
    ]
    olga = User.objects.get(username="olga")
    assert olga.role == Role.ADMIN
    assert olga.check_password(password)


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# A request through the whole stack, in a process whose database does not answer.
GET_HEALTHZ = """
from django.test import Client
response = Client().get("/healthz")
print(response.status_code, response["Content-Type"])
print(response.content.decode())
"""


def test_healthz_answers_503_json_when_the_database_does_not_answer(tmp_path):
    env = process_env(tmp_path / "var", DATABASE_URL=UNREACHABLE_DATABASE)

    result = run_serviceloop("shell", "--no-imports", "-c", GET_HEALTHZ, env=env)

    assert result.returncode == 0, result.stderr
    status_line, body = result.stdout.strip().splitlines()[-2:]
    assert status_line == "503 application/json"
    assert json.loads(body)["status"] == "unavailable"


@pytest.mark.parametrize(
    ("variable", "value", "sentence"),
    [
        (
            "SERVICELOOP_WEB_THREADS",
            "four",
            "SERVICELOOP_WEB_THREADS must be a whole number 1 or more, not 'four'.",
        ),
        ("EMAIL_PORT", "70000", "EMAIL_PORT must be a whole number from 1 to 65535"),
        ("PORT", "eighty", "PORT must be a whole number from 1 to 65535, not 'eighty'."),
        ("WEB_WORKERS", "0", "WEB_WORKERS must be a whole number 1 or more, not '0'."),
        (
            "SERVICELOOP_IMAP_POLL_SECONDS",
            "-5",
            "SERVICELOOP_IMAP_POLL_SECONDS must be a number of seconds, 1 or more",
        ),
        ("DATABASE_URL", "nonsense://db", "DATABASE_URL is not a database address"),
    ],
)
def test_a_setting_that_makes_no_sense_stops_a_command_with_a_sentence(
    tmp_path, variable, value, sentence
):
    result = run_serviceloop("check", env=process_env(tmp_path / "var", **{variable: value}))

    assert result.returncode != 0
    assert f"serviceloop: {sentence}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_pool_smaller_than_its_minimum_is_refused(tmp_path):
    env = process_env(
        tmp_path / "var",
        DATABASE_URL=UNREACHABLE_DATABASE,
        SERVICELOOP_DATABASE_POOL="true",
        DATABASE_POOL_MIN_SIZE="30",
        DATABASE_POOL_MAX_SIZE="10",
    )

    result = run_serviceloop("check", env=env)

    assert result.returncode != 0
    assert "DATABASE_POOL_MIN_SIZE must not be larger than DATABASE_POOL_MAX_SIZE." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_yes_or_no_setting_takes_only_yes_or_no(tmp_path):
    env = process_env(
        tmp_path / "var", DATABASE_URL=UNREACHABLE_DATABASE, SERVICELOOP_DATABASE_POOL="maybe"
    )

    result = run_serviceloop("check", env=env)

    assert result.returncode != 0
    assert "SERVICELOOP_DATABASE_POOL must be true or false, not 'maybe'." in result.stderr
