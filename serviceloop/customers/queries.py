from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from serviceloop.core.errors import ObjectNotFound
from serviceloop.core.prepared import row_by_key
from serviceloop.customers.models import Customer, Identity, Organization, OrganizationDomain
from serviceloop.customers.normalize import email_domain


def customer_by_id(customer_id: int) -> Customer:
    customer = Customer.objects.select_related("organization").filter(pk=customer_id).first()
    if customer is None:
        raise ObjectNotFound("Customer", customer_id)
    return customer


def _survivor(customer: Customer) -> Customer:
    """The customer a merged one went into (through any chain of merges), or itself."""
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_with_identity(kind: str, value: str) -> Customer | None:
    """The customer behind a normalized identity, following merges to the survivor."""
    # Every ticket and every mail asks this, so it is written as SQL: through the ORM the
    # same query cost 0.35 ms of Python to build and compile each time, as SQL 0.15 ms
    # (bench/README.md). (kind, value) is unique: one customer at most.
    customer = row_by_key(
        Customer,
        "SELECT c.* FROM customers_customer c"
        " JOIN customers_identity i ON i.customer_id = c.id"
        " WHERE i.kind = %s AND i.value = %s",
        [kind, value],
    )
    return None if customer is None else _survivor(customer)


@dataclass
class KnownCustomers:
    """What `find_or_create_customer` needs for many addresses, looked up at once."""

    # Customer by normalized address; an address nobody has is missing.
    by_address: dict[str, Customer]
    # The organization each address's domain belongs to, or None.
    organization_by_domain: dict[str, Organization | None]


def customers_with_emails(addresses: Iterable[str]) -> KnownCustomers:
    """The customers behind these normalized email addresses, and their organizations.

    Two queries for any number of addresses; merges are followed as above.
    """
    addresses = sorted(set(addresses))
    identities = Identity.objects.select_related("customer").filter(
        kind=Identity.Kind.EMAIL, value__in=addresses
    )
    domains = sorted({email_domain(address) for address in addresses})
    organizations: dict[str, Organization | None] = dict.fromkeys(domains)
    for row in OrganizationDomain.objects.select_related("organization").filter(domain__in=domains):
        organizations[row.domain] = row.organization
    return KnownCustomers(
        by_address={identity.value: _survivor(identity.customer) for identity in identities},
        organization_by_domain=organizations,
    )


def organization_for_domain(domain: str) -> Organization | None:
    """The organization a new customer writing from this email domain joins, if any."""
    # Every new customer asks this, so it is written as SQL, like `customer_with_identity`
    # (bench/README.md). The domain is unique: one organization at most.
    return row_by_key(
        Organization,
        "SELECT o.* FROM customers_organization o"
        " JOIN customers_organizationdomain d ON d.organization_id = o.id"
        " WHERE d.domain = %s",
        [domain.lower()],
    )


def organization_by_id(organization_id: int) -> Organization:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise ObjectNotFound("Organization", organization_id)
    return organization


def search_customers(*, q: str = "", organization_id: int | None = None) -> QuerySet[Customer]:
    customers = Customer.objects.filter(merged_into__isnull=True).select_related("organization")
    if organization_id is not None:
        customers = customers.filter(organization_id=organization_id)
    if q:
        customers = customers.filter(name__icontains=q) | customers.filter(
            identities__value__icontains=q.lower()
        )
    return customers.distinct().order_by("id")


def identities_of_customer(customer: Customer) -> list[Identity]:
    return list(customer.identities.order_by("kind", "value"))


def organizations_by_name() -> QuerySet[Organization]:
    return Organization.objects.order_by("name")


def organizations_to_choose_from() -> list[Organization]:
    """Every organization's id and name, for a customer's organization menu."""
    return list(Organization.objects.only("id", "name"))


def email_domains_of_organization(organization: Organization) -> list[str]:
    return list(organization.domains.values_list("domain", flat=True))


def members_of_organization(organization: Organization, *, shown: int) -> list[Customer]:
    """The organization's customers, leaving out records merged into another customer."""
    return list(organization.members.filter(merged_into__isnull=True)[:shown])
