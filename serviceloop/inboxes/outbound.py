"""Outbound email: agent replies and acknowledgements, sent with retries and threading headers.

Each email is an `OutboundMessage` row first (written in the transaction that decided to
send it), then a django-tasks task sends it; the scheduled `send_due_outbound_messages`
sweep retries with backoff and finds any send lost between commit and enqueue.
"""

import logging
import smtplib
from datetime import timedelta
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from serviceloop.core import clock
from serviceloop.inboxes.models import InboundMessage, Inbox, InboxTicket, OutboundMessage
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Channel, Message, Ticket

logger = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=5)
MAX_REFERENCES = 20


def _domain(inbox: Inbox | None) -> str:
    address = inbox.address if inbox else settings.DEFAULT_FROM_EMAIL
    return address.rsplit("@", 1)[-1].strip(">") or "localhost"


def new_message_id(inbox: Inbox | None) -> str:
    return make_msgid("sl", domain=_domain(inbox))


def subject_with_token(ticket: Ticket) -> str:
    token = "[#%s]" % ticket.number
    if token in ticket.subject:
        return ticket.subject
    return "%s %s" % (token, ticket.subject)


def inbox_for_ticket(ticket: Ticket) -> Inbox | None:
    """The inbox a ticket's mail goes out from: where it came in, else the first inbox."""
    related = [
        ticket.pk,
        ticket.follow_up_of_id,
        *ticket.merged_tickets.values_list("pk", flat=True),
    ]
    link = (
        InboxTicket.objects.select_related("inbox")
        .filter(ticket_id__in=[pk for pk in related if pk], inbox__is_active=True)
        .first()
    )
    if link is not None:
        return link.inbox
    if ticket.channel in (Channel.EMAIL, Channel.WEB, Channel.AGENT):
        return Inbox.objects.filter(is_active=True).order_by("id").first()
    return None


def _enqueue_on_commit(outbound_id: int) -> None:
    def enqueue() -> None:
        from serviceloop.inboxes.tasks import send_outbound_email

        try:
            send_outbound_email.enqueue(outbound_id=outbound_id)
        except Exception:
            # The row is pending; the scheduled sweep sends it.
            logger.exception("Could not enqueue outbound email %s", outbound_id)

    transaction.on_commit(enqueue)


def queue_acknowledgement(*, ticket: Ticket, inbox: Inbox, inbound: InboundMessage) -> None:
    """Owe the requester one "we got your request" email for a new ticket."""
    if not ticket.requester.email:
        return
    try:
        with transaction.atomic():
            row = OutboundMessage.objects.create(
                inbox=inbox,
                ticket=ticket,
                kind=OutboundMessage.Kind.ACKNOWLEDGEMENT,
                message_id=new_message_id(inbox),
                to_address=ticket.requester.email,
                subject=subject_with_token(ticket)[:300],
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
    except IntegrityError:
        return  # acknowledged already
    _enqueue_on_commit(row.pk)


@transaction.atomic
def queue_reply(*, message_id: int) -> OutboundMessage | None:
    """Owe the requester an email carrying this agent reply; safe to call twice."""
    message = Message.objects.select_related("ticket__requester").filter(pk=message_id).first()
    if message is None or message.kind != Message.Kind.REPLY:
        return None
    existing = OutboundMessage.objects.filter(ticket_message=message).first()
    if existing is not None:
        return existing
    ticket = message.ticket
    inbox = inbox_for_ticket(ticket)
    if inbox is None or not ticket.requester.email:
        return None
    followers = sorted(
        set(ticket.followers.exclude(email="").values_list("email", flat=True))
        - {ticket.requester.email, inbox.address}
    )
    try:
        with transaction.atomic():
            row = OutboundMessage.objects.create(
                inbox=inbox,
                ticket=ticket,
                ticket_message=message,
                kind=OutboundMessage.Kind.REPLY,
                message_id=new_message_id(inbox),
                to_address=ticket.requester.email,
                cc=followers[:20],
                subject=subject_with_token(ticket)[:300],
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
    except IntegrityError:
        return OutboundMessage.objects.filter(ticket_message=message).first()
    _enqueue_on_commit(row.pk)
    return row


def _thread_headers(outbound: OutboundMessage) -> tuple[str, list[str]]:
    """In-Reply-To (the customer's last message) and References for one email."""
    ticket = outbound.ticket
    ticket_ids = [ticket.pk, *ticket.merged_tickets.values_list("pk", flat=True)]
    if ticket.follow_up_of_id:
        ticket_ids.append(ticket.follow_up_of_id)
    inbound = list(
        InboundMessage.objects.filter(ticket_id__in=ticket_ids, duplicate_of__isnull=True)
        .exclude(message_id="")
        .filter(received_at__lte=outbound.created_at)
        .order_by("received_at", "id")
        .values_list("received_at", "message_id")
    )
    sent = list(
        OutboundMessage.objects.filter(ticket_id__in=ticket_ids, created_at__lt=outbound.created_at)
        .exclude(pk=outbound.pk)
        .values_list("created_at", "message_id")
    )
    in_reply_to = inbound[-1][1] if inbound else ""
    thread = [mid for _at, mid in sorted(inbound + sent)]
    references = list(dict.fromkeys(thread))[-MAX_REFERENCES:]
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    return in_reply_to, references


def _connection(inbox: Inbox | None) -> BaseEmailBackend:
    if inbox is not None and inbox.smtp_host:
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=inbox.smtp_host,
            port=inbox.smtp_port or (465 if inbox.smtp_use_ssl else 25),
            username=inbox.smtp_username or None,
            password=inbox.smtp_password or None,
            use_tls=inbox.smtp_use_tls,
            use_ssl=inbox.smtp_use_ssl,
            timeout=30,
        )
    return get_connection(timeout=30) if settings.EMAIL_HOST else get_connection()


def build_email(outbound: OutboundMessage) -> EmailMultiAlternatives:
    """The MIME message for one outbound row: text + HTML, attachments, threading headers."""
    inbox = outbound.inbox
    ticket = outbound.ticket
    sender = formataddr((inbox.name, inbox.address)) if inbox else settings.DEFAULT_FROM_EMAIL
    headers = {"Message-ID": outbound.message_id, "X-Serviceloop-Ticket": str(ticket.number)}
    in_reply_to, references = _thread_headers(outbound)
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    if outbound.kind == OutboundMessage.Kind.ACKNOWLEDGEMENT:
        # RFC 3834: say this was sent automatically, so other robots do not answer it.
        headers["Auto-Submitted"] = "auto-replied"
        template = inbox.acknowledgement_template if inbox else ""
        text = template.replace("{number}", str(ticket.number)).replace("{subject}", ticket.subject)
        html = linebreaks(escape(text))
        attachments = []
    else:
        message = outbound.ticket_message
        if message is None:
            raise ValueError("outbound reply %s lost its message" % outbound.pk)
        text = message.body_text
        html = message.body_html or linebreaks(escape(text))
        attachments = list(message.attachments.all())
    email = EmailMultiAlternatives(
        subject=outbound.subject,
        body=text,
        from_email=sender,
        to=[outbound.to_address],
        cc=list(outbound.cc),
        headers=headers,
        connection=_connection(inbox),
    )
    email.attach_alternative(html, "text/html")
    for attachment in attachments:
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError | UnicodeError)


