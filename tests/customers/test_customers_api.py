"""Customers and organizations over the API."""

import pytest

from serviceloop.customers.models import Customer, CustomerMerge
from tests.customers.factories import CustomerFactory, OrganizationFactory
from tests.tickets.factories import make_ticket


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # The agent factory sets a password; the default hasher would take most of each test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Customers ----------------------------------------------------------------------------


def test_creating_a_customer_answers_201_with_their_identities(api):  # type: ignore[no-untyped-def]
    response = api.post_json(
        "/api/v1/customers",
        {"name": "Ines Duarte", "email": "Ines@Example.org", "phone": "+351 912 345 678"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["email"], body["phone"]) == (
        "Ines Duarte",
        "ines@example.org",
        "+351912345678",
    )
    assert sorted((i["kind"], i["value"]) for i in body["identities"]) == [
        ("email", "ines@example.org"),
        ("phone", "+351912345678"),
    ]


def test_a_customer_needs_an_email_or_a_phone(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/customers", {"name": "Nobody"})

    assert response.status_code == 400
    assert response.json()["field"] == "email"


def test_an_address_that_belongs_to_someone_is_a_conflict(api):  # type: ignore[no-untyped-def]
    CustomerFactory(email="ines@example.org")

    response = api.post_json("/api/v1/customers", {"email": "INES@example.org"})

    assert response.status_code == 409
    assert response.json()["field"] == "email"
    assert "ines@example.org" in response.json()["message"]
    assert Customer.objects.count() == 1


def test_a_new_customer_joins_the_organization_of_their_domain(api):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory(name="Lisbon Lighting")
    organization.domains.create(domain="ll.pt")

    response = api.post_json("/api/v1/customers", {"email": "rui@ll.pt"})

    assert response.json()["organization_id"] == organization.pk


def test_getting_a_customer(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(name="Ines Duarte")

    response = api.get(f"/api/v1/customers/{customer.pk}")

    assert response.status_code == 200
    assert response.json()["name"] == "Ines Duarte"


def test_an_unknown_customer_is_a_404(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/customers/424242")

    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"


def test_patching_a_customer_changes_only_what_was_sent(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(name="Ines Duarte")

    response = api.patch_json(
        f"/api/v1/customers/{customer.pk}", {"locale": "pt-PT", "notes": "Prefers phone."}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["locale"], body["notes"]) == (
        "Ines Duarte",
        "pt-PT",
        "Prefers phone.",
    )


def test_patching_the_organization_to_null_clears_it(api):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization)

    response = api.patch_json(f"/api/v1/customers/{customer.pk}", {"organization": None})

    assert response.status_code == 200
    assert response.json()["organization_id"] is None


def test_patching_an_unknown_organization_is_a_404(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory()

    response = api.patch_json(f"/api/v1/customers/{customer.pk}", {"organization": 424242})

    assert response.status_code == 404
    assert response.json()["code"] == "organization_not_found"


def test_a_contributor_cannot_change_customers(api_client_for, contributor):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(name="Ines Duarte")
    client = api_client_for(contributor)

    created = client.post_json("/api/v1/customers", {"email": "new@example.org"})
    patched = client.patch_json(f"/api/v1/customers/{customer.pk}", {"name": "Someone else"})

    assert (created.status_code, patched.status_code) == (403, 403)
    assert created.json()["code"] == "contributor_not_allowed"
    customer.refresh_from_db()
    assert customer.name == "Ines Duarte"


def test_adding_an_identity(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory()

    response = api.post_json(
        f"/api/v1/customers/{customer.pk}/identities", {"kind": "phone", "value": "+31 20 123 4567"}
    )

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["value"]) == ("phone", "+31201234567")


def test_an_identity_of_another_customer_is_a_conflict_that_suggests_merging(api):  # type: ignore[no-untyped-def]
    holder, other = CustomerFactory(email="ines@example.org"), CustomerFactory()

    response = api.post_json(
        f"/api/v1/customers/{other.pk}/identities", {"kind": "email", "value": "ines@example.org"}
    )

    assert response.status_code == 409
    assert response.json()["field"] == "value"
    assert "merge" in response.json()["message"]
    assert str(holder.pk) in response.json()["message"]


def test_a_malformed_phone_identity_names_the_value(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory()

    response = api.post_json(
        f"/api/v1/customers/{customer.pk}/identities", {"kind": "phone", "value": "12"}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "value"


def test_merging_customers_moves_their_tickets_and_can_be_undone(api, agent):  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=agent, requester_email="old@example.org")
    source = ticket.requester
    target = CustomerFactory(email="new@example.org")

    merged = api.post_json(f"/api/v1/customers/{source.pk}/merge", {"into": target.pk})

    assert merged.status_code == 200
    assert (merged.json()["source_id"], merged.json()["target_id"]) == (source.pk, target.pk)
    assert merged.json()["moved_ticket_ids"] == [ticket.pk]
    ticket.refresh_from_db()
    assert ticket.requester_id == target.pk

    undone = api.post(f"/api/v1/customer-merges/{merged.json()['id']}/undo")

    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None
    ticket.refresh_from_db()
    assert ticket.requester_id == source.pk


def test_undoing_a_merge_twice_is_a_conflict(api, admin):  # type: ignore[no-untyped-def]
    source, target = CustomerFactory(), CustomerFactory()
    merge_id = api.post_json(f"/api/v1/customers/{source.pk}/merge", {"into": target.pk}).json()[
        "id"
    ]
    api.post(f"/api/v1/customer-merges/{merge_id}/undo")

    response = api.post(f"/api/v1/customer-merges/{merge_id}/undo")

    assert response.status_code == 409
    assert CustomerMerge.objects.get(pk=merge_id).undone_at is not None


def test_merging_a_customer_into_themselves_names_the_field(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory()

    response = api.post_json(f"/api/v1/customers/{customer.pk}/merge", {"into": customer.pk})

    assert response.status_code == 400
    assert response.json()["field"] == "into"


def test_merging_into_an_unknown_customer_is_a_404(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory()

    response = api.post_json(f"/api/v1/customers/{customer.pk}/merge", {"into": 424242})

    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"


def test_listing_customers_searches_by_name_and_address(api):  # type: ignore[no-untyped-def]
    ines = CustomerFactory(name="Ines Duarte", email="ines@example.org")
    CustomerFactory(name="Rui Costa", email="rui@example.org")

    by_name = api.get("/api/v1/customers?q=duarte").json()["items"]
    by_address = api.get("/api/v1/customers?q=INES@").json()["items"]

    assert [c["id"] for c in by_name] == [ines.pk]
    assert [c["id"] for c in by_address] == [ines.pk]


def test_listing_customers_filters_by_organization(api):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    member = CustomerFactory(organization=organization)
    CustomerFactory()

    response = api.get(f"/api/v1/customers?organization={organization.pk}")

    assert [c["id"] for c in response.json()["items"]] == [member.pk]


def test_paging_through_customers_shows_each_once(api):  # type: ignore[no-untyped-def]
    ids = [CustomerFactory().pk for _ in range(5)]
    seen: list[int] = []
    url = "/api/v1/customers?limit=2"

    while url:
        page = api.get(url).json()
        seen += [c["id"] for c in page["items"]]
        url = f"/api/v1/customers?limit=2&after={page['next']}" if page["next"] else ""

    assert seen == ids


def test_a_merged_customer_is_not_listed(api, admin):  # type: ignore[no-untyped-def]
    source, target = CustomerFactory(), CustomerFactory()
    api.post_json(f"/api/v1/customers/{source.pk}/merge", {"into": target.pk})

    listed = [c["id"] for c in api.get("/api/v1/customers").json()["items"]]

    assert listed == [target.pk]


# --- Organizations ------------------------------------------------------------------------


@pytest.fixture
def supervisor_api(api_client_for, supervisor):  # type: ignore[no-untyped-def]
    return api_client_for(supervisor)


def test_a_supervisor_creates_an_organization_with_domains(supervisor_api):  # type: ignore[no-untyped-def]
    response = supervisor_api.post_json(
        "/api/v1/organizations",
        {
            "name": "Lisbon Lighting",
            "email_domains": ["@LL.pt", "lisbonlighting.com"],
            "tier": "gold",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email_domains"] == ["lisbonlighting.com", "ll.pt"]
    assert (body["name"], body["tier"], body["portal_visibility"]) == (
        "Lisbon Lighting",
        "gold",
        "own",
    )


def test_an_agent_cannot_create_organizations(api):  # type: ignore[no-untyped-def]
    response = api.post_json("/api/v1/organizations", {"name": "Lisbon Lighting"})

    assert response.status_code == 403
    assert response.json()["code"] == "settings_not_allowed"


def test_an_organization_name_is_unique(supervisor_api):  # type: ignore[no-untyped-def]
    OrganizationFactory(name="Lisbon Lighting")

    response = supervisor_api.post_json("/api/v1/organizations", {"name": "lisbon lighting"})

    assert response.status_code == 409
    assert response.json()["field"] == "name"


def test_a_domain_of_another_organization_is_a_conflict(supervisor_api):  # type: ignore[no-untyped-def]
    OrganizationFactory().domains.create(domain="ll.pt")

    response = supervisor_api.post_json(
        "/api/v1/organizations", {"name": "Copycat", "email_domains": ["ll.pt"]}
    )

    assert response.status_code == 409
    assert response.json()["field"] == "email_domains"
    assert "ll.pt" in response.json()["message"]


def test_a_malformed_domain_names_the_field(supervisor_api):  # type: ignore[no-untyped-def]
    response = supervisor_api.post_json(
        "/api/v1/organizations", {"name": "Lisbon Lighting", "email_domains": ["not a domain"]}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "email_domains"


def test_an_unknown_portal_visibility_names_the_field(supervisor_api):  # type: ignore[no-untyped-def]
    response = supervisor_api.post_json(
        "/api/v1/organizations", {"name": "Lisbon Lighting", "portal_visibility": "everyone"}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "portal_visibility"


def test_listing_and_getting_organizations(api):  # type: ignore[no-untyped-def]
    lighting = OrganizationFactory(name="Lisbon Lighting")
    OrganizationFactory(name="Porto Plumbing")

    listed = api.get("/api/v1/organizations?q=lisbon").json()
    one = api.get(f"/api/v1/organizations/{lighting.pk}")

    assert [o["id"] for o in listed] == [lighting.pk]
    assert one.json()["name"] == "Lisbon Lighting"


def test_an_unknown_organization_is_a_404(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/organizations/424242")

    assert response.status_code == 404
    assert response.json()["code"] == "organization_not_found"


def test_patching_an_organization_replaces_its_domains(supervisor_api):  # type: ignore[no-untyped-def]
    organization = OrganizationFactory(name="Lisbon Lighting")
    organization.domains.create(domain="ll.pt")

    response = supervisor_api.patch_json(
        f"/api/v1/organizations/{organization.pk}",
        {"email_domains": ["lisbonlighting.com"], "portal_visibility": "organization"},
    )

    assert response.status_code == 200
    assert response.json()["email_domains"] == ["lisbonlighting.com"]
    assert response.json()["portal_visibility"] == "organization"
    assert response.json()["name"] == "Lisbon Lighting"
