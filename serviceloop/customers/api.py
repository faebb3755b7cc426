from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from serviceloop.api import MAX_ID, READ_AUTH, WRITE_AUTH, AgentRequest, ErrorOut
from serviceloop.customers import queries, services
from serviceloop.customers.models import Customer, CustomerMerge, Organization

router = Router(tags=["customers"])


class IdentityOut(Schema):
    id: int
    kind: str
    value: str
    verified: bool


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    locale: str
    time_zone: str
    notes: str
    organization_id: int | None
    custom_fields: dict[str, Any]
    identities: list[IdentityOut]
    merged_into: int | None
    created_at: datetime


def customer_out(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "locale": customer.locale,
        "time_zone": customer.time_zone,
        "notes": customer.notes,
        "organization_id": customer.organization_id,
        "custom_fields": customer.custom_fields,
        "identities": [
            {"id": i.pk, "kind": i.kind, "value": i.value, "verified": i.verified}
            for i in customer.identities.all()
        ],
        "merged_into": customer.merged_into_id,
        "created_at": customer.created_at,
    }


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: int | None


class CustomerQuery(Schema):
    q: str = ""
    organization: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, ge=1, le=200)
    after: int | None = Field(None, description="Cursor: the `next` of the previous page")


@router.get("/customers", response={200: CustomerPage}, auth=READ_AUTH)
def list_customers(request: AgentRequest, filters: Query[CustomerQuery]) -> dict[str, Any]:
    customers = queries.search_customers(q=filters.q, organization_id=filters.organization)
    if filters.after is not None:
        customers = customers.filter(pk__gt=filters.after)
    rows = list(customers.prefetch_related("identities")[: filters.limit + 1])
    next_cursor = rows[filters.limit - 1].pk if len(rows) > filters.limit else None
    return {"items": [customer_out(c) for c in rows[: filters.limit]], "next": next_cursor}


class CustomerIn(Schema):
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=320)
    phone: str = Field("", max_length=50)
    locale: str = Field("", max_length=20)
    time_zone: str = Field("", max_length=64)
    notes: str = ""
    organization: int | None = None
    custom_fields: dict[str, Any] = {}


