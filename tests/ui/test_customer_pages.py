"""The customer list and the customer page: their tickets, profile, identities and merging."""

import re

import pytest

from serviceloop.accounts.models import Role
from serviceloop.customers.models import Customer, CustomerMerge
from serviceloop.customers.services import add_identity, merge_customers
from serviceloop.tickets.models import Ticket
from tests.accounts.factories import AgentFactory
from tests.customers.factories import CustomerFactory, OrganizationFactory
from tests.tickets.factories import make_ticket

# --- The customer list ----------------------------------------------------------------------


def test_the_customer_list_finds_a_customer_by_name(agent_client, customer):
    CustomerFactory(name="Ravi Shah", email="ravi@example.com")

    response = agent_client.get("/customers/", {"q": "mia"})

    assert response.status_code == 200
    assert f'href="/customers/{customer.pk}/">Mia Wong</a>' in response.text
    assert "Ravi Shah" not in response.text


def test_the_customer_list_links_each_customers_organization(agent_client):
    acme = OrganizationFactory(name="Acme")
    CustomerFactory(name="Ravi Shah", organization=acme)

    response = agent_client.get("/customers/")

    assert f'href="/customers/organizations/{acme.pk}/">Acme</a>' in response.text


def test_the_customer_list_leaves_out_merged_customers(agent, agent_client):
    gone = CustomerFactory(name="Old Record")
    merge_customers(actor=agent, source_id=gone.pk, target_id=CustomerFactory().pk)

    response = agent_client.get("/customers/")

    assert "Old Record" not in response.text


# --- The customer page ----------------------------------------------------------------------


def test_the_customer_page_lists_their_tickets_newest_first(agent, agent_client, customer):
    older = make_ticket(actor=agent, requester_email=customer.email, subject="Lamp is broken")
    newer = make_ticket(
        actor=agent, requester_email=customer.email, subject="Refund?", assignee_id=agent.pk
    )
    make_ticket(actor=agent, subject="Someone else's order")

    response = agent_client.get(f"/customers/{customer.pk}/")

    assert response.status_code == 200
    assert "<h2>2 tickets</h2>" in response.text
    assert response.text.index("Refund?") < response.text.index("Lamp is broken")
    assert f'href="/tickets/{newer.number}/">Refund?</a>' in response.text
    assert f'href="/tickets/{older.number}/">Lamp is broken</a>' in response.text
    assert f"<td>{agent.display_name}</td>" in response.text
    assert "Someone else" not in response.text


def test_the_customer_page_shows_the_latest_25_and_links_the_rest(agent, agent_client, customer):
    for _i in range(26):
        make_ticket(actor=agent, requester_email=customer.email)

    response = agent_client.get(f"/customers/{customer.pk}/")

    assert "<h2>26 tickets</h2>" in response.text
    assert len(re.findall(r'href="/tickets/\d+/"', response.text)) == 25
    assert "All their tickets in the queue" in response.text
    assert 'href="/tickets/?q=mia%40example.com"' in response.text


def test_a_customer_without_tickets_says_so(agent_client, customer):
    response = agent_client.get(f"/customers/{customer.pk}/")

    assert "<h2>0 tickets</h2>" in response.text
    assert "No tickets yet." in response.text
    assert "All their tickets in the queue" not in response.text


def test_the_customer_page_shows_identities_and_offers_organizations(agent, agent_client, customer):
    OrganizationFactory(name="Acme")
    add_identity(actor=agent, customer_id=customer.pk, kind="phone", value="+1 555 0100")

    response = agent_client.get(f"/customers/{customer.pk}/")

    assert "<span>+15550100</span>" in response.text
    assert "<span>mia@example.com</span>" in response.text
    assert ">Acme</option>" in response.text


def test_a_missing_customer_is_not_found(agent_client, db):
    response = agent_client.get("/customers/999999/")

    assert response.status_code == 404
    assert "Customer 999999 was not found." in response.text


def test_a_merged_customers_page_leads_to_the_one_they_became(agent, agent_client, customer):
    other = CustomerFactory()
    merge_customers(actor=agent, source_id=other.pk, target_id=customer.pk)

    response = agent_client.get(f"/customers/{other.pk}/", follow=True)

    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    assert "This customer was merged; showing the one they became." in response.text


# --- Editing the profile and adding identities ----------------------------------------------


