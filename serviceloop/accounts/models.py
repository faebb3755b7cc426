import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    # Someone from another department who joins the queue: reads tickets, writes internal
    # notes, works the tickets assigned to them, and changes no settings.
    CONTRIBUTOR = "contributor", _("Contributor")


class Skill(models.Model):
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who works the queue (an agent of some role)."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    skills = models.ManyToManyField(Skill, blank=True, related_name="agents")
    # Open tickets the agent can hold at once; routing skips agents at capacity.
    capacity = models.PositiveIntegerField(default=20)
    is_away = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, default="UTC")
    # Round-robin routing picks the eligible agent routed to longest ago.
    last_routed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def manages_settings(self) -> bool:
        return self.is_active and self.role in {Role.ADMIN, Role.SUPERVISOR}

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN


class Team(models.Model):
    class Routing(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Round-robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(User, blank=True, related_name="teams")
    routing = models.CharField(max_length=20, choices=Routing.choices, default=Routing.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token: shown once, stored as a SHA-256 hash, revocable, scoped."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {self.scope})"

    @staticmethod
    def hash_key(key: str) -> str:
        # Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to
        # brute-force, and a lookup by hash stays one indexed query per request.
        return hashlib.sha256(key.encode()).hexdigest()
