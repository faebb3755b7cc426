"""Customer portal sign-in: one-time links sent by email, no passwords."""

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from serviceloop.core import clock
from serviceloop.core.errors import DomainError
from serviceloop.customers.models import Customer, Identity
from serviceloop.customers.normalize import normalize_email
from serviceloop.customers.queries import customer_with_identity
from serviceloop.portal.errors import SignInLinkInvalid
from serviceloop.portal.models import PortalLoginToken


def send_sign_in_link(*, email: str, link_for: Callable[[str], str]) -> bool:
    """Email a one-time sign-in link to the customer who has this address.

    Returns whether a link was sent; callers must not show it, or the form would tell
    anyone which addresses are customers.
    """
    try:
        address = normalize_email(email)
    except DomainError:
        return False
    customer = customer_with_identity(Identity.Kind.EMAIL, address)
    if customer is None:
        return False
    key = secrets.token_urlsafe(32)
    now = clock.now()
    PortalLoginToken.objects.create(
        customer=customer,
        key_hash=PortalLoginToken.hash_key(key),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.SERVICELOOP_PORTAL_LINK_MINUTES),
    )
    context = {
        "customer": customer,
        "link": link_for(key),
        "minutes": settings.SERVICELOOP_PORTAL_LINK_MINUTES,
    }
    send_mail(
        _("Your sign-in link"),
        render_to_string("portal/sign_in_email.txt", context),
        None,
        [address],
    )
    return True


@transaction.atomic
def redeem_sign_in_link(*, key: str) -> Customer:
    """Use a sign-in link once; return the customer it signs in (after any merge)."""
    now = clock.now()
    token_hash = PortalLoginToken.hash_key(key)
    # A conditional update claims the link, so two clicks at once sign in only one.
    claimed = PortalLoginToken.objects.filter(
        key_hash=token_hash, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not claimed:
        raise SignInLinkInvalid()
    customer = PortalLoginToken.objects.select_related("customer").get(key_hash=token_hash).customer
    return surviving_customer(customer)


def surviving_customer(customer: Customer) -> Customer:
    """The customer a merged customer became (a customer merged away signs in as the survivor)."""
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.select_related("organization").get(pk=customer.merged_into_id)
    return customer
