"""Agents and their roles; personal API tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from serviceloop.accounts.errors import AdminOnly
from serviceloop.accounts.models import ApiToken, Role, User
from serviceloop.accounts.queries import agent_for_token
from serviceloop.accounts.services import (
    create_agent,
    create_api_token,
    revoke_api_token,
    update_agent,
)
from serviceloop.core import clock
from serviceloop.core.errors import Conflict, InvalidInput, ObjectNotFound
from tests.accounts.factories import AgentFactory

ADMIN_ONLY = "Only admins can manage agents and their roles."


# --- Creating agents ------------------------------------------------------------------------


def test_an_admin_adds_an_agent_with_skills(admin):
    agent = create_agent(
        actor=admin,
        username="mia",
        email=" Mia@Support.Example ",
        role=Role.SUPERVISOR,
        capacity=8,
        skills=["German", " billing ", "german"],
    )

    assert (agent.username, agent.email, agent.role, agent.capacity) == (
        "mia",
        "mia@support.example",
        Role.SUPERVISOR,
        8,
    )
    assert sorted(agent.skills.values_list("name", flat=True)) == ["billing", "german"]
    assert not agent.has_usable_password()


def test_an_agent_added_with_a_password_can_sign_in_with_it(admin):
    agent = create_agent(actor=admin, username="mia", password="a long passphrase")

    assert agent.check_password("a long passphrase")


def test_only_admins_add_agents(supervisor):
    with pytest.raises(AdminOnly) as refused:
        create_agent(actor=supervisor, username="mia")

    assert str(refused.value) == ADMIN_ONLY
    assert not User.objects.filter(username="mia").exists()


def test_the_command_line_adds_agents_without_an_actor(db):
    agent = create_agent(actor=None, username="first-admin", role=Role.ADMIN)

    assert agent.role == Role.ADMIN
    assert (agent.is_staff, agent.is_superuser) == (True, True)


def test_a_taken_username_is_refused_whatever_its_case(admin):
    create_agent(actor=admin, username="mia")

    with pytest.raises(Conflict) as refused:
        create_agent(actor=admin, username="MIA")

    assert str(refused.value) == "The username MIA is taken."


def test_an_unknown_role_is_refused_with_the_known_ones(admin):
    with pytest.raises(InvalidInput) as refused:
        create_agent(actor=admin, username="mia", role="owner")

    assert str(refused.value) == "Role must be one of: admin, supervisor, agent, contributor."


def test_a_blank_username_is_refused(admin):
    with pytest.raises(InvalidInput) as refused:
        create_agent(actor=admin, username="   ")

    assert refused.value.field == "username"
    assert str(refused.value) == "A username of 1 to 150 characters is required."


# --- Changing agents ------------------------------------------------------------------------


def test_an_admin_changes_role_and_capacity(admin):
    agent = AgentFactory()

    update_agent(actor=admin, agent_id=agent.pk, role=Role.CONTRIBUTOR, capacity=3)

    agent.refresh_from_db()
    assert (agent.role, agent.capacity) == (Role.CONTRIBUTOR, 3)


def test_promoting_to_admin_gives_staff_rights_and_demoting_takes_them(admin):
    agent = AgentFactory()

    update_agent(actor=admin, agent_id=agent.pk, role=Role.ADMIN)
    agent.refresh_from_db()
    promoted = (agent.is_staff, agent.is_superuser)
    update_agent(actor=admin, agent_id=agent.pk, role=Role.AGENT)
    agent.refresh_from_db()

    assert promoted == (True, True)
    assert (agent.is_staff, agent.is_superuser) == (False, False)


def test_only_admins_change_agents(supervisor):
    agent = AgentFactory()

    with pytest.raises(AdminOnly) as refused:
        update_agent(actor=supervisor, agent_id=agent.pk, role=Role.ADMIN)

    assert str(refused.value) == ADMIN_ONLY
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_an_admin_cannot_demote_themselves(admin):
    with pytest.raises(Conflict) as refused:
        update_agent(actor=admin, agent_id=admin.pk, role=Role.AGENT)

    assert str(refused.value) == "You cannot take away your own admin role."
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_an_admin_cannot_deactivate_themselves(admin):
    with pytest.raises(Conflict) as refused:
        update_agent(actor=admin, agent_id=admin.pk, is_active=False)

    assert str(refused.value) == "You cannot deactivate yourself."
    assert refused.value.field == "is_active"
    admin.refresh_from_db()
    assert admin.is_active


def test_a_capacity_out_of_range_is_refused(admin):
    agent = AgentFactory()

    with pytest.raises(InvalidInput) as refused:
        update_agent(actor=admin, agent_id=agent.pk, capacity=5000)

    assert str(refused.value) == "Capacity must be between 0 and 1000."


def test_changing_a_missing_agent_says_so(admin):
    with pytest.raises(ObjectNotFound) as refused:
        update_agent(actor=admin, agent_id=999_999, capacity=3)

    assert str(refused.value) == "Agent 999999 was not found."
    assert refused.value.code == "agent_not_found"


# --- API tokens -----------------------------------------------------------------------------


def test_a_token_key_is_returned_once_and_only_its_hash_is_stored(agent):
    token, key = create_api_token(owner=agent, scope=ApiToken.Scope.WRITE, name="CRM sync")

    assert key.startswith("sl_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == ApiToken.hash_key(key)
    assert key not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.prefix == key[:12]
    assert (stored.scope, stored.name) == (ApiToken.Scope.WRITE, "CRM sync")


def test_each_token_gets_its_own_key(agent):
    _first, first_key = create_api_token(owner=agent)
    _second, second_key = create_api_token(owner=agent)

    assert first_key != second_key


def test_a_token_authenticates_its_owner_and_records_use(agent):
    token, key = create_api_token(owner=agent)

    found = agent_for_token(key)

    assert found is not None
    assert (found.agent, found.token_id, found.scope) == (agent, token.pk, "read")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_use_is_recorded_at_most_once_a_minute(agent):
    token, key = create_api_token(owner=agent, scope="write")
    first = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)

    recorded = []
    for seconds in (0, 30, 59, 61, 90, 125):
        with clock.frozen_at(first + timedelta(seconds=seconds)):
            holder = agent_for_token(key)
        assert holder is not None
        assert holder.scope == "write"
        token.refresh_from_db()
        recorded.append(token.last_used_at)

    at = [first + timedelta(seconds=s) for s in (0, 61, 125)]
    assert recorded == [at[0], at[0], at[0], at[1], at[1], at[2]]


def test_a_wrong_key_authenticates_nobody(agent):
    _token, key = create_api_token(owner=agent)

    assert agent_for_token(key + "x") is None
    assert agent_for_token("") is None


def test_a_revoked_token_stops_authenticating(agent):
    token, key = create_api_token(owner=agent)

    revoke_api_token(actor=agent, token_id=token.pk)

    assert agent_for_token(key) is None
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_deactivated_agents_token_stops_authenticating(admin):
    agent = AgentFactory()
    _token, key = create_api_token(owner=agent)

    update_agent(actor=admin, agent_id=agent.pk, is_active=False)

    assert agent_for_token(key) is None


def test_an_admin_may_revoke_anyones_token(admin, agent):
    token, key = create_api_token(owner=agent)

    revoke_api_token(actor=admin, token_id=token.pk)

    assert agent_for_token(key) is None


def test_another_agents_token_looks_missing(agent):
    other = AgentFactory()
    token, key = create_api_token(owner=other)

    with pytest.raises(ObjectNotFound) as refused:
        revoke_api_token(actor=agent, token_id=token.pk)

    assert str(refused.value) == f"API token {token.pk} was not found."
    assert agent_for_token(key) is not None


def test_an_unknown_scope_is_refused(agent):
    with pytest.raises(InvalidInput) as refused:
        create_api_token(owner=agent, scope="admin")

    assert str(refused.value) == "Scope must be read or write."
    assert not ApiToken.objects.exists()


def test_a_deactivated_agent_gets_no_token(admin):
    agent = AgentFactory()
    update_agent(actor=admin, agent_id=agent.pk, is_active=False)
    agent.refresh_from_db()

    with pytest.raises(InvalidInput) as refused:
        create_api_token(owner=agent)

    assert str(refused.value) == f"{agent.username} is deactivated."
