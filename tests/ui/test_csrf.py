"""Every form refuses a POST without the CSRF token, and accepts it with one."""

import pytest

from serviceloop.accounts.models import Role
from tests.accounts.factories import AgentFactory
from tests.tickets.factories import make_ticket

AGENT_FORMS = [
    "/accounts/away",
    "/accounts/profile",
    "/accounts/tokens/new",
    "/accounts/tokens/1/revoke",
    "/accounts/logout/",
    "/tickets/bulk",
    "/tickets/views/save",
    "/tickets/views/1/delete",
    "/tickets/{number}/send",
    "/tickets/{number}/preview",
    "/tickets/{number}/edit",
    "/tickets/{number}/presence",
    "/customers/{customer}/edit",
    "/customers/{customer}/identities",
    "/customers/{customer}/merge",
    "/customers/organizations/1/",
    "/settings/teams/",
    "/settings/teams/1/",
    "/settings/agents/",
    "/settings/agents/1/",
    "/settings/tags/",
    "/settings/tags/billing/delete",
    "/settings/fields/",
    "/settings/fields/1/",
    "/settings/statuses/",
    "/settings/statuses/1/",
    "/settings/webhooks/",
    "/settings/webhooks/1/toggle",
    "/settings/webhooks/1/delete",
    "/settings/inboxes/new",
    "/settings/inboxes/1/",
    "/settings/inboxes/1/check-imap",
    "/settings/inboxes/1/check-smtp",
    "/settings/inboxes/1/delete",
    "/settings/inboxes/1/inbound/1/reprocess",
]
PORTAL_FORMS = [
    "/portal/sign-out",
    "/portal/requests/new",
    "/portal/requests/{number}/reply",
    "/portal/requests/{number}/solve",
]


@pytest.mark.parametrize("form", AGENT_FORMS)
def test_agent_forms_need_the_csrf_token(client_for, customer, form):
    ticket = make_ticket(requester_email=customer.email)
    client = client_for(AgentFactory(role=Role.ADMIN), csrf=True)

    response = client.post(form.format(number=ticket.number, customer=customer.pk), {})

    assert response.status_code == 403
    assert "CSRF" in response.text


@pytest.mark.parametrize("form", PORTAL_FORMS)
def test_portal_forms_need_the_csrf_token(portal_client_for, customer, form):
    ticket = make_ticket(requester_email=customer.email)

    response = portal_client_for(customer, csrf=True).post(form.format(number=ticket.number), {})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "form",
    ["/accounts/login/", "/accounts/password-reset/", "/portal/sign-in", "/portal/sign-in/somekey"],
)
def test_sign_in_forms_need_the_csrf_token(client_for, db, form):
    response = client_for(None, csrf=True).post(form, {})

    assert response.status_code == 403


def test_a_form_with_its_token_goes_through(client_for, agent, team):
    client = client_for(agent, csrf=True)
    page = client.get("/accounts/profile")
    token = page.context["csrf_token"]

    response = client.post("/accounts/away", {"is_away": "1", "csrfmiddlewaretoken": str(token)})

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.is_away