def test_an_agent_edits_the_profile(agent_client, customer):
    acme = OrganizationFactory(name="Acme")

    response = agent_client.post(
        f"/customers/{customer.pk}/edit",
        {"name": "Mia W.", "phone": "", "organization": str(acme.pk), "notes": "Prefers email"},
        follow=True,
    )

    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    assert "Customer saved." in response.text
    customer.refresh_from_db()
    assert (customer.name, customer.organization, customer.notes) == (
        "Mia W.",
        acme,
        "Prefers email",
    )


def test_an_empty_organization_choice_takes_the_customer_out_of_it(agent_client):
    customer = CustomerFactory(organization=OrganizationFactory())

    agent_client.post(f"/customers/{customer.pk}/edit", {"name": "Mia", "organization": ""})

    customer.refresh_from_db()
    assert customer.organization is None


def test_a_contributor_cannot_edit_a_customer(client_for, customer):
    client = client_for(AgentFactory(role=Role.CONTRIBUTOR))

    response = client.post(f"/customers/{customer.pk}/edit", {"name": "Someone"})

    assert response.status_code == 422
    assert "Contributors work only the tickets assigned to them" in response.text
    customer.refresh_from_db()
    assert customer.name == "Mia Wong"


def test_editing_a_missing_customer_is_not_found(agent_client, db):
    response = agent_client.post("/customers/999999/edit", {"name": "Someone"})

    assert response.status_code == 404


def test_an_agent_adds_an_identity(agent_client, customer):
    response = agent_client.post(
        f"/customers/{customer.pk}/identities",
        {"kind": "phone", "value": "+1 555 0100"},
        follow=True,
    )

    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    assert "Identity added." in response.text
    assert "<span>+15550100</span>" in response.text


def test_someone_elses_identity_is_refused_with_a_hint_to_merge(agent_client, customer):
    other = CustomerFactory(email="ravi@example.com")

    response = agent_client.post(
        f"/customers/{customer.pk}/identities", {"kind": "email", "value": "Ravi@example.com"}
    )

    assert response.status_code == 422
    assert (
        f"ravi@example.com belongs to customer {other.pk}; merge the two customers instead."
        in response.text
    )


# --- Merging another customer in ------------------------------------------------------------


def test_merging_by_email_moves_their_tickets_here(agent, agent_client, customer):
    other = CustomerFactory(email="mia@home.example")
    ticket = make_ticket(actor=agent, requester_email="mia@home.example", subject="Lamp")

    response = agent_client.post(
        f"/customers/{customer.pk}/merge", {"other": " Mia@Home.example "}, follow=True
    )

    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    assert "Merged; the other customer&#x27;s tickets and identities are here now." in (
        response.text
    )
    assert f'href="/tickets/{ticket.number}/">Lamp</a>' in response.text
    assert Ticket.objects.get(pk=ticket.pk).requester == customer
    assert Customer.objects.get(pk=other.pk).merged_into == customer


def test_merging_by_id_records_the_merge_so_it_can_be_undone(agent, agent_client, customer):
    other = CustomerFactory()

    response = agent_client.post(f"/customers/{customer.pk}/merge", {"other": str(other.pk)})

    assert response.status_code == 302
    merge = CustomerMerge.objects.get()
    assert (merge.source_id, merge.target_id, merge.merged_by) == (other.pk, customer.pk, agent)


def test_merging_an_unknown_address_says_nobody_has_it(agent_client, customer):
    response = agent_client.post(f"/customers/{customer.pk}/merge", {"other": "nobody@example.com"})

    assert response.status_code == 422
    assert "No customer has the address nobody@example.com." in response.text
    assert not CustomerMerge.objects.exists()


def test_merging_a_customer_into_itself_is_refused(agent_client, customer):
    response = agent_client.post(f"/customers/{customer.pk}/merge", {"other": str(customer.pk)})

    assert response.status_code == 422
    assert "A customer cannot be merged into itself." in response.text


def test_a_contributor_cannot_merge_customers(client_for, customer):
    other = CustomerFactory()
    client = client_for(AgentFactory(role=Role.CONTRIBUTOR))

    response = client.post(f"/customers/{customer.pk}/merge", {"other": str(other.pk)})

    assert response.status_code == 422
    assert "Contributors work only the tickets assigned to them" in response.text
    assert not CustomerMerge.objects.exists()


@pytest.mark.parametrize("action", ["edit", "identities", "merge"])
def test_the_customer_forms_take_only_posts(agent_client, customer, action):
    response = agent_client.get(f"/customers/{customer.pk}/{action}")

    assert response.status_code == 405
