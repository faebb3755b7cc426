"""The organization list and the organization page: its tickets, members and profile."""

import re

from serviceloop.accounts.models import Role
from serviceloop.customers.models import Organization
from serviceloop.customers.services import create_organization, merge_customers
from tests.accounts.factories import AgentFactory
from tests.customers.factories import CustomerFactory, OrganizationFactory
from tests.tickets.factories import make_ticket


def test_the_organization_list_is_sorted_by_name(agent_client):
    OrganizationFactory(name="Zenith", tier="Gold")
    OrganizationFactory(name="Acme")

    response = agent_client.get("/customers/organizations/")

    assert response.status_code == 200
    assert response.text.index("Acme") < response.text.index("Zenith")
    assert "<td>Gold</td>" in response.text


def test_the_organization_page_lists_its_tickets_and_members(admin, agent, agent_client):
    acme = create_organization(actor=admin, name="Acme", email_domains=["acme.example"])
    ticket = make_ticket(actor=agent, requester_email="ops@acme.example", subject="Invoice")
    make_ticket(actor=agent, requester_email="someone@elsewhere.example", subject="Other")

    response = agent_client.get(f"/customers/organizations/{acme.pk}/")

    assert response.status_code == 200
    assert "<h2>1 ticket</h2>" in response.text
    assert f'href="/tickets/{ticket.number}/">Invoice</a>' in response.text
    assert f"<td>{ticket.requester.display_name}</td>" in response.text
    assert "Other" not in response.text
    assert f'href="/customers/{ticket.requester_id}/">' in response.text
    assert 'value="acme.example"' in response.text


def test_the_organization_page_shows_the_latest_25_tickets(admin, agent, agent_client):
    acme = create_organization(actor=admin, name="Acme", email_domains=["acme.example"])
    for _i in range(26):
        make_ticket(actor=agent, requester_email="ops@acme.example")

    response = agent_client.get(f"/customers/organizations/{acme.pk}/")

    assert "<h2>26 tickets</h2>" in response.text
    assert len(re.findall(r'href="/tickets/\d+/"', response.text)) == 25


def test_merged_customers_are_not_listed_as_members(agent, agent_client):
    acme = OrganizationFactory(name="Acme")
    gone = CustomerFactory(name="Old Record", organization=acme)
    survivor = CustomerFactory(organization=OrganizationFactory())
    merge_customers(actor=agent, source_id=gone.pk, target_id=survivor.pk)

    response = agent_client.get(f"/customers/organizations/{acme.pk}/")

    assert "Old Record" not in response.text
    assert "No members." in response.text


def test_a_missing_organization_is_not_found(agent_client, db):
    response = agent_client.get("/customers/organizations/999999/")

    assert response.status_code == 404
    assert "Organization 999999 was not found." in response.text


def test_a_supervisor_edits_the_organization(client_for, supervisor):
    acme = OrganizationFactory(name="Acme")

    response = client_for(supervisor).post(
        f"/customers/organizations/{acme.pk}/",
        {
            "name": "Acme Ltd",
            "tier": "Gold",
            "notes": "Key account",
            "portal_visibility": Organization.PortalVisibility.ORGANIZATION,
            "domains": "acme.example, Acme.co.uk ,",
        },
        follow=True,
    )

    assert response.redirect_chain == [(f"/customers/organizations/{acme.pk}/", 302)]
    assert "Organization saved." in response.text
    assert 'value="acme.co.uk, acme.example"' in response.text
    acme.refresh_from_db()
    assert (acme.name, acme.tier, acme.notes, acme.portal_visibility) == (
        "Acme Ltd",
        "Gold",
        "Key account",
        Organization.PortalVisibility.ORGANIZATION,
    )


def test_an_agent_may_read_but_not_edit_an_organization(agent_client):
    acme = OrganizationFactory(name="Acme")

    response = agent_client.post(f"/customers/organizations/{acme.pk}/", {"name": "Renamed"})

    assert response.status_code == 422
    assert "Only admins and supervisors can change settings." in response.text
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_an_organization_without_a_name_is_refused_in_place(client_for):
    acme = OrganizationFactory(name="Acme")
    client = client_for(AgentFactory(role=Role.ADMIN))

    response = client.post(f"/customers/organizations/{acme.pk}/", {"name": " "})

    assert response.status_code == 422
    assert "An organization name is required." in response.text
    assert "<h1>Acme</h1>" in response.text
