"""Normalized identity values, so one address or number always finds one customer."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from serviceloop.core.errors import InvalidInput

_NON_DIGITS = re.compile(r"[^\d]")


def normalize_email(value: str, *, field: str = "email") -> str:
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("%(value)r is not a valid email address.") % {"value": value}, field=field
        ) from None
    return email


def normalize_phone(value: str, *, field: str = "phone") -> str:
    digits = _NON_DIGITS.sub("", value or "")
    if not 5 <= len(digits) <= 15:
        raise InvalidInput(
            _("%(value)r is not a phone number (5 to 15 digits).") % {"value": value}, field=field
        )
    return "+" + digits


def normalize_identity(kind: str, value: str) -> str:
    if kind == "email":
        return normalize_email(value, field="value")
    if kind == "phone":
        return normalize_phone(value, field="value")
    cleaned = (value or "").strip()
    if not cleaned or len(cleaned) > 320:
        raise InvalidInput(
            _("An identity value of 1 to 320 characters is required."), field="value"
        )
    return cleaned.lower() if kind == "social" else cleaned


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]
