import hashlib

from django.db import models

from serviceloop.customers.models import Customer


class PortalLoginToken(models.Model):
    """A one-time sign-in link for the customer portal: hashed, expiring, single use."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the secret in the link; the secret itself is only ever in the email.
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "created_at"], name="portal_token_customer_idx")
        ]

    def __str__(self) -> str:
        return f"portal link for customer {self.customer_id}"

    @staticmethod
    def hash_key(key: str) -> str:
        # 256 random bits: a plain SHA-256 leaves nothing to brute-force.
        return hashlib.sha256(key.encode()).hexdigest()
