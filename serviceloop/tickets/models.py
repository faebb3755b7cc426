import functools
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from serviceloop.accounts.models import Skill, Team, User
from serviceloop.customers.models import Customer, Organization


class Status(models.TextChoices):
    """The fixed lifecycle SLAs and metrics rely on; custom statuses map onto it."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On-hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


UNSOLVED_STATES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


@functools.cache
def choice_labels(choices: type[models.TextChoices], language: str | None) -> dict[str, str]:
    """The labels of a set of choices in one language, translated once per process.

    `get_FOO_display()` rebuilds the choices and translates the label on every call,
    about 30 us; the queue shows two labels on each of its 50 rows.
    """
    return {value: str(label) for value, label in choices.choices}


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    TASK = "task", _("Task")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social")
    AGENT = "agent", _("Created by an agent")


class CustomStatus(models.Model):
    """A team's own word for a lifecycle state, e.g. "Waiting on warehouse" for pending."""

    name = models.CharField(max_length=80, unique=True)
    lifecycle_state = models.CharField(max_length=10, choices=Status.choices)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["lifecycle_state", "position", "name"]
        verbose_name_plural = "custom statuses"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    # Lower-case, no spaces: tags are typed fast and matched exactly.
    name = models.SlugField(max_length=80, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, agent: User) -> "TicketQuerySet":
        """Tickets this person may read: every ticket, for any active member of the queue.

        Contributors read everything too; what they may change is limited in services.
        """
        if not agent.is_active:
            return self.none()
        return self

    def unsolved(self) -> "TicketQuerySet":
        return self.filter(status__in=UNSOLVED_STATES)


