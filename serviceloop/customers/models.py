from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    class PortalVisibility(models.TextChoices):
        OWN = "own", _("Members see their own requests")
        ORGANIZATION = "organization", _("Members see all of the organization's requests")

    name = models.CharField(max_length=200, unique=True)
    tier = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    portal_visibility = models.CharField(
        max_length=20, choices=PortalVisibility.choices, default=PortalVisibility.OWN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    """An email domain of an organization: a new customer writing from it joins it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    # Lower-case, without "@"; one organization per domain.
    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain


class Customer(models.Model):
    name = models.CharField(max_length=200, blank=True)
    # The primary email; every address the customer writes from is an Identity.
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    locale = models.CharField(max_length=20, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    # Set when this customer was merged into another; a merged customer is kept for undo.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(Lower("email"), name="customer_email_lower_idx")]

    def __str__(self) -> str:
        return self.name or self.email or f"Customer {self.pk}"

    @property
    def display_name(self) -> str:
        return self.name or self.email or f"Customer {self.pk}"


class Identity(models.Model):
    """One way to reach a customer: an email, phone, chat visitor id or social handle."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        CHAT = "chat", _("Chat visitor")
        SOCIAL = "social", _("Social handle")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Normalized: emails and handles lower-case, phones digits with a leading +.
    value = models.CharField(max_length=320)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_value")
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class CustomerMerge(models.Model):
    """A record of one customer merged into another, with what moved, so it can be undone."""

    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    moved_identity_ids = models.JSONField(default=list)
    moved_ticket_ids = models.JSONField(default=list)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=Q(undone_at__isnull=True), name="one_live_merge"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.target_id}"
