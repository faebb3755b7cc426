"""Turn a domain error raised by an HTML view into the right HTTP status with its message."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from serviceloop.core.errors import Conflict, DomainError, NotAllowed, NotFound

HTTP_STATUS: dict[type[DomainError], int] = {NotFound: 404, NotAllowed: 403, Conflict: 409}


def status_for(error: DomainError) -> int:
    return next((s for kind, s in HTTP_STATUS.items() if isinstance(error, kind)), 400)


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        response = TemplateResponse(
            request, "core/error.html", {"error": exception}, status=status_for(exception)
        )
        return response.render()


class AgentTimeZoneMiddleware:
    """Show times in the signed-in agent's own time zone (stored UTC, shown local)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = getattr(user, "time_zone", "") if user is not None else ""
        try:
            zone = zoneinfo.ZoneInfo(zone_name) if zone_name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)