class Ticket(models.Model):
    number = models.PositiveBigIntegerField(unique=True, editable=False)
    subject = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    custom_status = models.ForeignKey(
        CustomStatus,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    type = models.CharField(max_length=10, choices=TicketType.choices, default=TicketType.QUESTION)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    # Indexed by ticket_requester_idx, whose first column it is (likewise team, assignee).
    requester = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    # Skills an agent needs to be routed this ticket.
    required_skills = models.ManyToManyField(Skill, blank=True, related_name="+")
    custom_fields = models.JSONField(default=dict, blank=True)
    # Customers copied on the conversation (e.g. Cc'd on an email).
    followers = models.ManyToManyField(Customer, blank=True, related_name="followed_tickets")
    # Agents who get updates without being the assignee.
    agent_followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="followed_tickets"
    )
    problem = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        db_index=False,
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_index=False,
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
        db_index=False,
    )
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        db_index=False,
    )

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    first_agent_reply_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)

    objects: ClassVar[TicketQuerySet] = TicketQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="ticket_updated_idx"),
            models.Index(fields=["status", "team", "updated_at", "id"], name="ticket_queue_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="ticket_status_updated_idx"),
            models.Index(fields=["team", "status", "created_at"], name="ticket_team_waiting_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["requester", "created_at"], name="ticket_requester_idx"),
            models.Index(fields=["created_at", "id"], name="ticket_created_idx"),
            models.Index(
                fields=["solved_at"], name="ticket_solved_idx", condition=Q(status="solved")
            ),
            # Links most tickets never have: indexed only where set, so creating a ticket
            # does not add an entry for NULL to each of them.
            *(
                models.Index(
                    fields=[link],
                    name=f"ticket_{link}_idx",
                    condition=Q(**{f"{link}__isnull": False}),
                )
                for link in ("custom_status", "problem", "parent", "merged_into", "follow_up_of")
            ),
            # The agent queue's views (tickets/queries.py view_filters), each read in its
            # own order and counted through its own index. Partial: unsolved tickets are a
            # small part of a desk's history, and without these a view such as "my open
            # tickets, oldest first" walked the closed tickets before reaching any of it.
            models.Index(
                fields=["assignee", "updated_at", "id"],
                name="ticket_unsolved_assignee_idx",
                condition=Q(status__in=UNSOLVED_STATES),
            ),
            models.Index(
                fields=["team", "updated_at", "id"],
                name="ticket_unsolved_team_idx",
                condition=Q(status__in=UNSOLVED_STATES),
            ),
            models.Index(
                fields=["updated_at", "id"],
                name="ticket_unsolved_updated_idx",
                condition=Q(status__in=UNSOLVED_STATES),
            ),
            models.Index(
                fields=["created_at", "id"],
                name="ticket_unsolved_created_idx",
                condition=Q(status__in=UNSOLVED_STATES),
            ),
            models.Index(
                fields=["updated_at", "id"],
                name="ticket_new_open_updated_idx",
                condition=Q(status__in=(Status.NEW, Status.OPEN)),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return f"/api/v1/tickets/{self.number}"

    @property
    def is_unsolved(self) -> bool:
        return self.status in UNSOLVED_STATES

    @property
    def status_label(self) -> str:
        if self.custom_status:
            return self.custom_status.name
        return choice_labels(Status, get_language()).get(self.status, self.status)

    @property
    def priority_label(self) -> str:
        return choice_labels(Priority, get_language()).get(self.priority, self.priority)


class TicketNumberCounter(models.Model):
    """The last ticket number handed out, for databases without sequences (SQLite).

    PostgreSQL uses the `ticket_number_seq` sequence instead (see tickets/numbering.py).
    """

    last_number = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return str(self.last_number)


class Message(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")

    class AuthorKind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        ASSISTANT = "assistant", _("Assistant")
        SYSTEM = "system", _("System")

    # Indexed by message_ticket_idx, whose first column it is.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPLY)
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    body_text = models.TextField(blank=True)
    # Sanitized with nh3 before it is stored; safe to render.
    body_html = models.TextField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    # Channel facts such as email headers or a chat session id.
    channel_metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
            # Most messages are the customer's: an agent's are indexed only where set.
            models.Index(
                fields=["author_agent"],
                name="message_author_agent_idx",
                condition=Q(author_agent__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.REPLY


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{uuid.uuid4().hex}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    # Set for inline images referenced as cid: in the HTML body.
    content_id = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    MESSAGE = "message", _("Message")
    STATUS = "status", _("Status")
    PRIORITY = "priority", _("Priority")
    TYPE = "type", _("Type")
    SUBJECT = "subject", _("Subject")
    ASSIGNEE = "assignee", _("Assignee")
    TEAM = "team", _("Team")
    TAGS = "tags", _("Tags")
    FIELD = "field", _("Custom field")
    REQUESTER = "requester", _("Requester")
    FOLLOWERS = "followers", _("Followers")
    MERGE = "merge", _("Merge")
    LINK = "link", _("Link")


class TicketEvent(models.Model):
    """One change to a ticket: the append-only audit trail and the source of SLA and KPI facts."""

    class ActorKind(models.TextChoices):
        AGENT = "agent", _("Agent")
        CUSTOMER = "customer", _("Customer")
        SYSTEM = "system", _("System")
        ASSISTANT = "assistant", _("Assistant")

    # Indexed by ticket_event_ticket_idx, whose first column it is.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    # Which field changed, or the sub-kind ("reply"/"note", "merged_into", "problem", ...).
    field = models.CharField(max_length=60, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Each event has one kind of actor: both are indexed only where set.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Shared by every event of one request, so a merge or bulk change reads as one change.
    request_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticket_event_ticket_idx"),
            models.Index(fields=["created_at"], name="ticket_event_created_idx"),
            models.Index(
                fields=["actor"], name="ticket_event_actor_idx", condition=Q(actor__isnull=False)
            ),
            models.Index(
                fields=["actor_customer"],
                name="ticket_event_customer_idx",
                condition=Q(actor_customer__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Ticket events are append-only")
        super().save(*args, **kwargs)


class SavedView(models.Model):
    """A queue filter an agent saved under a name, for themselves or shared with a team."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    # Shared with every member of this team; None keeps the view to its owner.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    # The queue's query string (filters and sort), as the queue page reads it.
    query = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
