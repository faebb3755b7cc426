"""Webhooks: registering them, and delivering events with signatures, retries and a log."""

import json
import secrets
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from serviceloop.accounts.models import User
from serviceloop.accounts.services import require_settings_access
from serviceloop.core import clock, transactions
from serviceloop.core.errors import InvalidInput, ObjectNotFound
from serviceloop.core.events import DomainEvent, event_names
from serviceloop.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from serviceloop.webhooks.queries import ACTIVE_WEBHOOKS
from serviceloop.webhooks.signing import HEADER, sign


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
        raise InvalidInput(_("url must be an http:// or https:// address."), field="url")
    return url


def _clean_event_types(event_types: list[str]) -> list[str]:
    known = set(event_names())
    unknown = sorted(set(event_types) - known)
    if unknown:
        raise InvalidInput(
            _("Unknown event type %(names)s; known types: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(sorted(known))},
            field="event_types",
        )
    return sorted(set(event_types))


@transaction.atomic
def create_webhook(
    *, actor: User, url: str, event_types: list[str], description: str = ""
) -> Webhook:
    require_settings_access(actor)
    transactions.forget(ACTIVE_WEBHOOKS)
    return Webhook.objects.create(
        url=_clean_url(url),
        event_types=_clean_event_types(event_types),
        description=description[:200],
        secret=secrets.token_urlsafe(32),
        created_by=actor,
    )


@transaction.atomic
def update_webhook(
    *,
    actor: User,
    webhook_id: int,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Webhook:
    require_settings_access(actor)
    webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
    if webhook is None:
        raise ObjectNotFound("Webhook", webhook_id)
    if url is not None:
        webhook.url = _clean_url(url)
    if event_types is not None:
        webhook.event_types = _clean_event_types(event_types)
    if description is not None:
        webhook.description = description[:200]
    if is_active is not None:
        webhook.is_active = is_active
    webhook.save()
    transactions.forget(ACTIVE_WEBHOOKS)
    return webhook


def delete_webhook(*, actor: User, webhook_id: int) -> None:
    require_settings_access(actor)
    deleted, _rows = Webhook.objects.filter(pk=webhook_id).delete()
    if not deleted:
        raise ObjectNotFound("Webhook", webhook_id)
    transactions.forget(ACTIVE_WEBHOOKS)


def queue_deliveries(event: DomainEvent) -> list[int]:
    """Create one delivery per interested webhook; running twice creates nothing new."""
    created = []
    body = {
        "id": event.event_id,
        "type": event.name,
        "created_at": event.occurred_at,
        "data": {
            k: v for k, v in event.to_payload().items() if k not in ("event_id", "occurred_at")
        },
    }
    for webhook in Webhook.objects.filter(is_active=True):
        if not webhook.wants(event.name):
            continue
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    webhook=webhook,
                    event_id=event.event_id,
                    event_name=event.name,
                    payload=body,
                    next_attempt_at=clock.now(),
                )
        except IntegrityError:
            continue
        created.append(delivery.pk)
    return created


def _sending_lease() -> timedelta:
    """How long a sender holds a delivery: longer than a POST may take, plus the usual lease.

    A worker killed mid-POST leaves the delivery `sending`; once the lease ends, the
    `retry_due_webhook_deliveries` sweep queues it again.
    """
    return timedelta(
        seconds=settings.SERVICELOOP_WEBHOOK_TIMEOUT_SECONDS
        + settings.SERVICELOOP_DELIVERY_LEASE_SECONDS
    )


def _schedule_send(delivery_id: int, *, at: datetime) -> None:
    from serviceloop.webhooks.tasks import send_webhook

    # RQ's scheduler keeps whole seconds and rounds down, so a retry due at 12:00:00.7 would
    # run at 12:00:00, find the delivery not yet due and do nothing; round up instead.
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    send_webhook.using(run_after=at).enqueue(delivery_id=delivery_id)


def _backoff(attempts: int) -> timedelta:
    base = settings.SERVICELOOP_WEBHOOK_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def _take_over_interrupted(delivery_id: int, *, now: datetime) -> bool:
    """Claim a delivery whose sender stopped mid-POST (killed, say) once its lease is over.

    That attempt is logged and counted like any other: its outcome is unknown, and an
    endpoint that never lets a POST finish must still run out of attempts.
    """
    lease_until = (
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            state=WebhookDelivery.State.SENDING,
            lease_until__lt=now,
            next_attempt_at__lte=now,
        )
        .values_list("lease_until", flat=True)
        .first()
    )
    if lease_until is None:
        return False
    with transaction.atomic():
        # Only if nobody took it over since the read above (same lease).
        taken = WebhookDelivery.objects.filter(
            pk=delivery_id, state=WebhookDelivery.State.SENDING, lease_until=lease_until
        ).update(lease_until=now + _sending_lease(), attempts=F("attempts") + 1)
        if taken:
            WebhookAttempt.objects.create(
                delivery_id=delivery_id,
                attempted_at=lease_until - _sending_lease(),
                error=_("Interrupted: the worker stopped before the receiver answered."),
            )
    return bool(taken)


