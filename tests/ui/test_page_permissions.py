"""Who may open which page: anonymous, a portal customer, and agents of every role."""

import pytest
from django.urls import reverse

from serviceloop.accounts.models import Role
from tests.accounts.factories import AgentFactory
from tests.tickets.factories import make_ticket

ROLES = [Role.CONTRIBUTOR, Role.AGENT, Role.SUPERVISOR, Role.ADMIN]
AGENT_PAGES = [
    "/tickets/",
    "/tickets/{number}/",
    "/customers/",
    "/customers/{customer}/",
    "/customers/organizations/",
    "/accounts/profile",
]
SETTINGS_PAGES = [
    "/settings/teams/",
    "/settings/agents/",
    "/settings/tags/",
    "/settings/fields/",
    "/settings/statuses/",
    "/settings/tokens/",
    "/settings/webhooks/",
    "/settings/inboxes/",
    "/settings/inboxes/new",
]


@pytest.fixture
def ticket(customer):
    return make_ticket(requester_email=customer.email)


def _url(template: str, ticket, customer) -> str:
    return template.format(number=ticket.number, customer=customer.pk)


@pytest.mark.parametrize("page", AGENT_PAGES + SETTINGS_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client_for, ticket, customer, page):
    response = client_for(None).get(_url(page, ticket, customer))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", AGENT_PAGES + SETTINGS_PAGES)
def test_a_portal_customer_is_not_an_agent(portal_client_for, ticket, customer, page):
    response = portal_client_for(customer).get(_url(page, ticket, customer))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", AGENT_PAGES)
def test_every_agent_role_reads_the_workspace(client_for, ticket, customer, role, page):
    response = client_for(AgentFactory(role=role)).get(_url(page, ticket, customer))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.CONTRIBUTOR, 403), (Role.AGENT, 403), (Role.SUPERVISOR, 200), (Role.ADMIN, 200)],
)
@pytest.mark.parametrize("page", SETTINGS_PAGES)
def test_only_supervisors_and_admins_open_settings(client_for, role, status, page):
    response = client_for(AgentFactory(role=role)).get(page)

    assert response.status_code == status
    if status == 403:
        assert "Only admins and supervisors can change settings." in response.text


def test_signed_out_front_door_leads_to_sign_in(client_for, db):
    response = client_for(None).get("/", follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "Sign in" in response.text


def test_a_supervisor_cannot_invite_agents(client_for, db):
    response = client_for(AgentFactory(role=Role.SUPERVISOR)).post(
        "/settings/agents/", {"email": "new@support.example", "role": "agent"}
    )

    assert response.status_code == 422
    assert "Only admins can manage agents" in response.text


def test_an_admin_invites_an_agent_by_email(client_for, admin, mailoutbox):
    response = client_for(admin).post(
        "/settings/agents/",
        {"email": "Noor@Support.example", "first_name": "Noor", "role": "agent"},
    )

    assert response.status_code == 302
    assert mailoutbox[-1].to == ["noor@support.example"]
    assert "/accounts/reset/" in mailoutbox[-1].body


def test_a_contributor_cannot_bulk_assign(client_for, contributor, ticket):
    response = client_for(contributor).post(
        "/tickets/bulk",
        {"numbers": [ticket.number], "action": "assign", "assignee": contributor.pk},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )

    assert response.status_code == 200
    assert "0 of 1 tickets changed." in response.text
    assert "Contributors cannot assign" in response.text
