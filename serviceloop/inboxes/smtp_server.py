"""`serviceloop smtpd`: an SMTP receiver a mail server can deliver to (aiosmtpd).

The envelope recipient chooses the inbox; an unknown recipient is refused with 550 at
RCPT time. The message is acknowledged (250) only after its raw bytes are committed.
"""

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from serviceloop.inboxes.models import InboundMessage

logger = logging.getLogger(__name__)


def _inbox_id_for(address: str) -> int | None:
    from serviceloop.inboxes.services import inbox_for_recipients

    close_old_connections()
    inbox = inbox_for_recipients([address])
    return inbox.pk if inbox else None


def _receive(inbox_ids: list[int], raw: bytes) -> str:
    from serviceloop.inboxes.models import Inbox
    from serviceloop.inboxes.services import receive_raw_email

    close_old_connections()
    outcomes = []
    for inbox in Inbox.objects.filter(pk__in=inbox_ids).order_by("id"):
        outcomes.append(
            receive_raw_email(inbox=inbox, raw=raw, via=InboundMessage.Via.SMTP).outcome
        )
    return ", ".join(outcomes)


class InboxHandler:
    """aiosmtpd handler: route by recipient, store, then say 250."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        inbox_id = await sync_to_async(_inbox_id_for, thread_sensitive=True)(address)
        if inbox_id is None:
            return "550 5.1.1 No such mailbox here: %s" % address
        envelope.rcpt_tos.append(address)
        inbox_ids: list[int] = getattr(envelope, "inbox_ids", [])
        if inbox_id not in inbox_ids:
            inbox_ids.append(inbox_id)
        envelope.inbox_ids = inbox_ids  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            outcome = await sync_to_async(_receive, thread_sensitive=True)(
                list(getattr(envelope, "inbox_ids", [])), raw
            )
        except Exception:
            logger.exception("Could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        logger.info("Message from %s: %s", envelope.mail_from, outcome)
        return "250 2.0.0 Message accepted"


def make_controller(host: str, port: int, **kwargs: Any) -> Controller:
    return Controller(
        InboxHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.SERVICELOOP_SMTPD_MAX_MESSAGE_BYTES,
        decode_data=False,
        **kwargs,
    )
