"""Reads of inboxes and their mail, for the people allowed to see them."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from serviceloop.accounts.models import User
from serviceloop.accounts.services import require_settings_access
from serviceloop.core.errors import ObjectNotFound
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.inboxes.models import InboundMessage, Inbox, OutboundMessage


def inboxes_for_admin(actor: User) -> QuerySet[Inbox]:
    require_settings_access(actor)
    return Inbox.objects.all()


def _count_of(rows: QuerySet) -> Coalesce:
    counted = rows.filter(inbox=OuterRef("pk")).order_by().values("inbox")
    return Coalesce(
        Subquery(counted.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
    )


def inboxes_with_mail_health(actor: User) -> QuerySet[Inbox]:
    """Every inbox with how many of its messages in and out failed, for the settings list."""
    require_settings_access(actor)
    return Inbox.objects.select_related("team").annotate(
        failed_inbound=_count_of(InboundMessage.objects.filter(state=InboundMessage.State.FAILED)),
        failed_outbound=_count_of(
            OutboundMessage.objects.filter(
                state__in=[OutboundMessage.State.FAILED, OutboundMessage.State.BOUNCED]
            )
        ),
    )


def inbox_for_admin(actor: User, inbox_id: int) -> Inbox:
    require_settings_access(actor)
    inbox = Inbox.objects.filter(pk=inbox_id).first()
    if inbox is None:
        raise ObjectNotFound("Inbox", inbox_id)
    return inbox


def inbound_messages_for_admin(
    actor: User, *, state: str = "", inbox_id: int | None = None
) -> QuerySet[InboundMessage]:
    """Every stored message, newest first, failed and ignored ones included."""
    require_settings_access(actor)
    rows = InboundMessage.objects.defer("raw").select_related("ticket")
    if state:
        rows = rows.filter(state=state)
    if inbox_id is not None:
        rows = rows.filter(inbox_id=inbox_id)
    return rows.order_by("-received_at", "-id")


def inbound_message_for_admin(actor: User, inbound_id: int) -> InboundMessage:
    require_settings_access(actor)
    row = InboundMessage.objects.filter(pk=inbound_id).first()
    if row is None:
        raise ObjectNotFound("Inbound message", inbound_id)
    return row


def outbound_messages_for_admin(
    actor: User, *, state: str = "", inbox_id: int | None = None
) -> QuerySet[OutboundMessage]:
    """Recent deliveries and failures."""
    require_settings_access(actor)
    rows = OutboundMessage.objects.select_related("ticket")
    if state:
        rows = rows.filter(state=state)
    if inbox_id is not None:
        rows = rows.filter(inbox_id=inbox_id)
    return rows.order_by("-created_at", "-id")


def contact_inbox(slug: str) -> Inbox:
    inbox = Inbox.objects.filter(slug=slug, is_active=True).first()
    if inbox is None:
        raise ObjectNotFound("Contact form", slug)
    return inbox


def web_form_fields() -> QuerySet[CustomFieldDefinition]:
    """The ticket fields an admin chose to ask on the public contact forms."""
    return CustomFieldDefinition.objects.filter(
        entity=CustomFieldDefinition.Entity.TICKET, is_active=True, shown_on_web_form=True
    ).order_by("position", "key")
