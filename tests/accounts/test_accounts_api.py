"""Agents, teams and API tokens over the API."""

import pytest

from serviceloop.accounts.models import ApiToken, Role, Team, User
from tests.accounts.factories import AgentFactory, TeamFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # The agent factory sets a password; the default hasher would take most of each test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_api(api_client_for, admin):  # type: ignore[no-untyped-def]
    return api_client_for(admin)


# --- Agents -------------------------------------------------------------------------------


def test_me_is_the_token_owner(api, agent, team):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/agents/me")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["role"]) == (agent.pk, agent.username, "agent")
    assert body["teams"] == [team.pk]


def test_listing_agents_leaves_out_deactivated_ones(api, agent):  # type: ignore[no-untyped-def]
    gone = AgentFactory(is_active=False)

    ids = [a["id"] for a in api.get("/api/v1/agents").json()]

    assert agent.pk in ids
    assert gone.pk not in ids


def test_an_unknown_agent_is_a_404(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/agents/424242")

    assert response.status_code == 404
    assert response.json()["code"] == "agent_not_found"


def test_an_admin_adds_an_agent(admin_api):  # type: ignore[no-untyped-def]
    response = admin_api.post_json(
        "/api/v1/agents",
        {
            "username": "kofi",
            "email": "Kofi@Support.example",
            "first_name": "Kofi",
            "role": "supervisor",
            "skills": ["Billing", "german"],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["username"], body["email"], body["role"]) == (
        "kofi",
        "kofi@support.example",
        "supervisor",
    )
    assert body["skills"] == ["billing", "german"]
    assert not User.objects.get(username="kofi").has_usable_password()


def test_a_taken_username_is_a_conflict(admin_api):  # type: ignore[no-untyped-def]
    AgentFactory(username="kofi")

    response = admin_api.post_json("/api/v1/agents", {"username": "KOFI"})

    assert response.status_code == 409
    assert response.json()["field"] == "username"
    assert "kofi" in response.json()["message"].lower()


def test_an_unknown_role_names_the_field(admin_api):  # type: ignore[no-untyped-def]
    response = admin_api.post_json("/api/v1/agents", {"username": "kofi", "role": "owner"})

    assert response.status_code == 422
    assert response.json()["field"] == "role"


def test_a_supervisor_cannot_manage_agents(api_client_for, supervisor, agent):  # type: ignore[no-untyped-def]
    client = api_client_for(supervisor)

    created = client.post_json("/api/v1/agents", {"username": "kofi"})
    promoted = client.patch_json(f"/api/v1/agents/{agent.pk}", {"role": "admin"})

    assert (created.status_code, promoted.status_code) == (403, 403)
    assert created.json()["code"] == "admin_only"
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_an_admin_changes_an_agents_role_and_capacity(admin_api, agent):  # type: ignore[no-untyped-def]
    response = admin_api.patch_json(
        f"/api/v1/agents/{agent.pk}", {"role": "supervisor", "capacity": 5}
    )

    assert response.status_code == 200
    assert (response.json()["role"], response.json()["capacity"]) == ("supervisor", 5)


def test_an_admin_cannot_demote_themselves(admin_api, admin):  # type: ignore[no-untyped-def]
    response = admin_api.patch_json(f"/api/v1/agents/{admin.pk}", {"role": "agent"})

    assert response.status_code == 409
    assert response.json()["field"] == "role"
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_a_capacity_out_of_range_names_the_field(admin_api, agent):  # type: ignore[no-untyped-def]
    response = admin_api.patch_json(f"/api/v1/agents/{agent.pk}", {"capacity": -1})

    assert response.status_code == 422
    assert response.json()["field"] == "capacity"


def test_an_agent_marks_themselves_away(api, agent):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/agents/me/away", {"is_away": True})

    assert response.status_code == 200
    assert response.json()["is_away"] is True
    agent.refresh_from_db()
    assert agent.is_away


# --- Teams --------------------------------------------------------------------------------


def test_a_supervisor_creates_a_team_with_members(api_client_for, supervisor, agent):  # type: ignore[no-untyped-def]
    response = api_client_for(supervisor).post_json(
        "/api/v1/teams", {"name": "Escalations", "routing": "round_robin", "members": [agent.pk]}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["routing"], body["members"]) == (
        "Escalations",
        "round_robin",
        [agent.pk],
    )


def test_an_unknown_member_names_the_members_field(admin_api):  # type: ignore[no-untyped-def]
    response = admin_api.post_json("/api/v1/teams", {"name": "Escalations", "members": [424242]})

    assert response.status_code == 400
    assert response.json()["field"] == "members"
    assert "424242" in response.json()["message"]
    assert not Team.objects.filter(name="Escalations").exists()


def test_a_team_name_is_unique(admin_api):  # type: ignore[no-untyped-def]
    TeamFactory(name="Escalations")

    response = admin_api.post_json("/api/v1/teams", {"name": "escalations"})

    assert response.status_code == 409
    assert response.json()["field"] == "name"


def test_an_agent_cannot_create_teams(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/teams", {"name": "Escalations"})

    assert response.status_code == 403
    assert response.json()["code"] == "settings_not_allowed"


def test_patching_a_team_replaces_its_members(admin_api, team, agent):  # type: ignore[no-untyped-def]
    newcomer = AgentFactory()

    response = admin_api.patch_json(
        f"/api/v1/teams/{team.pk}", {"members": [newcomer.pk], "description": "Tier 2"}
    )

    assert response.status_code == 200
    assert (response.json()["members"], response.json()["description"]) == (
        [newcomer.pk],
        "Tier 2",
    )


def test_listing_and_getting_teams(api, team):  # type: ignore[no-untyped-def]
    assert [t["id"] for t in api.get("/api/v1/teams").json()] == [team.pk]
    assert api.get(f"/api/v1/teams/{team.pk}").json()["name"] == team.name
    assert api.get("/api/v1/teams/424242").json()["code"] == "team_not_found"


# --- Tokens -------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_works(api, agent, api_client_for):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/tokens", {"name": "Zapier", "scope": "read"})

    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("sl_")
    assert body["token"].startswith(body["prefix"])
    assert (body["name"], body["scope"], body["revoked_at"]) == ("Zapier", "read", None)
    fresh = api_client_for(None)
    fresh.defaults["HTTP_AUTHORIZATION"] = f"Bearer {body['token']}"
    assert fresh.get("/api/v1/agents/me").json()["id"] == agent.pk


def test_listing_tokens_never_shows_a_secret(api, agent):  # type: ignore[no-untyped-def]
    secret = api.post_json("/api/v1/tokens", {"name": "Zapier"}).json()["token"]

    response = api.get("/api/v1/tokens")

    assert response.status_code == 200
    assert {t["name"] for t in response.json()} >= {"Zapier"}
    assert all("token" not in t for t in response.json())
    assert secret not in response.content.decode()
    assert secret[len("sl_") + 10 :] not in response.content.decode()


def test_listing_tokens_shows_only_my_own(api, agent, api_client_for, admin):  # type: ignore[no-untyped-def]
    api_client_for(admin)

    response = api.get("/api/v1/tokens")

    assert {t["id"] for t in response.json()} == set(
        ApiToken.objects.filter(user=agent).values_list("id", flat=True)
    )


def test_a_revoked_token_is_refused_with_401(api, api_client_for):  # type: ignore[no-untyped-def]
    created = api.post_json("/api/v1/tokens", {"name": "Old laptop", "scope": "write"}).json()
    doomed = api_client_for(None)
    doomed.defaults["HTTP_AUTHORIZATION"] = f"Bearer {created['token']}"
    assert doomed.get("/api/v1/tickets").status_code == 200

    revoked = api.delete(f"/api/v1/tokens/{created['id']}")

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = doomed.get("/api/v1/tickets")
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_another_agents_token_looks_missing(api, admin):  # type: ignore[no-untyped-def]
    theirs = ApiToken.objects.create(user=admin, prefix="sl_x", key_hash="0" * 64)

    response = api.delete(f"/api/v1/tokens/{theirs.pk}")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_an_admin_revokes_anyones_token(admin_api, agent):  # type: ignore[no-untyped-def]
    theirs = ApiToken.objects.create(user=agent, prefix="sl_x", key_hash="1" * 64)

    response = admin_api.delete(f"/api/v1/tokens/{theirs.pk}")

    assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None


def test_a_read_token_cannot_mint_a_write_token(api_client_for, agent):  # type: ignore[no-untyped-def]
    response = api_client_for(agent, ApiToken.Scope.READ).post_json(
        "/api/v1/tokens", {"scope": "write"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "read_only_token"
    assert not ApiToken.objects.filter(scope="write").exists()


def test_a_deactivated_agents_token_is_refused(api, agent):  # type: ignore[no-untyped-def]
    User.objects.filter(pk=agent.pk).update(is_active=False)

    assert api.get("/api/v1/agents/me").status_code == 401


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer ", "Bearer sl_not-a-real-token", "Basic dXNlcjpwYXNz"]
)
def test_a_missing_or_wrong_credential_is_a_401(api_client_for, header):  # type: ignore[no-untyped-def]
    client = api_client_for(None)
    if header:
        client.defaults["HTTP_AUTHORIZATION"] = header

    response = client.get("/api/v1/tickets")

    assert response.status_code == 401
    assert response.json()["message"]
