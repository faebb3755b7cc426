"""Customers, their identities and organizations: every write."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.accounts.services import require_full_agent, require_settings_access
from serviceloop.core import clock, events
from serviceloop.core.custom_fields import clean_custom_fields
from serviceloop.core.errors import Conflict, InvalidInput, ObjectNotFound
from serviceloop.customers import queries
from serviceloop.customers.events import CustomerMergeUndone, CustomersMerged
from serviceloop.customers.models import (
    Customer,
    CustomerMerge,
    Identity,
    Organization,
    OrganizationDomain,
)
from serviceloop.customers.normalize import (
    email_domain,
    normalize_email,
    normalize_identity,
    normalize_phone,
)


def find_or_create_customer(
    *,
    email: str,
    name: str = "",
    verified: bool = False,
    known: queries.KnownCustomers | None = None,
) -> Customer:
    """The customer who writes from this address; a new one (with organization) if nobody does.

    Safe when two requests bring the same new address at once: the identity's unique
    constraint makes the second one find the first one's customer. `known` is what a caller
    handling many messages looked up in bulk (`queries.customers_with_emails`) for a set of
    addresses including this one: an address it lacks is taken to be new, and if it is not
    after all, the same constraint finds its customer.
    """
    address = normalize_email(email, field="requester.email")
    name = (name or "").strip()[:200]
    if known is None:
        existing = queries.customer_with_identity(Identity.Kind.EMAIL, address)
    else:
        existing = known.by_address.get(address)
    if existing is not None:
        if name and not existing.name:
            Customer.objects.filter(pk=existing.pk).update(name=name)
            existing.name = name
        return existing
    try:
        with transaction.atomic():
            domain = email_domain(address)
            customer = Customer.objects.create(
                name=name,
                email=address,
                organization=(
                    known.organization_by_domain[domain]
                    if known is not None and domain in known.organization_by_domain
                    else queries.organization_for_domain(domain)
                ),
            )
            Identity.objects.create(
                customer=customer, kind=Identity.Kind.EMAIL, value=address, verified=verified
            )
            return customer
    except IntegrityError:
        found = queries.customer_with_identity(Identity.Kind.EMAIL, address)
        if found is None:
            raise
        return found


def create_senders(*, names: dict[str, str], known: queries.KnownCustomers) -> None:
    """Create at once the customers behind new sender addresses, e.g. a mail import batch's.

    `names` maps normalized addresses to display names; those `known` has already are left
    alone, and the new customers are added to `known`. Three statements for any number of
    new senders, where `find_or_create_customer` takes four or five each. Safe when
    another process creates one of them at the same time: its customer is kept and ours
    removed, as `find_or_create_customer` would have done.
    """
    new = {address: name for address, name in names.items() if address not in known.by_address}
    if not new:
        return
    organizations = known.organization_by_domain
    for domain in {email_domain(address) for address in new} - set(organizations):
        organizations[domain] = queries.organization_for_domain(domain)
    created = Customer.objects.bulk_create(
        Customer(
            name=name.strip()[:200],
            email=address,
            organization=organizations[email_domain(address)],
        )
        for address, name in new.items()
    )
    Identity.objects.bulk_create(
        [Identity(customer=c, kind=Identity.Kind.EMAIL, value=c.email) for c in created],
        ignore_conflicts=True,
    )
    owners = dict(
        Identity.objects.filter(kind=Identity.Kind.EMAIL, value__in=sorted(new)).values_list(
            "value", "customer_id"
        )
    )
    beaten = [c for c in created if owners.get(c.email) != c.pk]
    if beaten:
        Customer.objects.filter(pk__in=[c.pk for c in beaten]).delete()
        known.by_address.update(queries.customers_with_emails(c.email for c in beaten).by_address)
    known.by_address.update({c.email: c for c in created if owners.get(c.email) == c.pk})


@transaction.atomic
def create_customer(
    *,
    actor: User,
    name: str = "",
    email: str = "",
    phone: str = "",
    locale: str = "",
    time_zone: str = "",
    notes: str = "",
    organization_id: int | None = None,
    custom_fields: dict | None = None,
) -> Customer:
    require_full_agent(actor)
    if not email and not phone:
        raise InvalidInput(_("A customer needs an email address or a phone number."), field="email")
    address = normalize_email(email) if email else ""
    number = normalize_phone(phone) if phone else ""
    for kind, value in ((Identity.Kind.EMAIL, address), (Identity.Kind.PHONE, number)):
        if value and Identity.objects.filter(kind=kind, value=value).exists():
            raise Conflict(
                _("%(value)s already belongs to another customer.") % {"value": value},
                field=kind.value,
            )
    organization = (
        queries.organization_by_id(organization_id)
        if organization_id is not None
        else (queries.organization_for_domain(email_domain(address)) if address else None)
    )
    customer = Customer.objects.create(
        name=name.strip()[:200],
        email=address,
        phone=number,
        locale=locale[:20],
        time_zone=time_zone[:64],
        notes=notes,
        organization=organization,
        custom_fields=clean_custom_fields(
            entity="customer", values=custom_fields or {}, existing={}
        ),
    )
    if address:
        Identity.objects.create(customer=customer, kind=Identity.Kind.EMAIL, value=address)
    if number:
        Identity.objects.create(customer=customer, kind=Identity.Kind.PHONE, value=number)
    return customer


@transaction.atomic
def update_customer(
    *,
    actor: User,
    customer_id: int,
    name: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
    time_zone: str | None = None,
    notes: str | None = None,
    organization_id: int | None = None,
    clear_organization: bool = False,
    custom_fields: dict | None = None,
) -> Customer:
    require_full_agent(actor)
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise ObjectNotFound("Customer", customer_id)
    if name is not None:
        customer.name = name.strip()[:200]
    if phone is not None:
        customer.phone = normalize_phone(phone) if phone else ""
    if locale is not None:
        customer.locale = locale[:20]
    if time_zone is not None:
        customer.time_zone = time_zone[:64]
    if notes is not None:
        customer.notes = notes
    if clear_organization:
        customer.organization = None
    elif organization_id is not None:
        customer.organization = queries.organization_by_id(organization_id)
    if custom_fields is not None:
        customer.custom_fields = clean_custom_fields(
            entity="customer", values=custom_fields, existing=customer.custom_fields
        )
    customer.save()
    return customer


@transaction.atomic
def add_identity(
    *, actor: User, customer_id: int, kind: str, value: str, verified: bool = False
) -> Identity:
    """Give a customer another way to reach them; never takes one from another customer."""
    require_full_agent(actor)
    if kind not in Identity.Kind.values:
        raise InvalidInput(_("Unknown identity kind %(kind)s.") % {"kind": kind}, field="kind")
    customer = queries.customer_by_id(customer_id)
    normalized = normalize_identity(kind, value)
    holder = Identity.objects.filter(kind=kind, value=normalized).first()
    if holder is not None:
        if holder.customer_id == customer.pk:
            return holder
        # Two people must never become one by accident: say who has it and let an agent
        # decide to merge.
        raise Conflict(
            _("%(value)s belongs to customer %(other)s; merge the two customers instead.")
            % {"value": normalized, "other": holder.customer_id},
            field="value",
        )
    return Identity.objects.create(
        customer=customer, kind=kind, value=normalized, verified=verified
    )


@transaction.atomic
def merge_customers(*, actor: User, source_id: int, target_id: int) -> CustomerMerge:
    """Fold `source` into `target`: identities and tickets move; the merge can be undone."""
    require_full_agent(actor)
    if source_id == target_id:
        raise InvalidInput(_("A customer cannot be merged into itself."), field="into")
    # One exact lookup each, in id order: SQLite raises OverflowError for an id past 64 bits
    # in an IN list.
    pair: dict[int, Customer] = {}
    for customer_id in sorted([source_id, target_id]):
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise ObjectNotFound("Customer", customer_id)
        pair[customer_id] = customer
    source, target = pair[source_id], pair[target_id]
    if source.merged_into_id is not None:
        raise Conflict(_("Customer %(id)s was already merged.") % {"id": source_id})
    if target.merged_into_id is not None:
        raise Conflict(
            _("Customer %(id)s was merged into another; merge into that one.") % {"id": target_id},
            field="into",
        )
    identity_ids = list(source.identities.values_list("id", flat=True))
    Identity.objects.filter(pk__in=identity_ids).update(customer=target)
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    for field in ("name", "phone", "locale", "time_zone"):
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
    if target.organization_id is None and source.organization_id is not None:
        target.organization_id = source.organization_id
    target.save()
    merge = CustomerMerge.objects.create(
        source=source,
        target=target,
        moved_identity_ids=identity_ids,
        merged_by=actor,
        merged_at=clock.now(),
    )
    # The tickets app moves the source's tickets and records them on `merge` (in-transaction).
    events.publish(
        CustomersMerged(
            merge_id=merge.pk, source_id=source.pk, target_id=target.pk, actor_id=actor.pk
        )
    )
    return merge


@transaction.atomic
def undo_customer_merge(*, actor: User, merge_id: int) -> CustomerMerge:
    require_full_agent(actor)
    merge = CustomerMerge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise ObjectNotFound("Customer merge", merge_id)
    if merge.undone_at is not None:
        raise Conflict(_("That merge was already undone."))
    # Only identities still on the target go back: one added to the target since is kept.
    Identity.objects.filter(pk__in=merge.moved_identity_ids, customer_id=merge.target_id).update(
        customer_id=merge.source_id
    )
    Customer.objects.filter(pk=merge.source_id).update(merged_into=None, updated_at=clock.now())
    merge.undone_at = clock.now()
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    events.publish(
        CustomerMergeUndone(
            merge_id=merge.pk,
            source_id=merge.source_id,
            target_id=merge.target_id,
            actor_id=actor.pk,
        )
    )
    return merge


def _clean_domains(domains: list[str]) -> list[str]:
    cleaned = []
    for domain in domains:
        d = domain.strip().lower().lstrip("@")
        if not d or "." not in d or " " in d or len(d) > 253:
            raise InvalidInput(
                _("%(domain)r is not an email domain.") % {"domain": domain}, field="email_domains"
            )
        cleaned.append(d)
    return sorted(set(cleaned))


def _set_domains(organization: Organization, domains: list[str]) -> None:
    taken = (
        OrganizationDomain.objects.filter(domain__in=domains)
        .exclude(organization=organization)
        .values_list("domain", flat=True)
    )
    if taken:
        raise Conflict(
            _("The domain %(domain)s belongs to another organization.") % {"domain": taken[0]},
            field="email_domains",
        )
    OrganizationDomain.objects.filter(organization=organization).exclude(
        domain__in=domains
    ).delete()
    existing = set(organization.domains.values_list("domain", flat=True))
    OrganizationDomain.objects.bulk_create(
        OrganizationDomain(organization=organization, domain=d)
        for d in domains
        if d not in existing
    )


@transaction.atomic
def create_organization(
    *,
    actor: User | None,
    name: str,
    email_domains: list[str] | None = None,
    tier: str = "",
    notes: str = "",
    portal_visibility: str = Organization.PortalVisibility.OWN,
) -> Organization:
    if actor is not None:
        require_settings_access(actor)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            _("An organization name of 1 to 200 characters is required."), field="name"
        )
    if portal_visibility not in Organization.PortalVisibility.values:
        raise InvalidInput(
            _("portal_visibility must be own or organization."), field="portal_visibility"
        )
    if Organization.objects.filter(name__iexact=name).exists():
        raise Conflict(
            _("An organization named %(name)s exists already.") % {"name": name}, field="name"
        )
    organization = Organization.objects.create(
        name=name, tier=tier[:50], notes=notes, portal_visibility=portal_visibility
    )
    _set_domains(organization, _clean_domains(email_domains or []))
    return organization


@transaction.atomic
def update_organization(
    *,
    actor: User,
    organization_id: int,
    name: str | None = None,
    email_domains: list[str] | None = None,
    tier: str | None = None,
    notes: str | None = None,
    portal_visibility: str | None = None,
) -> Organization:
    require_settings_access(actor)
    organization = Organization.objects.select_for_update().filter(pk=organization_id).first()
    if organization is None:
        raise ObjectNotFound("Organization", organization_id)
    if name is not None:
        name = name.strip()
        if not name:
            raise InvalidInput(_("An organization name is required."), field="name")
        if Organization.objects.filter(name__iexact=name).exclude(pk=organization.pk).exists():
            raise Conflict(
                _("An organization named %(name)s exists already.") % {"name": name}, field="name"
            )
        organization.name = name
    if tier is not None:
        organization.tier = tier[:50]
    if notes is not None:
        organization.notes = notes
    if portal_visibility is not None:
        if portal_visibility not in Organization.PortalVisibility.values:
            raise InvalidInput(
                _("portal_visibility must be own or organization."), field="portal_visibility"
            )
        organization.portal_visibility = portal_visibility
    organization.save()
    if email_domains is not None:
        _set_domains(organization, _clean_domains(email_domains))
    return organization
