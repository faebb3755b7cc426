from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema, Status

from serviceloop.accounts.services import require_settings_access
from serviceloop.api import READ_AUTH, WRITE_AUTH, AgentRequest, ErrorOut
from serviceloop.core.errors import ObjectNotFound
from serviceloop.core.events import event_names
from serviceloop.webhooks import services
from serviceloop.webhooks.models import Webhook, WebhookDelivery

router = Router(tags=["webhooks"])


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    secret: str = Field(..., description="Verify X-Serviceloop-Signature with this")
    created_at: datetime


class WebhookIn(Schema):
    url: str = Field(..., max_length=1000)
    event_types: list[str] = Field([], description="Event types; empty means every event")
    description: str = Field("", max_length=200)


class WebhookPatch(Schema):
    url: str | None = Field(None, max_length=1000)
    event_types: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class AttemptOut(Schema):
    attempted_at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_name: str
    state: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    completed_at: datetime | None
    log: list[AttemptOut]


def _webhook(request: AgentRequest, webhook_id: int) -> Webhook:
    require_settings_access(request.auth)
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        raise ObjectNotFound("Webhook", webhook_id)
    return webhook


@router.get("/webhook-event-types", response={200: list[str]}, auth=READ_AUTH)
def list_event_types(request: AgentRequest) -> list[str]:
    return event_names()


@router.get("/webhooks", response={200: list[WebhookOut], 403: ErrorOut}, auth=READ_AUTH)
def list_webhooks(request: AgentRequest) -> list[Webhook]:
    require_settings_access(request.auth)
    return list(Webhook.objects.all())


@router.post("/webhooks", response={201: WebhookOut, 400: ErrorOut, 403: ErrorOut}, auth=WRITE_AUTH)
def create_webhook(request: AgentRequest, payload: WebhookIn) -> Status[Webhook]:
    return Status(201, services.create_webhook(actor=request.auth, **payload.dict()))


@router.get(
    "/webhooks/{webhook_id}",
    response={200: WebhookOut, 403: ErrorOut, 404: ErrorOut},
    auth=READ_AUTH,
)
def get_webhook(request: AgentRequest, webhook_id: int) -> Webhook:
    return _webhook(request, webhook_id)


@router.patch(
    "/webhooks/{webhook_id}",
    response={200: WebhookOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=WRITE_AUTH,
)
def update_webhook(request: AgentRequest, webhook_id: int, payload: WebhookPatch) -> Webhook:
    return services.update_webhook(
        actor=request.auth,
        webhook_id=webhook_id,
        **payload.dict(exclude_unset=True),
    )


@router.delete(
    "/webhooks/{webhook_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}, auth=WRITE_AUTH
)
def delete_webhook(request: AgentRequest, webhook_id: int) -> Status[None]:
    services.delete_webhook(actor=request.auth, webhook_id=webhook_id)
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: list[DeliveryOut], 403: ErrorOut, 404: ErrorOut},
    auth=READ_AUTH,
)
def list_deliveries(request: AgentRequest, webhook_id: int, limit: int = 50) -> list[Any]:
    webhook = _webhook(request, webhook_id)
    limit = max(1, min(limit, 200))
    return list(webhook.deliveries.prefetch_related("log").order_by("-id")[:limit])


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    response={200: DeliveryOut, 403: ErrorOut, 404: ErrorOut},
    auth=WRITE_AUTH,
)
def redeliver(request: AgentRequest, delivery_id: int) -> WebhookDelivery:
    return services.redeliver(actor=request.auth, delivery_id=delivery_id)
