"""Inboxes: their settings, and the one path every inbound message takes.

`receive_raw_email` is that path for SMTP, IMAP, imports and the web form alike: the raw
bytes are committed first, then parsed and threaded in a second transaction, so a parser
bug or a crash never loses a message, and a message delivered twice is stored once.
"""

import base64
import binascii
import json
import logging
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Value
from django.utils.text import slugify
from django.utils.translation import gettext as _

from serviceloop.accounts.models import Team, User
from serviceloop.accounts.services import require_settings_access
from serviceloop.core import clock
from serviceloop.core.batching import insert_later
from serviceloop.core.errors import Conflict, DomainError, InvalidInput, ObjectNotFound
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.core.transactions import unit_of_work
from serviceloop.customers.models import Customer
from serviceloop.customers.normalize import normalize_email
from serviceloop.customers.queries import KnownCustomers, customers_with_emails
from serviceloop.customers.services import create_senders, find_or_create_customer
from serviceloop.inboxes import auto_replies, outbound, tls
from serviceloop.inboxes.models import InboundMessage, Inbox, InboxTicket, OutboundMessage
from serviceloop.inboxes.parsing import (
    ParsedMail,
    content_hash,
    has_reply_prefix,
    normalize_subject,
    parse_headers,
    parse_message,
    ticket_numbers_in,
)
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Channel, Status, Ticket

logger = logging.getLogger(__name__)

# Addresses at these providers belong to unrelated people, so a shared domain says nothing.
PUBLIC_MAIL_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de",
    "gmx.net", "gmx.com", "web.de", "t-online.de", "proton.me", "protonmail.com",
    "mail.ru", "yandex.ru", "yandex.com", "qq.com", "163.com", "orange.fr", "free.fr",
    "laposte.net", "libero.it", "hotmail.fr", "hotmail.co.uk", "yahoo.fr", "yahoo.co.uk",
}  # fmt: skip

# Carries a contact form's custom field values (base64 JSON) inside the stored message.
WEB_FORM_FIELDS_HEADER = "X-Serviceloop-Fields"

INBOX_FIELDS = {
    "name", "is_active", "imap_host", "imap_port", "imap_security", "imap_username",
    "imap_password", "imap_folder", "imap_after_import", "imap_move_to", "smtp_host",
    "smtp_port", "smtp_username", "smtp_password", "smtp_use_tls", "smtp_use_ssl",
    "max_attachment_bytes", "send_acknowledgement", "acknowledgement_template",
    "thread_by_subject_days", "sender_rate_limit_per_hour", "team_id", "imap_ca_certificate",
}  # fmt: skip


# --- Inbox settings -----------------------------------------------------------------------


def _unique_slug(address: str) -> str:
    base = slugify(address.split("@")[0]) or "inbox"
    slug, n = base[:50], 2
    while Inbox.objects.filter(slug=slug).exists():
        slug = "%s-%d" % (base[:50], n)
        n += 1
    return slug


