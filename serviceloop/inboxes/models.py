"""Email inboxes and the web form: the addresses a business owns, and every message in and out."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from serviceloop.tickets.models import Message, Ticket

DEFAULT_ACKNOWLEDGEMENT = (
    "Hello,\n\n"
    "Thank you for writing to us. Your request has been received as ticket #{number} "
    '("{subject}"), and a member of our team will answer soon.\n\n'
    "To add anything, reply to this email and keep [#{number}] in the subject.\n"
)


class Inbox(models.Model):
    """An address the business owns; mail to it and its contact form become tickets."""

    class ImapSecurity(models.TextChoices):
        SSL = "ssl", _("TLS (IMAPS)")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (testing only)")

    class ImapAfterImport(models.TextChoices):
        SEEN = "seen", _("Flag as seen")
        MOVE = "move", _("Move to a folder")

    address = models.EmailField(unique=True)
    name = models.CharField(max_length=120, blank=True)
    # The contact page lives at /contact/<slug>/.
    slug = models.SlugField(max_length=60, unique=True)
    is_active = models.BooleanField(default=True)

    imap_host = models.CharField(max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(null=True, blank=True)
    imap_security = models.CharField(
        max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    # PEM certificates trusted besides the system's CAs: a self-signed server's own
    # certificate or a private CA (see tls.py). Verification itself is never off.
    imap_ca_certificate = models.TextField(blank=True)
    imap_username = models.CharField(max_length=200, blank=True)
    imap_password = models.CharField(max_length=200, blank=True)
    imap_folder = models.CharField(max_length=200, default="INBOX")
    imap_after_import = models.CharField(
        max_length=10, choices=ImapAfterImport.choices, default=ImapAfterImport.SEEN
    )
    imap_move_to = models.CharField(max_length=200, blank=True)
    imap_last_polled_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.TextField(blank=True)

    # Outbound SMTP for this inbox; empty host means the EMAIL_* settings.
    smtp_host = models.CharField(max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(null=True, blank=True)
    smtp_username = models.CharField(max_length=200, blank=True)
    smtp_password = models.CharField(max_length=200, blank=True)
    smtp_use_tls = models.BooleanField(default=False)
    smtp_use_ssl = models.BooleanField(default=False)

    max_attachment_bytes = models.PositiveBigIntegerField(default=10 * 1024 * 1024)
    send_acknowledgement = models.BooleanField(default=True)
    # {number} and {subject} are filled in; see DEFAULT_ACKNOWLEDGEMENT.
    acknowledgement_template = models.TextField(default=DEFAULT_ACKNOWLEDGEMENT)
    # Same sender + same normalized subject within this many days joins the open ticket;
    # 0 turns subject threading off.
    thread_by_subject_days = models.PositiveIntegerField(default=7)
    # Messages one sender may send per hour before the rest are kept but not processed.
    sender_rate_limit_per_hour = models.PositiveIntegerField(default=30)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "inboxes"

    def __str__(self) -> str:
        return self.address

    @property
    def has_imap(self) -> bool:
        return bool(self.imap_host and self.imap_username)


class InboundMessage(models.Model):
    """One message as received, raw, before and after parsing: nothing received is lost."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received, not processed yet")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        DUPLICATE = "duplicate", _("Duplicate")
        IGNORED = "ignored", _("Ignored")

    class Via(models.TextChoices):
        SMTP = "smtp", _("SMTP")
        IMAP = "imap", _("IMAP")
        IMPORT = "import", _("Import")
        WEB = "web", _("Web form")

    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    via = models.CharField(max_length=10, choices=Via.choices)
    # Stored in the row itself, so the row and its bytes commit together.
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    message_id = models.CharField(max_length=998, blank=True)
    # The Message-ID, or "sha256:<hash>" when there is none: what makes a message the same.
    dedupe_key = models.CharField(max_length=255)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="duplicates"
    )
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    # Why a message failed or was ignored, for the admin looking at it.
    error = models.TextField(blank=True)
    is_automatic = models.BooleanField(default=False)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(duplicate_of__isnull=True),
                name="one_inbound_message_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["message_id"], name="inbound_message_id_idx"),
            # A sender's processed mail by time: the rate limit and subject threading. With
            # the state in it, neither query falls back to inbound_state_idx, which would
            # read every message of the last hour (all of an import) for each new one.
            models.Index(
                fields=["from_address", "state", "received_at"], name="inbound_sender_state_idx"
            ),
            models.Index(fields=["state", "received_at"], name="inbound_state_idx"),
        ]

    def __str__(self) -> str:
        return self.message_id or self.dedupe_key

    @property
    def error_summary(self) -> str:
        """The first line of the error: the sentence, without the traceback under it."""
        return self.error.split("\n", 1)[0]


class OutboundMessage(models.Model):
    """An email sent for a ticket (a reply or an acknowledgement) and its delivery state."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Agent reply")
        ACKNOWLEDGEMENT = "ack", _("Acknowledgement")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_messages"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    # The ticket message this email carries (None for an acknowledgement).
    ticket_message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    message_id = models.CharField(max_length=255, unique=True)
    to_address = models.CharField(max_length=320)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One acknowledgement per ticket, however often its event is delivered.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(kind="ack"), name="one_acknowledgement_per_ticket"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due_idx"),
            models.Index(fields=["ticket", "created_at"], name="outbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return self.message_id


class InboxTicket(models.Model):
    """Which inbox a ticket came in through, so replies go out From that address."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="+")
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"#{self.ticket_id} via {self.inbox_id}"
