from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Ids and ticket numbers are 64-bit signed integers in the database. SQLite cannot even
# compare a column with a larger number (it raises OverflowError), so none gets that far.
MAX_ID = 2**63 - 1


class CustomFieldDefinition(models.Model):
    """An admin-defined, typed field on tickets or customers."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DROPDOWN = "dropdown", _("Dropdown")
        CHECKBOX = "checkbox", _("Checkbox")
        DATE = "date", _("Date")

    class Entity(models.TextChoices):
        TICKET = "ticket", _("Ticket")
        CUSTOMER = "customer", _("Customer")

    entity = models.CharField(max_length=10, choices=Entity.choices, default=Entity.TICKET)
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Allowed values of a dropdown.
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    # Asked on the public contact forms (ticket fields only).
    shown_on_web_form = models.BooleanField(default=False)

    class Meta:
        ordering = ["entity", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class EventDelivery(models.Model):
    """One domain event owed to one durable subscriber: the outbox row the worker claims."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    event_name = models.CharField(max_length=100)
    payload = models.JSONField()
    handler = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField(auto_now_add=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"],
                name="delivery_pending_idx",
                condition=Q(state__in=["pending", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_name} -> {self.handler} ({self.state})"


class SetupStep(models.Model):
    """A one-time installation step that is done (e.g. demo data loaded), so it runs once."""

    name = models.CharField(max_length=100, unique=True)
    done_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