def attempt_delivery(*, delivery_id: int) -> str:
    """POST one due delivery once; return its state afterwards. Safe to call twice."""
    now = clock.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    ).update(state=WebhookDelivery.State.SENDING, lease_until=now + _sending_lease())
    if not claimed:
        claimed = _take_over_interrupted(delivery_id, now=now)
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    if not claimed:
        return delivery.state
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Serviceloop-Webhooks/1",
        "X-Serviceloop-Event": delivery.event_name,
        "X-Serviceloop-Delivery": str(delivery.pk),
        HEADER: sign(delivery.webhook.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    excerpt = ""
    try:
        response = httpx.post(
            delivery.webhook.url,
            content=body,
            headers=headers,
            timeout=settings.SERVICELOOP_WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
        status_code = response.status_code
        excerpt = response.text[:500]
        if not 200 <= status_code < 300:
            error = "HTTP %s" % status_code
    except httpx.HTTPError as exc:
        error = "%s: %s" % (type(exc).__name__, exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    attempts = delivery.attempts + 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=status_code,
        error=error[:2000],
        duration_ms=duration_ms,
        response_excerpt=excerpt,
    )
    if not error:
        state = WebhookDelivery.State.SUCCEEDED
        next_at = delivery.next_attempt_at
        completed = clock.now()
    elif attempts >= settings.SERVICELOOP_WEBHOOK_MAX_ATTEMPTS:
        state, next_at, completed = (
            WebhookDelivery.State.FAILED,
            delivery.next_attempt_at,
            clock.now(),
        )
    else:
        state, next_at, completed = (
            WebhookDelivery.State.PENDING,
            clock.now() + _backoff(attempts),
            None,
        )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        attempts=attempts,
        next_attempt_at=next_at,
        lease_until=None,
        completed_at=completed,
    )
    if state == WebhookDelivery.State.PENDING:
        _schedule_send(delivery.pk, at=next_at)
    return state


def retry_due_webhook_deliveries(*, limit: int = 500) -> int:
    """Queue a send for every delivery that is due (a lost task is found again here)."""
    from serviceloop.webhooks.tasks import send_webhook

    now = clock.now()
    due = WebhookDelivery.objects.filter(
        Q(state=WebhookDelivery.State.PENDING)
        | Q(state=WebhookDelivery.State.SENDING, lease_until__lt=now),
        next_attempt_at__lte=now,
    ).values_list("id", flat=True)[:limit]
    ids = list(due)
    for delivery_id in ids:
        send_webhook.enqueue(delivery_id=delivery_id)
    return len(ids)


def redeliver(*, actor: User, delivery_id: int) -> WebhookDelivery:
    """Send a failed or delivered event again now (an admin's "Redeliver")."""
    from serviceloop.webhooks.tasks import send_webhook

    require_settings_access(actor)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise ObjectNotFound("Webhook delivery", delivery_id)
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(
        state=WebhookDelivery.State.SENDING
    ).update(state=WebhookDelivery.State.PENDING, next_attempt_at=clock.now(), completed_at=None)
    send_webhook.enqueue(delivery_id=delivery_id)
    delivery.refresh_from_db()
    return delivery
