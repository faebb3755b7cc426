"""Domain errors: a service refused the request; the message is safe to show the user."""

from django.utils.translation import gettext as _


class DomainError(Exception):
    """A service rule refused the request; `message` is written for the person who asked."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    code = "not_allowed"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid"


class ObjectNotFound(NotFound):
    """A named kind of thing was not found (or is not the caller's to see)."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(_("%(kind)s %(ident)s was not found.") % {"kind": kind, "ident": ident})
        self.code = "%s_not_found" % kind.lower().replace(" ", "_")
