from collections.abc import Iterable

from django.db.models import QuerySet

from serviceloop.core.errors import ObjectNotFound
from serviceloop.customers.models import Customer, Identity, Organization, OrganizationDomain


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
    identity = Identity.objects.select_related("customer").filter(kind=kind, value=value).first()
    return _survivor(identity.customer) if identity is not None else None


def customers_with_emails(addresses: Iterable[str]) -> dict[str, Customer]:
    """The customers behind these normalized email addresses, in one query, by address.

    An address nobody has is missing from the result; merges are followed as above.
    """
    identities = Identity.objects.select_related("customer").filter(
        kind=Identity.Kind.EMAIL, value__in=sorted(set(addresses))
    )
    return {identity.value: _survivor(identity.customer) for identity in identities}


def organization_for_domain(domain: str) -> Organization | None:
    row = (
        OrganizationDomain.objects.select_related("organization")
        .filter(domain=domain.lower())
        .first()
    )
    return row.organization if row else None


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