def _backoff(attempts: int) -> timedelta:
    base = settings.SERVICELOOP_EMAIL_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def attempt_send(*, outbound_id: int) -> str:
    """Send one due outbound email once; return its state afterwards. Safe to call twice."""
    now = clock.now()
    claimed = OutboundMessage.objects.filter(
        Q(state=OutboundMessage.State.PENDING)
        | Q(state=OutboundMessage.State.SENDING, lease_until__lt=now),
        pk=outbound_id,
        next_attempt_at__lte=now,
    ).update(state=OutboundMessage.State.SENDING, lease_until=now + SENDING_LEASE)
    outbound = (
        OutboundMessage.objects.select_related("inbox", "ticket", "ticket_message")
        .filter(pk=outbound_id)
        .first()
    )
    if outbound is None:
        return "missing"
    if not claimed:
        return outbound.state
    attempts = outbound.attempts + 1
    try:
        build_email(outbound).send(fail_silently=False)
    except Exception as error:
        permanent = _is_permanent(error) or attempts >= settings.SERVICELOOP_EMAIL_MAX_ATTEMPTS
        detail = "%s: %s" % (type(error).__name__, error)
        logger.warning("Outbound email %s failed (attempt %s): %s", outbound.pk, attempts, detail)
        with transaction.atomic():
            OutboundMessage.objects.filter(pk=outbound.pk).update(
                state=OutboundMessage.State.FAILED if permanent else OutboundMessage.State.PENDING,
                attempts=attempts,
                last_error=detail[:4000],
                lease_until=None,
                next_attempt_at=clock.now() + _backoff(attempts),
            )
            if permanent:
                tickets.add_system_note(
                    ticket_id=outbound.ticket_id,
                    body=_("The email to %(to)s could not be sent after %(n)s attempts: %(error)s")
                    % {"to": outbound.to_address, "n": attempts, "error": detail[:1000]},
                )
        return OutboundMessage.State.FAILED if permanent else OutboundMessage.State.PENDING
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        state=OutboundMessage.State.SENT,
        attempts=attempts,
        last_error="",
        lease_until=None,
        sent_at=clock.now(),
    )
    return OutboundMessage.State.SENT


def send_due_outbound_messages(*, limit: int = 100) -> int:
    """Send what is due (retries, and sends lost between commit and enqueue)."""
    now = clock.now()
    due = OutboundMessage.objects.filter(
        Q(state=OutboundMessage.State.PENDING, next_attempt_at__lte=now)
        | Q(state=OutboundMessage.State.SENDING, lease_until__lt=now)
    ).order_by("next_attempt_at")
    ids = list(due.values_list("id", flat=True)[:limit])
    for outbound_id in ids:
        attempt_send(outbound_id=outbound_id)
    return len(ids)