def _apply_inbox_fields(inbox: Inbox, changes: dict[str, Any]) -> None:
    unknown = set(changes) - INBOX_FIELDS
    if unknown:
        raise InvalidInput(
            _("Unknown inbox setting %(names)s.") % {"names": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    for name, value in changes.items():
        setattr(inbox, name, value)
    choices = {
        "imap_security": Inbox.ImapSecurity,
        "imap_after_import": Inbox.ImapAfterImport,
    }
    for name, kind in choices.items():
        if getattr(inbox, name) not in kind.values:
            raise InvalidInput(
                _("%(field)s must be one of: %(values)s.")
                % {"field": name, "values": ", ".join(kind.values)},
                field=name,
            )
    if "imap_ca_certificate" in changes:
        inbox.imap_ca_certificate = tls.checked_certificates(inbox.imap_ca_certificate)
    if inbox.imap_after_import == Inbox.ImapAfterImport.MOVE and not inbox.imap_move_to:
        raise InvalidInput(_("Name the folder to move imported mail to."), field="imap_move_to")
    if "{number}" not in inbox.acknowledgement_template:
        raise InvalidInput(
            _("The acknowledgement must contain {number}, the ticket number."),
            field="acknowledgement_template",
        )
    if inbox.smtp_use_tls and inbox.smtp_use_ssl:
        raise InvalidInput(_("Choose STARTTLS or TLS for SMTP, not both."), field="smtp_use_ssl")
    if inbox.team_id is not None and not Team.objects.filter(pk=inbox.team_id).exists():
        raise InvalidInput(_("There is no team %(id)s.") % {"id": inbox.team_id}, field="team_id")


@transaction.atomic
def create_inbox(*, actor: User | None, address: str, **settings: Any) -> Inbox:
    """Add an address the business owns; mail to it and its contact form become tickets."""
    if actor is not None:
        require_settings_access(actor)
    address = normalize_email(address, field="address")
    if Inbox.objects.filter(address=address).exists():
        raise Conflict(
            _("There is an inbox for %(address)s already.") % {"address": address},
            field="address",
        )
    inbox = Inbox(address=address, slug=_unique_slug(address))
    settings.setdefault("name", address)
    _apply_inbox_fields(inbox, settings)
    inbox.save()
    return inbox


@transaction.atomic
def update_inbox(*, actor: User, inbox_id: int, **changes: Any) -> Inbox:
    require_settings_access(actor)
    inbox = Inbox.objects.select_for_update().filter(pk=inbox_id).first()
    if inbox is None:
        raise ObjectNotFound("Inbox", inbox_id)
    _apply_inbox_fields(inbox, changes)
    inbox.save()
    return inbox


def delete_inbox(*, actor: User, inbox_id: int) -> None:
    """Remove an inbox; the messages it received stay (their inbox becomes empty)."""
    require_settings_access(actor)
    deleted, _rows = Inbox.objects.filter(pk=inbox_id).delete()
    if not deleted:
        raise ObjectNotFound("Inbox", inbox_id)


def inbox_for_recipients(recipients: list[str]) -> Inbox | None:
    """The active inbox one of these envelope recipients names, if any."""
    addresses = [r.strip().strip("<>").lower() for r in recipients]
    return Inbox.objects.filter(address__in=addresses, is_active=True).first()


# --- Receiving ----------------------------------------------------------------------------


@dataclass
class Received:
    """What became of one delivery: `outcome` is imported, duplicate or failed."""

    inbound: InboundMessage
    outcome: str


def _quick_message_id(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, sender and subject from the headers alone, before the full parse."""
    try:
        message_id, sender, subject = parse_headers(raw)
    except Exception:
        return "", "", ""
    return message_id, sender, subject[:250]


def _dedupe_key(message_id: str, digest: str) -> str:
    if message_id and len(message_id) <= 240:
        return message_id
    if message_id:
        return "mid-sha256:%s" % content_hash(message_id.encode("utf-8", "replace"))
    return "sha256:%s" % digest


def _raw_row(*, inbox: Inbox | None, raw: bytes, via: str) -> InboundMessage:
    """An unsaved row for raw bytes, with what the headers alone say about them."""
    digest = content_hash(raw)
    message_id, sender, subject = _quick_message_id(raw)
    return InboundMessage(
        inbox=inbox,
        via=via,
        raw=raw,
        size=len(raw),
        content_hash=digest,
        message_id=message_id,
        dedupe_key=_dedupe_key(message_id, digest),
        from_address=sender[:320],
        subject=subject,
        received_at=clock.now(),
    )


def store_raw_email(*, inbox: Inbox | None, raw: bytes, via: str) -> Received:
    """Commit the raw bytes, or find the message a second delivery of them repeats."""
    row = _raw_row(inbox=inbox, raw=raw, via=via)
    key, digest = row.dedupe_key, row.content_hash
    try:
        with transaction.atomic():
            row.save()
        return Received(row, "new")
    except IntegrityError:
        pass
    original = InboundMessage.objects.filter(dedupe_key=key, duplicate_of__isnull=True).first()
    if original is None:  # deleted in between: store it as new after all
        with transaction.atomic():
            row.save()
        return Received(row, "new")
    if original.content_hash == digest:
        # The very same bytes again (a retried delivery, a re-run import): nothing to keep.
        return Received(original, "duplicate")
    # Same Message-ID, different bytes (another route, or a client reusing IDs): keep
    # these bytes too, so nothing received is ever lost, but do not make a second ticket.
    row.duplicate_of = original
    row.state = InboundMessage.State.DUPLICATE
    with transaction.atomic():
        row.save()
    return Received(original, "duplicate")


def receive_raw_email(*, inbox: Inbox | None, raw: bytes, via: str) -> Received:
    """Store one raw message, then parse it and put it on its ticket. Safe to call twice."""
    received = store_raw_email(inbox=inbox, raw=raw, via=via)
    inbound = received.inbound
    if inbound.state == InboundMessage.State.RECEIVED:
        # New, or stored by a run that died before processing it: process it now.
        state = process_inbound(inbound_id=inbound.pk)
        inbound.state = state
        if received.outcome == "new":
            outcome = "failed" if state == InboundMessage.State.FAILED else "imported"
            return Received(inbound, outcome)
    return received


@unit_of_work()
def import_raw_emails(
    *,
    inbox: Inbox | None,
    raws: Iterable[bytes],
    via: str,
    parsed: Sequence[ParsedMail] | None = None,
) -> list[Received]:
    """Store and process a batch of messages from a source that keeps them (an import).

    One transaction for the batch: each message's raw bytes are stored (in a savepoint)
    before it is parsed, then parsed and threaded (`_process_new`), and a message that
    fails is kept as failed without touching the others. A crash before the commit loses
    only this batch, whose messages are still in the source; running the import again
    stores them, and skips those an earlier run committed. The batch's event log and
    outbox rows are written together at its end. `parsed`, when given, is what
    `parse_message` made of each of `raws`, in order (parsed ahead, in another process).
    """
    raws = list(raws)
    mails: Sequence[ParsedMail | None] = parsed if parsed is not None else [None] * len(raws)
    if len(mails) != len(raws):
        raise ValueError("parsed must hold one ParsedMail per raw message")
    stored = _store_raw_emails(inbox=inbox, raws=raws, via=via)
    # Stored just now in this transaction: nobody else can see these, let alone process
    # them, so they need neither a lock nor a second read.
    _process_new(
        [
            (received.inbound, mail)
            for received, mail in zip(stored, mails, strict=True)
            if received.outcome == "new"
        ]
    )
    results = []
    for received in stored:
        inbound = received.inbound
        if received.outcome == "new":
            failed = inbound.state == InboundMessage.State.FAILED
            received = Received(inbound, "failed" if failed else "imported")
        elif inbound.state == InboundMessage.State.RECEIVED:
            # Stored by a run that died before processing it.
            inbound.state = process_inbound(inbound_id=inbound.pk)
        results.append(received)
    return results


# What processing may change on a stored message; never its raw bytes, which stay as stored.
_PROCESSED_FIELDS = [
    "message_id", "from_address", "subject", "is_automatic", "state", "processed_at",
]  # fmt: skip
# All it may set in memory, read again after a rolled-back pass.
_PROCESSING_FIELDS = [*_PROCESSED_FIELDS, "error", "ticket", "ticket_message"]


def _process_new(pending: list[tuple[InboundMessage, ParsedMail | None]]) -> None:
    """Process messages stored just now, without a savepoint per message while none fails.

    Most batches hold no message that fails, and a savepoint costs two statements: the
    messages are processed in one savepoint together. When one fails, that run is rolled
    back; the messages before it are processed again together, the failing one alone in a
    savepoint of its own (kept as failed), and the rest as before. The outcome is the
    same as one savepoint per message.
    """
    inbounds = [inbound for inbound, _mail in pending]
    mails = [mail or parse_message(bytes(inbound.raw)) for inbound, mail in pending]
    senders = [inbound.from_address for inbound in inbounds]
    lookups = _Lookups()
    lookups.look_up_senders(senders, mails)
    start = 0
    while start < len(inbounds):
        failing = _process_together(inbounds, mails, start, len(inbounds), lookups)
        if failing is None:
            return
        # The run was rolled back: what processing set in memory is stale, and so is what
        # the look-ups learnt from it.
        for inbound in inbounds[start : failing + 1]:
            inbound.refresh_from_db(fields=_PROCESSING_FIELDS)
        lookups = _Lookups()
        lookups.look_up_senders(senders)
        if _process_together(inbounds, mails, start, failing, lookups) is not None:
            # Not the same outcome twice: leave nothing to chance, one savepoint each.
            for inbound, mail in zip(inbounds[start:], mails[start:], strict=True):
                inbound.refresh_from_db(fields=_PROCESSING_FIELDS)
                _process_or_record_failure(inbound, lookups, mail)
            return
        _process_or_record_failure(inbounds[failing], lookups, mails[failing])
        start = failing + 1


def _process_together(
    inbounds: list[InboundMessage],
    mails: list[ParsedMail],
    start: int,
    stop: int,
    lookups: "_Lookups",
) -> int | None:
    """Process messages [start, stop) in one savepoint; the index of one that failed, or None."""
    index = start
    try:
        with unit_of_work(savepoint=True):
            for index in range(start, stop):
                _process(inbounds[index], lookups, mails[index])
                lookups.processed(inbounds[index])
    except Exception as error:
        logger.info("Message %s of the batch failed (%r); it is done on its own", index, error)
        return index
    return None


def _store_raw_emails(*, inbox: Inbox | None, raws: list[bytes], via: str) -> list[Received]:
    """`store_raw_email` for many messages, in a few statements rather than a few each.

    The same outcomes: a new message is stored; the same bytes again (in the database or
    earlier in the batch) are a duplicate; the same Message-ID with other bytes is kept,
    marked as a duplicate of the first.
    """
    rows = [_raw_row(inbox=inbox, raw=raw, via=via) for raw in raws]
    originals = {
        row.dedupe_key: row
        for row in InboundMessage.objects.filter(
            dedupe_key__in=sorted({row.dedupe_key for row in rows}), duplicate_of__isnull=True
        ).defer("raw")
    }
    results, new, repeated = [], [], []
    for row in rows:
        original = originals.get(row.dedupe_key)
        if original is None:
            originals[row.dedupe_key] = row
            new.append(row)
            results.append(Received(row, "new"))
            continue
        if original.content_hash != row.content_hash:
            row.duplicate_of = original
            row.state = InboundMessage.State.DUPLICATE
            repeated.append(row)
        results.append(Received(original, "duplicate"))
    try:
        with transaction.atomic():
            InboundMessage.objects.bulk_create(new)
            # After the new rows, which some of these are duplicates of, have their ids.
            InboundMessage.objects.bulk_create(repeated)
    except IntegrityError:
        # Another process stored one of them since the look-up: one by one, as it comes.
        return [store_raw_email(inbox=inbox, raw=raw, via=via) for raw in raws]
    return results


def reprocess_inbound(*, inbound_id: int) -> str:
    """Run a stored message through the parser again (after a fix); returns its new state.

    A message that already made its ticket message is left alone, so this never duplicates.
    """
    updated = InboundMessage.objects.filter(
        pk=inbound_id,
        ticket_message__isnull=True,
        state__in=[InboundMessage.State.FAILED, InboundMessage.State.IGNORED],
    ).update(state=InboundMessage.State.RECEIVED, error="")
    if not updated and not InboundMessage.objects.filter(pk=inbound_id).exists():
        raise ObjectNotFound("Inbound message", inbound_id)
    return process_inbound(inbound_id=inbound_id)


def process_inbound(*, inbound_id: int) -> str:
    """Parse and thread one stored message exactly once; a failure is recorded, not raised."""
    with unit_of_work():
        inbound = (
            InboundMessage.objects.select_for_update(of=("self",))
            .select_related("inbox")
            .filter(pk=inbound_id, state=InboundMessage.State.RECEIVED)
            .first()
        )
        if inbound is None:
            return InboundMessage.objects.get(pk=inbound_id).state
        return _process_or_record_failure(inbound, _Lookups())


@dataclass
class _Lookups:
    """What processing a batch of messages reads once rather than once per message.

    Only what a processed message leaves behind is added (`processed`); a message that
    fails rolls back its savepoint and is forgotten here too (`failed`).
    """

    _our_addresses: set[str] | None = None
    # Customers by normalized sender address, for the senders looked up in bulk.
    customers: KnownCustomers | None = None
    # Messages each sender had processed in the last hour (the rate limit), by from_address.
    processed_last_hour: dict[str, int] = field(default_factory=dict)
    _staged_customer: tuple[str, Customer] | None = None

    @property
    def our_addresses(self) -> set[str]:
        if self._our_addresses is None:
            self._our_addresses = set(Inbox.objects.values_list("address", flat=True))
        return self._our_addresses

    def look_up_senders(self, senders: list[str], mails: list[ParsedMail] | None = None) -> None:
        """Read the customers and recent mail of a batch's senders: two queries in all.

        With the batch's parsed `mails`, the senders nobody has yet are created as
        customers too, together (bounces make no customer; they attach to a ticket).
        """
        if not senders:
            return
        addresses = set()
        for sender in senders:
            try:
                addresses.add(normalize_email(sender))
            except InvalidInput:
                continue  # processing will say what is wrong with it
        names: dict[str, str] = {}
        for mail in mails or []:
            if mail.bounce is None and mail.from_address:
                try:
                    names.setdefault(normalize_email(mail.from_address), mail.from_name)
                except InvalidInput:
                    continue
        self.customers = customers_with_emails(addresses | set(names))
        if names:
            create_senders(names=names, known=self.customers)
        self.processed_last_hour = dict.fromkeys(senders, 0)
        recent = (
            InboundMessage.objects.filter(
                from_address__in=sorted(set(senders)),
                state=InboundMessage.State.PROCESSED,
                received_at__gte=clock.now() - timedelta(hours=1),
                duplicate_of__isnull=True,
            )
            .order_by()
            .values_list("from_address")
            .annotate(n=Count("id"))
        )
        self.processed_last_hour.update(recent)

    def customer(self, *, email: str, name: str) -> Customer:
        customer = find_or_create_customer(email=email, name=name, known=self.customers)
        self._staged_customer = (email, customer)
        return customer

    def over_rate_limit(self, inbound: InboundMessage, limit: int) -> bool:
        sender = inbound.from_address
        if sender not in self.processed_last_hour:
            recent = InboundMessage.objects.filter(
                from_address=sender,
                state=InboundMessage.State.PROCESSED,
                received_at__gte=clock.now() - timedelta(hours=1),
                duplicate_of__isnull=True,
            ).exclude(pk=inbound.pk)
            # Counting stops at the limit (through inbound_sender_state_idx), so a flood of
            # mail from one sender costs no more to check than a trickle.
            self.processed_last_hour[sender] = recent[:limit].count()
        return self.processed_last_hour[sender] >= limit

    def processed(self, inbound: InboundMessage) -> None:
        """The message's savepoint is released: what it did is there for the next one."""
        staged, self._staged_customer = self._staged_customer, None
        sender = inbound.from_address
        if inbound.state == InboundMessage.State.PROCESSED and sender in self.processed_last_hour:
            self.processed_last_hour[sender] += 1
        if staged is not None and self.customers is not None:
            self.customers.by_address[normalize_email(staged[0])] = staged[1]

    def failed(self, inbound: InboundMessage) -> None:
        """The message's savepoint rolled back: forget what it may have changed."""
        self._staged_customer = None
        self.processed_last_hour.pop(inbound.from_address, None)
        self.customers = None  # a customer it created or renamed is gone: look up each anew


def _process_or_record_failure(
    inbound: InboundMessage, lookups: _Lookups, mail: ParsedMail | None = None
) -> str:
    """Process a stored message in a savepoint; on any error keep it, marked failed."""
    try:
        # The services it runs join this unit of work; a message that fails rolls back
        # its savepoint, event log and outbox rows included.
        with unit_of_work(savepoint=True):
            _process(inbound, lookups, mail or parse_message(bytes(inbound.raw)))
        lookups.processed(inbound)
        return inbound.state
    except Exception as error:
        lookups.failed(inbound)
        detail = error.message if isinstance(error, DomainError) else repr(error)
        logger.warning("Inbound message %s failed: %s", inbound.pk, detail)
        inbound.state = InboundMessage.State.FAILED
        inbound.error = ("%s\n\n%s" % (detail, traceback.format_exc()))[-8000:]
        inbound.processed_at = clock.now()
        InboundMessage.objects.filter(pk=inbound.pk).update(
            state=inbound.state, error=inbound.error, processed_at=inbound.processed_at
        )
        return InboundMessage.State.FAILED


def _finish(inbound: InboundMessage, state: str, **fields: Any) -> None:
    inbound.state = state
    inbound.processed_at = clock.now()
    for name, value in fields.items():
        setattr(inbound, name, value)
    inbound.save(update_fields=[*_PROCESSED_FIELDS, *(name.removesuffix("_id") for name in fields)])


def _process(inbound: InboundMessage, lookups: _Lookups, mail: ParsedMail) -> None:
    inbound.message_id = mail.message_id or inbound.message_id
    inbound.from_address = mail.from_address[:320]
    inbound.subject = mail.subject[:250]
    inbound.is_automatic = bool(mail.automatic_reason)
    inbox = inbound.inbox

    if mail.bounce is not None and _attach_bounce(inbound, mail):
        return
    sender = mail.from_address
    if not sender:
        _finish(inbound, InboundMessage.State.FAILED, error=_("The message has no sender address."))
        return
    limit = inbox.sender_rate_limit_per_hour if inbox is not None else 0
    if limit and lookups.over_rate_limit(inbound, limit):
        _finish(
            inbound,
            InboundMessage.State.IGNORED,
            error=_("Rate limited: %(sender)s sent more than %(limit)s messages in an hour.")
            % {"sender": sender, "limit": limit},
        )
        return
    customer = lookups.customer(email=sender, name=mail.from_name)
    ticket_id = None if inbound.via == InboundMessage.Via.WEB else _thread(mail, inbound, customer)
    if ticket_id is not None and mail.auto_reply_reason:
        note = auto_replies.note_auto_reply_on_waiting_ticket(ticket_id=ticket_id, mail=mail)
        if note is not None:
            # Kept on its ticket as a note; the ticket stays as it is (see auto_replies).
            processed = InboundMessage.State.PROCESSED
            _finish(inbound, processed, ticket_id=note.ticket_id, ticket_message=note)
            return
    attachments, dropped = _attachments(mail, inbox)
    metadata = _metadata(mail, inbound)
    body = mail.new_text or mail.text or _("(no text)")
    channel = Channel.WEB if inbound.via == InboundMessage.Via.WEB else Channel.EMAIL
    if ticket_id is None:
        landed, first_message = tickets.open_ticket(
            actor=None,
            subject=" ".join(mail.subject.split())[:250] or _("(no subject)"),
            body=body,
            body_html=mail.html,
            requester_email=customer.email,
            requester_name=mail.from_name,
            requester=customer,
            channel=channel,
            team_id=inbox.team_id if inbox else None,
            custom_fields=_web_form_values(inbound),
            attachments=attachments,
            metadata=metadata,
        )
        message_id = first_message.pk
        is_new_ticket = True
    else:
        message = tickets.add_customer_message(
            ticket_id=ticket_id,
            customer=customer,
            body=body,
            body_html=mail.html,
            channel=channel,
            metadata=metadata,
            attachments=attachments,
        )
        # A reply to a closed ticket opens a follow-up: a new ticket, acknowledged as one.
        is_new_ticket = message.ticket_id != ticket_id and message.ticket.messages.count() == 1
        landed, message_id = message.ticket, message.pk
    if inbox is not None:
        # The first inbox a ticket came in through stays its inbox. Nothing processing
        # mail reads it, so it is written with the batch's event rows.
        insert_later([InboxTicket(ticket=landed, inbox=inbox)], ignore_conflicts=True)
    _add_followers(landed, mail, customer, lookups)
    if dropped:
        tickets.add_system_note(ticket_id=landed.pk, body=_dropped_note(dropped, inbox))
    _finish(inbound, InboundMessage.State.PROCESSED, ticket=landed, ticket_message_id=message_id)
    if (
        is_new_ticket
        and inbox is not None
        and inbox.send_acknowledgement
        and not mail.automatic_reason
    ):
        outbound.queue_acknowledgement(ticket=landed, inbox=inbox, inbound=inbound)


def _metadata(mail: ParsedMail, inbound: InboundMessage) -> dict[str, Any]:
    return {
        "inbound_message_id": inbound.pk,
        "message_id": mail.message_id,
        "from": mail.from_address,
        "from_name": mail.from_name,
        "to": mail.to[:20],
        "cc": mail.cc[:20],
        "subject": mail.subject,
        "date": mail.date,
        # What the customer wrote now is the message body; the quoted history and
        # signature stay here, folded away.
        "full_text": mail.text if mail.text != mail.new_text else "",
        "automatic": mail.automatic_reason,
    }


# --- Threading ----------------------------------------------------------------------------


def _ticket_by_references(mail: ParsedMail) -> int | None:
    """The ticket of the most specific reference we know: our own mail first, then theirs.

    One query over both indexed Message-ID columns. A ticket a reference points to
    always exists: deleting a ticket deletes its outbound mail and unlinks its inbound.
    """
    refs = mail.thread_references[:100]
    if not refs:
        return None
    ours = (
        OutboundMessage.objects.filter(message_id__in=refs)
        .order_by()
        .annotate(rank=Value(0))
        .values_list("message_id", "ticket_id", "rank")
    )
    theirs = (
        InboundMessage.objects.filter(message_id__in=refs, ticket__isnull=False)
        .order_by()
        .annotate(rank=Value(1))
        .values_list("message_id", "ticket_id", "rank")
    )
    known: dict[str, tuple[int, int]] = {}
    for message_id, ticket_id, rank in ours.union(theirs, all=True):
        if message_id not in known or rank < known[message_id][0]:
            known[message_id] = (rank, ticket_id)
    for ref in refs:  # the most specific reference first
        if ref in known:
            return known[ref][1]
    return None


def _may_write_to(customer: Customer, ticket: Ticket) -> bool:
    if ticket.requester_id == customer.pk:
        return True
    if customer.organization_id and customer.organization_id == ticket.organization_id:
        return True
    return ticket.followers.filter(pk=customer.pk).exists()


def _ticket_by_token(mail: ParsedMail, customer: Customer) -> Ticket | None:
    for number in ticket_numbers_in(mail.subject):
        ticket = Ticket.objects.filter(number=number).first()
        # A number in a subject is easy to guess; only people on the ticket may use it.
        if ticket is not None and _may_write_to(customer, ticket):
            return ticket
    return None


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def _ticket_by_subject(
    mail: ParsedMail, inbound: InboundMessage, customer: Customer
) -> Ticket | None:
    """The ticket a subject-only reply ("Re: <subject>", no threading headers) continues.

    Only a subject with a reply prefix counts: the same subject written anew is a new
    request. The conversation of the mail it quotes comes first; then the sender's own
    request with that subject; then the latest such conversation they wrote in or, for a
    company domain (not a public mail provider), a colleague's at the same company.
    """
    inbox = inbound.inbox
    days = inbox.thread_by_subject_days if inbox is not None else 0
    subject = normalize_subject(mail.subject)
    if not days or not subject or not has_reply_prefix(mail.subject):
        return None
    earlier = InboundMessage.objects.filter(
        received_at__gte=clock.now() - timedelta(days=days),
        ticket__isnull=False,
        state=InboundMessage.State.PROCESSED,
        duplicate_of__isnull=True,
    ).exclude(pk=inbound.pk)
    domain = _domain(mail.from_address)
    company = domain not in PUBLIC_MAIL_DOMAINS
    # The mail the reply quotes ("On ..., ines@acme.example wrote:") names whose
    # conversation it continues: the sender's own, or a colleague's at the same company.
    quoted = mail.quoted_from
    if quoted and (quoted == mail.from_address or (company and _domain(quoted) == domain)):
        ticket = _latest_ticket_with_subject(earlier.filter(from_address=quoted), subject)
        if ticket is not None and _may_join(ticket, mail, customer, domain, quoted):
            return ticket
    # Otherwise a request of the sender's own with this subject; failing that, the latest
    # such conversation at their company (one they wrote in, or a colleague's).
    search = Q(from_address=mail.from_address)
    if company:
        search |= Q(from_address__endswith="@" + domain)
    latest: Ticket | None = None
    for row in (
        earlier.filter(search)
        .order_by("-received_at", "-id")
        .only("subject", "from_address", "ticket_id")[:200]
    ):
        if row.ticket_id is None or normalize_subject(row.subject) != subject:
            continue
        ticket = Ticket.objects.select_related("requester").filter(id=row.ticket_id).first()
        if ticket is None or not _may_join(ticket, mail, customer, domain, row.from_address):
            continue
        if ticket.requester_id == customer.pk:
            return ticket
        latest = latest or ticket
    return latest


def _latest_ticket_with_subject(rows: QuerySet[InboundMessage], subject: str) -> Ticket | None:
    for row in rows.order_by("-received_at", "-id").only("subject", "ticket_id")[:200]:
        if row.ticket_id is not None and normalize_subject(row.subject) == subject:
            return Ticket.objects.select_related("requester").filter(id=row.ticket_id).first()
    return None


def _may_join(
    ticket: Ticket, mail: ParsedMail, customer: Customer, domain: str, written_by: str
) -> bool:
    """A subject-only reply joins a ticket its sender wrote in, or one of their company's."""
    if written_by == mail.from_address or _may_write_to(customer, ticket):
        return True
    return _domain(ticket.requester.email) == domain
    return None


def _thread(mail: ParsedMail, inbound: InboundMessage, customer: Customer) -> int | None:
    """The id of the ticket this message continues, or None for a new ticket."""
    ticket_id = _ticket_by_references(mail)
    if ticket_id is not None:
        return ticket_id
    ticket = _ticket_by_token(mail, customer) or _ticket_by_subject(mail, inbound, customer)
    return ticket.pk if ticket is not None else None


def _add_followers(ticket: Ticket, mail: ParsedMail, customer: Customer, lookups: _Lookups) -> None:
    if ticket.status == Status.CLOSED:
        return
    ours = lookups.our_addresses
    candidates = [*mail.cc, *mail.to]
    if customer.pk != ticket.requester_id:
        candidates.append(customer.email)
    emails = []
    for address in dict.fromkeys(candidates):
        if address in ours:
            continue
        try:
            emails.append(normalize_email(address))
        except InvalidInput:
            continue
    if emails:
        tickets.add_followers(number=ticket.number, agent=None, emails=emails[:20], ticket=ticket)


# --- Attachments and bounces --------------------------------------------------------------


def _attachments(
    mail: ParsedMail, inbox: Inbox | None
) -> tuple[list[tickets.NewAttachment], list[tuple[str, int]]]:
    from django.conf import settings

    limit = settings.SERVICELOOP_MAX_ATTACHMENT_BYTES
    if inbox is not None:
        limit = min(limit, inbox.max_attachment_bytes)
    kept, dropped = [], []
    for item in mail.attachments:
        if len(item.content) > limit:
            dropped.append((item.filename, len(item.content)))
            continue
        kept.append(
            tickets.NewAttachment(
                filename=item.filename,
                content_type=item.content_type,
                content=item.content,
                content_id=item.content_id,
            )
        )
    return kept, dropped


def _dropped_note(dropped: list[tuple[str, int]], inbox: Inbox | None) -> str:
    lines = ["%s (%s bytes)" % (name, size) for name, size in dropped]
    limit = inbox.max_attachment_bytes if inbox else 0
    return _(
        "Attachments over the size limit of %(limit)s bytes were not kept: %(files)s. "
        "The original message is stored; an admin can find it under inbound messages."
    ) % {"limit": limit, "files": ", ".join(lines)}


def _attach_bounce(inbound: InboundMessage, mail: ParsedMail) -> bool:
    """Put a delivery failure on the ticket whose mail bounced; False if it is not ours."""
    assert mail.bounce is not None
    delivery = (
        OutboundMessage.objects.select_for_update()
        .filter(message_id__in=mail.bounce.original_message_ids)
        .first()
    )
    if delivery is None:
        return False
    reason = mail.bounce.diagnostic or mail.bounce.status or mail.new_text[:500]
    delivery.state = OutboundMessage.State.BOUNCED
    delivery.last_error = reason[:4000]
    delivery.save(update_fields=["state", "last_error"])
    note = tickets.add_system_note(
        ticket_id=delivery.ticket_id,
        body=_("The email to %(to)s bounced: %(reason)s")
        % {"to": delivery.to_address, "reason": reason or _("no reason given")},
    )
    _finish(
        inbound, InboundMessage.State.PROCESSED, ticket_id=delivery.ticket_id, ticket_message=note
    )
    return True


# --- The web form -------------------------------------------------------------------------


def submit_contact_form(
    *,
    inbox: Inbox,
    name: str,
    email_address: str,
    subject: str,
    message: str,
    attachments: list[tuple[str, str, bytes]],
    custom_fields: dict[str, Any] | None = None,
) -> Received:
    """Turn a contact-form submission into a stored message and a new ticket.

    `custom_fields` are values of the ticket fields the form asks, checked already with
    `clean_custom_fields`; they travel in the stored message, so a reprocess keeps them.
    """
    from email.message import EmailMessage
    from email.utils import formataddr, formatdate, make_msgid

    mail = EmailMessage()
    mail["From"] = formataddr((name, email_address))
    mail["To"] = inbox.address
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid("contact", domain=inbox.address.rsplit("@", 1)[-1])
    mail["X-Serviceloop-Via"] = "web-form"
    if custom_fields:
        encoded = json.dumps(custom_fields, ensure_ascii=True).encode()
        mail[WEB_FORM_FIELDS_HEADER] = base64.b64encode(encoded).decode()
    mail.set_content(message)
    for filename, content_type, content in attachments:
        maintype, _sep, subtype = content_type.partition("/")
        mail.add_attachment(
            content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=filename,
        )
    # No folding: a folded header would be re-encoded, and the field values with it.
    raw = mail.as_bytes(policy=mail.policy.clone(max_line_length=None))
    received = receive_raw_email(inbox=inbox, raw=raw, via=InboundMessage.Via.WEB)
    # Processing loaded and saved its own copy of the row; show the person its outcome.
    received.inbound.refresh_from_db(fields=["state", "ticket"])
    return received


def _web_form_values(inbound: InboundMessage) -> dict[str, Any]:
    """The custom field values a contact-form submission carries, for fields still asked."""
    if inbound.via != InboundMessage.Via.WEB:
        return {}  # mail from outside cannot set fields by sending our header
    from email import policy
    from email.parser import BytesHeaderParser

    header = BytesHeaderParser(policy=policy.compat32).parsebytes(bytes(inbound.raw))
    encoded = "".join(str(header.get(WEB_FORM_FIELDS_HEADER, "")).split())
    if not encoded:
        return {}
    try:
        values = json.loads(base64.b64decode(encoded, validate=True))
    except (ValueError, binascii.Error):
        return {}
    if not isinstance(values, dict):
        return {}
    # A field switched off since the submission is dropped rather than failing the message.
    asked = set(
        CustomFieldDefinition.objects.filter(
            entity=CustomFieldDefinition.Entity.TICKET, is_active=True
        ).values_list("key", flat=True)
    )
    return {key: value for key, value in values.items() if key in asked}


def inbound_messages_to_reprocess(*, failed_only: bool) -> list[int]:
    states = [InboundMessage.State.FAILED]
    if not failed_only:
        states += [InboundMessage.State.RECEIVED, InboundMessage.State.IGNORED]
    return list(
        InboundMessage.objects.filter(state__in=states, ticket_message__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
