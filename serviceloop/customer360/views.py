"""Customer and organization pages: profile, identities, tickets, edit, merge.

They show what customers and tickets know of a person or organization, so they live above
both apps: customers sits below tickets and may not import it.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from serviceloop.core.errors import DomainError, InvalidInput
from serviceloop.core.http import AgentRequest, agent_required
from serviceloop.customers import queries, services
from serviceloop.customers.models import Customer, Identity, Organization
from serviceloop.tickets import queries as tickets

TICKETS_SHOWN = 25
MEMBERS_SHOWN = 100


@agent_required
@require_GET
def customer_list(request: AgentRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    page = Paginator(queries.search_customers(q=q), 50).get_page(request.GET.get("page"))
    return render(request, "customer360/list.html", {"nav": "customers", "page": page, "q": q})


def _customer_context(
    request: AgentRequest, customer: Customer, **extra: object
) -> dict[str, object]:
    latest = tickets.customer_tickets_for_agent(request.user, customer, shown=TICKETS_SHOWN)
    return {
        "nav": "customers",
        "customer": customer,
        "identities": queries.identities_of_customer(customer),
        "tickets": latest.tickets,
        "ticket_count": latest.total,
        "organizations": queries.organizations_to_choose_from(),
        "identity_kinds": Identity.Kind.choices,
    } | extra


def _refused(request: AgentRequest, customer_id: int, **error: DomainError) -> HttpResponse:
    """The customer page again, saying why the change was refused (422)."""
    customer = queries.customer_by_id(customer_id)
    context = _customer_context(request, customer, **error)
    return render(request, "customer360/detail.html", context, status=422)


@agent_required
@require_GET
def customer_detail(request: AgentRequest, customer_id: int) -> HttpResponse:
    customer = queries.customer_by_id(customer_id)
    if customer.merged_into_id is not None:
        messages.info(request, _("This customer was merged; showing the one they became."))
        return redirect("customers:detail", customer.merged_into_id)
    return render(request, "customer360/detail.html", _customer_context(request, customer))


@agent_required
@require_POST
def edit_customer(request: AgentRequest, customer_id: int) -> HttpResponse:
    data = request.POST
    organization = data.get("organization", "")
    try:
        services.update_customer(
            actor=request.user,
            customer_id=customer_id,
            name=data.get("name", ""),
            phone=data.get("phone", ""),
            locale=data.get("locale", ""),
            time_zone=data.get("time_zone", ""),
            notes=data.get("notes", ""),
            organization_id=int(organization) if organization.isdigit() else None,
            clear_organization=organization == "",
        )
    except DomainError as error:
        return _refused(request, customer_id, error=error)
    messages.success(request, _("Customer saved."))
    return redirect("customers:detail", customer_id)


@agent_required
@require_POST
def add_identity(request: AgentRequest, customer_id: int) -> HttpResponse:
    try:
        services.add_identity(
            actor=request.user,
            customer_id=customer_id,
            kind=request.POST.get("kind", ""),
            value=request.POST.get("value", ""),
        )
    except DomainError as error:
        return _refused(request, customer_id, error=error)
    messages.success(request, _("Identity added."))
    return redirect("customers:detail", customer_id)


@agent_required
@require_POST
def merge(request: AgentRequest, customer_id: int) -> HttpResponse:
    """Fold another customer (by id or email) into this one; their tickets move here."""
    other = request.POST.get("other", "").strip()
    try:
        if other.isdigit():
            source_id = int(other)
        else:
            found = queries.customer_with_identity(Identity.Kind.EMAIL, other.lower())
            if found is None:
                raise InvalidInput(_("No customer has the address %(email)s.") % {"email": other})
            source_id = found.pk
        services.merge_customers(actor=request.user, source_id=source_id, target_id=customer_id)
    except DomainError as error:
        return _refused(request, customer_id, merge_error=error)
    messages.success(
        request, _("Merged; the other customer's tickets and identities are here now.")
    )
    return redirect("customers:detail", customer_id)


@agent_required
@require_GET
def organization_list(request: AgentRequest) -> HttpResponse:
    page = Paginator(queries.organizations_by_name(), 50).get_page(request.GET.get("page"))
    return render(request, "customer360/organizations.html", {"nav": "organizations", "page": page})


@agent_required
@require_http_methods(["GET", "POST"])
def organization_detail(request: AgentRequest, organization_id: int) -> HttpResponse:
    organization = queries.organization_by_id(organization_id)
    error = None
    if request.method == "POST":
        try:
            services.update_organization(
                actor=request.user,
                organization_id=organization_id,
                name=request.POST.get("name", ""),
                tier=request.POST.get("tier", ""),
                notes=request.POST.get("notes", ""),
                portal_visibility=request.POST.get("portal_visibility") or None,
                email_domains=[
                    d.strip() for d in request.POST.get("domains", "").split(",") if d.strip()
                ],
            )
        except DomainError as refusal:
            error = refusal
        else:
            messages.success(request, _("Organization saved."))
            return redirect("customers:organization", organization_id)
    latest = tickets.organization_tickets_for_agent(request.user, organization, shown=TICKETS_SHOWN)
    context = {
        "nav": "organizations",
        "organization": organization,
        "domains": ", ".join(queries.email_domains_of_organization(organization)),
        "members": queries.members_of_organization(organization, shown=MEMBERS_SHOWN),
        "tickets": latest.tickets,
        "ticket_count": latest.total,
        "visibilities": Organization.PortalVisibility.choices,
        "error": error,
    }
    return render(request, "customer360/organization.html", context, status=422 if error else 200)