@router.post(
    "/customers",
    response={201: CustomerOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def create_customer(request: AgentRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    customer = services.create_customer(
        actor=request.auth,
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        locale=payload.locale,
        time_zone=payload.time_zone,
        notes=payload.notes,
        organization_id=payload.organization,
        custom_fields=payload.custom_fields,
    )
    return Status(201, customer_out(customer))


@router.get("/customers/{customer_id}", response={200: CustomerOut, 404: ErrorOut}, auth=READ_AUTH)
def get_customer(request: AgentRequest, customer_id: int) -> dict[str, Any]:
    return customer_out(queries.customer_by_id(customer_id))


class CustomerPatch(Schema):
    name: str | None = None
    phone: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    notes: str | None = None
    organization: int | None = None
    custom_fields: dict[str, Any] | None = None


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=WRITE_AUTH,
)
def update_customer(
    request: AgentRequest, customer_id: int, payload: CustomerPatch
) -> dict[str, Any]:
    sent = payload.model_fields_set
    customer = services.update_customer(
        actor=request.auth,
        customer_id=customer_id,
        name=payload.name,
        phone=payload.phone,
        locale=payload.locale,
        time_zone=payload.time_zone,
        notes=payload.notes,
        organization_id=payload.organization,
        clear_organization="organization" in sent and payload.organization is None,
        custom_fields=payload.custom_fields,
    )
    return customer_out(customer)


class IdentityIn(Schema):
    kind: Literal["email", "phone", "chat", "social"]
    value: str = Field(..., max_length=320)
    verified: bool = False


@router.post(
    "/customers/{customer_id}/identities",
    response={201: IdentityOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def add_identity(request: AgentRequest, customer_id: int, payload: IdentityIn) -> Status[Any]:
    identity = services.add_identity(
        actor=request.auth,
        customer_id=customer_id,
        kind=payload.kind,
        value=payload.value,
        verified=payload.verified,
    )
    return Status(201, identity)


class MergeIn(Schema):
    into: int = Field(..., description="Id of the customer who remains")


class CustomerMergeOut(Schema):
    id: int
    source_id: int
    target_id: int
    moved_identity_ids: list[int]
    moved_ticket_ids: list[int]
    merged_at: datetime
    undone_at: datetime | None


def merge_out(merge: CustomerMerge) -> dict[str, Any]:
    merge.refresh_from_db()
    return {
        "id": merge.pk,
        "source_id": merge.source_id,
        "target_id": merge.target_id,
        "moved_identity_ids": merge.moved_identity_ids,
        "moved_ticket_ids": merge.moved_ticket_ids,
        "merged_at": merge.merged_at,
        "undone_at": merge.undone_at,
    }


@router.post(
    "/customers/{customer_id}/merge",
    response={200: CustomerMergeOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def merge_customer(request: AgentRequest, customer_id: int, payload: MergeIn) -> dict[str, Any]:
    merge = services.merge_customers(
        actor=request.auth,
        source_id=customer_id,
        target_id=payload.into,
    )
    return merge_out(merge)


@router.post(
    "/customer-merges/{merge_id}/undo",
    response={200: CustomerMergeOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
)
def undo_merge(request: AgentRequest, merge_id: int) -> dict[str, Any]:
    merge = services.undo_customer_merge(actor=request.auth, merge_id=merge_id)
    return merge_out(merge)


class OrganizationOut(Schema):
    id: int
    name: str
    email_domains: list[str]
    tier: str
    notes: str
    portal_visibility: str
    created_at: datetime


def organization_out(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.pk,
        "name": organization.name,
        "email_domains": sorted(d.domain for d in organization.domains.all()),
        "tier": organization.tier,
        "notes": organization.notes,
        "portal_visibility": organization.portal_visibility,
        "created_at": organization.created_at,
    }


@router.get(
    "/organizations", response={200: list[OrganizationOut]}, auth=READ_AUTH, tags=["organizations"]
)
def list_organizations(request: AgentRequest, q: str = "") -> list[dict[str, Any]]:
    organizations = Organization.objects.prefetch_related("domains").order_by("name")
    if q:
        organizations = organizations.filter(name__icontains=q)
    return [organization_out(o) for o in organizations[:500]]


class OrganizationIn(Schema):
    name: str = Field(..., max_length=200)
    email_domains: list[str] = []
    tier: str = Field("", max_length=50)
    notes: str = ""
    portal_visibility: Literal["own", "organization"] = "own"


@router.post(
    "/organizations",
    response={201: OrganizationOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
    tags=["organizations"],
)
def create_organization(request: AgentRequest, payload: OrganizationIn) -> Status[dict[str, Any]]:
    organization = services.create_organization(actor=request.auth, **payload.dict())
    return Status(201, organization_out(organization))


@router.get(
    "/organizations/{organization_id}",
    response={200: OrganizationOut, 404: ErrorOut},
    auth=READ_AUTH,
    tags=["organizations"],
)
def get_organization(request: AgentRequest, organization_id: int) -> dict[str, Any]:
    return organization_out(queries.organization_by_id(organization_id))


class OrganizationPatch(Schema):
    name: str | None = None
    email_domains: list[str] | None = None
    tier: str | None = None
    notes: str | None = None
    portal_visibility: Literal["own", "organization"] | None = None


@router.patch(
    "/organizations/{organization_id}",
    response={200: OrganizationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=WRITE_AUTH,
    tags=["organizations"],
)
def update_organization(
    request: AgentRequest, organization_id: int, payload: OrganizationPatch
) -> dict[str, Any]:
    organization = services.update_organization(
        actor=request.auth,
        organization_id=organization_id,
        **payload.dict(exclude_unset=True),
    )
    return organization_out(organization)
