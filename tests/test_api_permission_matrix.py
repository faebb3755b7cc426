"""Who may call what: every endpoint of the API, for every kind of caller.

The endpoints come from the OpenAPI schema, so an endpoint added without a row in MATRIX
fails here until someone decides who may call it.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import ApiToken, Role, User
from serviceloop.accounts.services import create_api_token
from serviceloop.api import api
from serviceloop.core.custom_fields import create_custom_field
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.customers.models import Customer, CustomerMerge, Organization
from serviceloop.customers.services import merge_customers
from serviceloop.inboxes.models import InboundMessage, Inbox
from serviceloop.inboxes.services import create_inbox, store_raw_email
from serviceloop.tickets.models import CustomStatus, Tag, Ticket
from serviceloop.webhooks.models import Webhook, WebhookDelivery
from tests.accounts.factories import AgentFactory
from tests.customers.factories import CustomerFactory, OrganizationFactory
from tests.tickets.factories import make_ticket

ROLES = ("contributor", "agent", "supervisor", "admin")
CALLERS = ("anonymous", "read-token", *ROLES)

EVERYONE = frozenset(ROLES)
FULL_AGENTS = frozenset({"agent", "supervisor", "admin"})
SETTINGS = frozenset({"supervisor", "admin"})
ADMIN = frozenset({"admin"})

UNKNOWN_ID = 987_654_321


@dataclass
class World:
    """One of everything an endpoint can name, made by an admin."""

    admin: User
    other_agent: User
    ticket: Ticket
    other_ticket: Ticket
    customer: Customer
    other_customer: Customer
    customer_merge: CustomerMerge
    organization: Organization
    tag: Tag
    custom_field: CustomFieldDefinition
    custom_status: CustomStatus
    webhook: Webhook
    delivery: WebhookDelivery
    inbox: Inbox
    inbound: InboundMessage


Params = dict[str, Any]
Body = dict[str, Any] | None


@dataclass(frozen=True)
class Row:
    """Which write-token roles succeed (with `success`); the other roles get 403."""

    allowed: frozenset[str]
    success: int
    request: Callable[[World, User], tuple[Params, Body]]


def _none(world: World, me: User) -> tuple[Params, Body]:
    return {}, None


def _ticket(world: World, me: User) -> tuple[Params, Body]:
    return {"number": world.ticket.number}, None


def _customer(world: World, me: User) -> tuple[Params, Body]:
    return {"customer_id": world.customer.pk}, None


def _webhook(world: World, me: User) -> tuple[Params, Body]:
    return {"webhook_id": world.webhook.pk}, None


def _inbox(world: World, me: User) -> tuple[Params, Body]:
    return {"inbox_id": world.inbox.pk}, None


def _inbound(world: World, me: User) -> tuple[Params, Body]:
    return {"inbound_id": world.inbound.pk}, None


def _own_token(world: World, me: User) -> tuple[Params, Body]:
    token, _key = create_api_token(owner=me, name="to revoke")
    return {"token_id": token.pk}, None


NEW_TICKET = {
    "subject": "Parcel 7781 never arrived",
    "body": "Tracking has said 'in transit' for two weeks.",
    "requester": {"email": "noor@example.com", "name": "Noor Haddad"},
}

MATRIX: dict[tuple[str, str], Row] = {
    # Tickets
    ("GET", "/api/v1/tickets"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/tickets"): Row(FULL_AGENTS, 201, lambda w, me: ({}, NEW_TICKET)),
    ("GET", "/api/v1/tickets/{number}"): Row(EVERYONE, 200, _ticket),
    ("PATCH", "/api/v1/tickets/{number}"): Row(
        FULL_AGENTS, 200, lambda w, me: ({"number": w.ticket.number}, {"priority": "high"})
    ),
    ("POST", "/api/v1/tickets/{number}/merge"): Row(
        FULL_AGENTS,
        200,
        lambda w, me: ({"number": w.ticket.number}, {"into": w.other_ticket.number}),
    ),
    # Everyone may send a bulk change; each ticket then says whether it applied.
    ("POST", "/api/v1/tickets/bulk"): Row(
        EVERYONE, 200, lambda w, me: ({}, {"numbers": [w.ticket.number], "priority": "high"})
    ),
    ("GET", "/api/v1/tickets/{number}/messages"): Row(EVERYONE, 200, _ticket),
    # A public reply; contributors may reply only on tickets assigned to them.
    ("POST", "/api/v1/tickets/{number}/messages"): Row(
        FULL_AGENTS,
        201,
        lambda w, me: ({"number": w.ticket.number}, {"body": "On its way.", "kind": "reply"}),
    ),
    ("GET", "/api/v1/tickets/{number}/events"): Row(EVERYONE, 200, _ticket),
    # Ticket settings
    ("GET", "/api/v1/tags"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/tags"): Row(SETTINGS, 201, lambda w, me: ({}, {"name": "Refund"})),
    ("DELETE", "/api/v1/tags/{name}"): Row(
        SETTINGS, 204, lambda w, me: ({"name": w.tag.name}, None)
    ),
    ("GET", "/api/v1/custom-fields"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/custom-fields"): Row(
        SETTINGS, 201, lambda w, me: ({}, {"key": "sku", "label": "SKU", "kind": "text"})
    ),
    ("PATCH", "/api/v1/custom-fields/{field_id}"): Row(
        SETTINGS, 200, lambda w, me: ({"field_id": w.custom_field.pk}, {"label": "Order no."})
    ),
    ("GET", "/api/v1/custom-statuses"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/custom-statuses"): Row(
        SETTINGS,
        201,
        lambda w, me: ({}, {"name": "Waiting on courier", "lifecycle_state": "pending"}),
    ),
    ("PATCH", "/api/v1/custom-statuses/{status_id}"): Row(
        SETTINGS, 200, lambda w, me: ({"status_id": w.custom_status.pk}, {"position": 3})
    ),
    # Customers and organizations
    ("GET", "/api/v1/customers"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/customers"): Row(
        FULL_AGENTS, 201, lambda w, me: ({}, {"name": "Ines Duarte", "email": "ines@example.org"})
    ),
    ("GET", "/api/v1/customers/{customer_id}"): Row(EVERYONE, 200, _customer),
    ("PATCH", "/api/v1/customers/{customer_id}"): Row(
        FULL_AGENTS, 200, lambda w, me: ({"customer_id": w.customer.pk}, {"locale": "pt-PT"})
    ),
    ("POST", "/api/v1/customers/{customer_id}/identities"): Row(
        FULL_AGENTS,
        201,
        lambda w, me: (
            {"customer_id": w.customer.pk},
            {"kind": "phone", "value": "+351 912 345 678"},
        ),
    ),
    ("POST", "/api/v1/customers/{customer_id}/merge"): Row(
        FULL_AGENTS,
        200,
        lambda w, me: ({"customer_id": w.customer.pk}, {"into": w.other_customer.pk}),
    ),
    ("POST", "/api/v1/customer-merges/{merge_id}/undo"): Row(
        FULL_AGENTS, 200, lambda w, me: ({"merge_id": w.customer_merge.pk}, None)
    ),
    ("GET", "/api/v1/organizations"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/organizations"): Row(
        SETTINGS, 201, lambda w, me: ({}, {"name": "Lisbon Lighting", "email_domains": ["ll.pt"]})
    ),
    ("GET", "/api/v1/organizations/{organization_id}"): Row(
        EVERYONE, 200, lambda w, me: ({"organization_id": w.organization.pk}, None)
    ),
    ("PATCH", "/api/v1/organizations/{organization_id}"): Row(
        SETTINGS, 200, lambda w, me: ({"organization_id": w.organization.pk}, {"tier": "gold"})
    ),
    # Agents, teams, tokens
    ("GET", "/api/v1/agents"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/agents"): Row(
        ADMIN, 201, lambda w, me: ({}, {"username": "kofi", "email": "kofi@support.example"})
    ),
    ("GET", "/api/v1/agents/me"): Row(EVERYONE, 200, _none),
    ("GET", "/api/v1/agents/{agent_id}"): Row(
        EVERYONE, 200, lambda w, me: ({"agent_id": w.other_agent.pk}, None)
    ),
    ("PATCH", "/api/v1/agents/{agent_id}"): Row(
        ADMIN, 200, lambda w, me: ({"agent_id": w.other_agent.pk}, {"capacity": 12})
    ),
    ("POST", "/api/v1/agents/me/away"): Row(EVERYONE, 200, lambda w, me: ({}, {"is_away": True})),
    ("GET", "/api/v1/teams"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/teams"): Row(SETTINGS, 201, lambda w, me: ({}, {"name": "Escalations"})),
    ("GET", "/api/v1/teams/{team_id}"): Row(
        EVERYONE, 200, lambda w, me: ({"team_id": w.ticket.team_id}, None)
    ),
    ("PATCH", "/api/v1/teams/{team_id}"): Row(
        SETTINGS, 200, lambda w, me: ({"team_id": w.ticket.team_id}, {"description": "Tier 2"})
    ),
    ("GET", "/api/v1/tokens"): Row(EVERYONE, 200, _none),
    ("POST", "/api/v1/tokens"): Row(
        EVERYONE, 201, lambda w, me: ({}, {"name": "CI", "scope": "read"})
    ),
    ("DELETE", "/api/v1/tokens/{token_id}"): Row(EVERYONE, 200, _own_token),
    # Webhooks
    ("GET", "/api/v1/webhook-event-types"): Row(EVERYONE, 200, _none),
    ("GET", "/api/v1/webhooks"): Row(SETTINGS, 200, _none),
    ("POST", "/api/v1/webhooks"): Row(
        SETTINGS, 201, lambda w, me: ({}, {"url": "https://hooks.example/serviceloop"})
    ),
    ("GET", "/api/v1/webhooks/{webhook_id}"): Row(SETTINGS, 200, _webhook),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): Row(
        SETTINGS, 200, lambda w, me: ({"webhook_id": w.webhook.pk}, {"is_active": False})
    ),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): Row(SETTINGS, 204, _webhook),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): Row(SETTINGS, 200, _webhook),
    ("POST", "/api/v1/webhook-deliveries/{delivery_id}/redeliver"): Row(
        SETTINGS, 200, lambda w, me: ({"delivery_id": w.delivery.pk}, None)
    ),
    # Inboxes and the mail log
    ("GET", "/api/v1/inboxes"): Row(SETTINGS, 200, _none),
    ("POST", "/api/v1/inboxes"): Row(
        SETTINGS, 201, lambda w, me: ({}, {"address": "returns@shop.example"})
    ),
    ("GET", "/api/v1/inboxes/{inbox_id}"): Row(SETTINGS, 200, _inbox),
    ("PATCH", "/api/v1/inboxes/{inbox_id}"): Row(
        SETTINGS, 200, lambda w, me: ({"inbox_id": w.inbox.pk}, {"name": "Help desk"})
    ),
    ("DELETE", "/api/v1/inboxes/{inbox_id}"): Row(SETTINGS, 204, _inbox),
    ("GET", "/api/v1/inbound-messages"): Row(SETTINGS, 200, _none),
    ("GET", "/api/v1/inbound-messages/{inbound_id}/raw"): Row(SETTINGS, 200, _inbound),
    ("POST", "/api/v1/inbound-messages/{inbound_id}/reprocess"): Row(SETTINGS, 200, _inbound),
    ("GET", "/api/v1/outbound-messages"): Row(SETTINGS, 200, _none),
}

RAW_EMAIL = (
    b"From: Noor Haddad <noor@example.com>\r\n"
    b"To: help@shop.example\r\n"
    b"Subject: Where is my parcel?\r\n"
    b"Message-ID: <parcel-7781@example.com>\r\n"
    b"\r\n"
    b"It has been two weeks.\r\n"
)


def _schema_endpoints() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return sorted(
        (method.upper(), path) for path, operations in paths.items() for method in operations
    )


ENDPOINTS = _schema_endpoints()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # The agent factory sets a password; the default hasher would take most of each test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(admin, agent, team) -> World:  # type: ignore[no-untyped-def]
    ticket = make_ticket(actor=admin, team_id=team.pk)
    other_ticket = make_ticket(actor=admin, team_id=team.pk)
    merged_away, kept = CustomerFactory(), CustomerFactory()
    inbox = create_inbox(actor=admin, address="help@shop.example")
    webhook = Webhook.objects.create(
        url="https://hooks.example/in", secret="s3cret", created_by=admin
    )
    return World(
        admin=admin,
        other_agent=AgentFactory(role=Role.AGENT),
        ticket=ticket,
        other_ticket=other_ticket,
        customer=CustomerFactory(),
        other_customer=CustomerFactory(),
        customer_merge=merge_customers(actor=admin, source_id=merged_away.pk, target_id=kept.pk),
        organization=OrganizationFactory(),
        tag=Tag.objects.create(name="vip"),
        custom_field=create_custom_field(
            entity="ticket", key="order_number", label="Order number", kind="text"
        ),
        custom_status=CustomStatus.objects.create(
            name="Waiting on warehouse", lifecycle_state="pending"
        ),
        webhook=webhook,
        delivery=WebhookDelivery.objects.create(
            webhook=webhook,
            event_id="e" * 32,
            event_name="TicketCreated",
            payload={"type": "TicketCreated"},
            state=WebhookDelivery.State.FAILED,
            next_attempt_at=ticket.created_at,
        ),
        inbox=inbox,
        inbound=store_raw_email(inbox=inbox, raw=RAW_EMAIL, via="smtp").inbound,
    )


def _call(client: Any, method: str, path: str, params: Params, body: Body) -> Any:
    url = path.format(**params)
    if body is None:
        return client.generic(method, url)
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


def test_every_endpoint_in_the_schema_has_a_row_and_every_row_an_endpoint():
    assert sorted(MATRIX) == ENDPOINTS


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_caller_gets_the_expected_answer(  # type: ignore[no-untyped-def]
    method, path, caller, world, api_client_for, contributor, agent, supervisor, admin
):
    row = MATRIX.get((method, path))
    assert row is not None, f"{method} {path} has no row in MATRIX: decide who may call it"
    users = {"contributor": contributor, "agent": agent, "supervisor": supervisor, "admin": admin}
    if caller == "anonymous":
        me, client = admin, api_client_for(None)
    elif caller == "read-token":
        me, client = admin, api_client_for(admin, ApiToken.Scope.READ)
    else:
        me, client = users[caller], api_client_for(users[caller])
    params, body = row.request(world, me)

    response = _call(client, method, path, params, body)

    if caller == "anonymous":
        expected = 401
    elif caller == "read-token":
        expected = row.success if method == "GET" else 403
    else:
        expected = row.success if caller in row.allowed else 403
    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()
        assert error["message"]
        if caller == "anonymous":
            assert error["code"] == "not_authenticated"
        elif caller == "read-token":
            assert error["code"] == "read_only_token"


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "{" in e[1]])
def test_an_unknown_id_in_the_path_is_a_404(method, path, world, api_client_for, admin):  # type: ignore[no-untyped-def]
    row = MATRIX[(method, path)]
    params, body = row.request(world, admin)
    unknown = {name: "no-such-tag" if name == "name" else UNKNOWN_ID for name in params}

    response = _call(api_client_for(admin), method, path, unknown, body)

    assert response.status_code == 404, response.content
    assert response.json()["code"].endswith("not_found")
    assert response.json()["message"]


def test_a_contributors_bulk_change_is_refused_per_ticket(world, api_client_for, contributor):  # type: ignore[no-untyped-def]
    response = api_client_for(contributor).post_json(
        "/api/v1/tickets/bulk", {"numbers": [world.ticket.number], "priority": "high"}
    )

    assert response.status_code == 200
    [result] = response.json()
    assert (result["ok"], result["code"]) == (False, "not_assigned_to_you")
    world.ticket.refresh_from_db()
    assert world.ticket.priority == "normal"


def test_a_signed_in_agent_reads_with_the_session_but_writes_only_with_a_csrf_token(agent):  # type: ignore[no-untyped-def]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)

    read = browser.get("/api/v1/agents/me")
    write = browser.post(
        "/api/v1/agents/me/away", data={"is_away": True}, content_type="application/json"
    )

    assert read.status_code == 200
    assert read.json()["username"] == agent.username
    assert write.status_code == 403
    assert write.json()["message"]
    agent.refresh_from_db()
    assert agent.is_away is False
