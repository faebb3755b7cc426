"""The HTTP API (django-ninja): authentication, and the one table from domain errors to HTTP."""

import logging

from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.security.session import SessionAuth

from serviceloop.accounts.models import ApiToken, User
from serviceloop.accounts.queries import agent_for_token
from serviceloop.core.errors import DomainError, InvalidInput, NotAllowed
from serviceloop.core.middleware import status_for
from serviceloop.core.models import MAX_ID

logger = logging.getLogger(__name__)


class AgentRequest(HttpRequest):
    """A request ninja authenticated: `auth` is the agent (token owner or signed-in user)."""

    auth: User


class ReadOnlyToken(NotAllowed):
    code = "read_only_token"

    def __init__(self) -> None:
        super().__init__("This API token is read-only; create a write token to make changes.")


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; `write` endpoints refuse read-scoped tokens."""

    def __init__(self, *, write: bool) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        holder = agent_for_token(token)
        if holder is None:
            return None
        if self.write and holder.scope != ApiToken.Scope.WRITE:
            raise ReadOnlyToken()
        request.user = holder.agent
        return holder.agent


class AgentSession(SessionAuth):
    """A signed-in agent using the API from the browser (CSRF-checked for writes)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


class BoundedLimitOffset(LimitOffsetPagination):
    """ninja's limit/offset pages, with an offset the database can take (a 4xx past it)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=MAX_ID)


def _unstorable(value: object, path: tuple[str, ...]) -> InvalidInput | None:
    """Find a value no column can hold: text with a NUL character, or a number past 64 bits."""
    field = ".".join(path) or None
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL refuses NUL in text and JSON; SQLite would store it silently.
            return InvalidInput(
                _("%(field)s contains a NUL character, which text cannot hold.")
                % {"field": field or _("The request")},
                field=field,
            )
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -MAX_ID - 1 <= value <= MAX_ID:
            return InvalidInput(
                _("%(field)s is out of range: numbers here lie between %(min)s and %(max)s.")
                % {"field": field or _("The request"), "min": -MAX_ID - 1, "max": MAX_ID},
                field=field,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable(key, path) or _unstorable(item, (*path, str(key)))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, (*path, str(index)))
            if found:
                return found
    return None


class StorableJsonParser(Parser):
    """The JSON parser, refusing what no endpoint takes and what the database would fail on."""

    def parse_body(self, request: HttpRequest) -> dict:
        data = super().parse_body(request)
        # ninja wraps whatever this raises in HttpError(400); `http_error` unwraps it.
        if not isinstance(data, dict):
            # Every body of this API is an object. ninja would read a list or a number as
            # an object without attributes, which a PATCH takes as "change nothing".
            raise InvalidInput(_("The body must be a JSON object."), field="body")
        if problem := _unstorable(data, ()):
            raise problem
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict:
        values = super().parse_querydict(data, list_fields, request)
        if problem := _unstorable(values, ()):
            raise problem
        return values


READ_AUTH: list[APIKeyCookie | HttpBearer] = [BearerToken(write=False), AgentSession()]
WRITE_AUTH: list[APIKeyCookie | HttpBearer] = [BearerToken(write=True), AgentSession()]

api = NinjaAPI(
    title="Serviceloop API",
    version="1",
    urls_namespace="api-v1",
    auth=READ_AUTH,
    docs_url="/docs",
    parser=StorableJsonParser(),
    description=(
        "The Serviceloop help desk API. Authenticate with a personal token: "
        "`Authorization: Bearer <token>` (create one with `serviceloop token create USERNAME "
        '--scope read|write`). Errors are JSON: `{"code", "message", "field"}`.'
    ),
)


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


def error_body(code: str, message: str, field: str | None = None, **extra: object) -> dict:
    body: dict[str, object] = {"code": code, "message": message, "field": field}
    body.update(extra)
    return body


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return api.create_response(
        request, error_body(error.code, error.message, error.field), status=status_for(error)
    )


def _field_name(location: list[object]) -> str:
    # ninja reports ("body", "payload", "subject"); people think of "subject".
    parts = [str(p) for p in location if p not in ("body", "payload", "query", "path", "form")]
    # A missing body is reported at ("body", "payload"); "payload" is only a Python name.
    return ".".join(parts) or (str(location[0]) if location else "")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    problems: list[dict[str, str]] = [
        {"field": _field_name(list(e.get("loc", []))), "message": str(e.get("msg", "invalid"))}
        for e in error.errors
    ]
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    message = "%s: %s" % (first["field"], first["message"]) if first["field"] else first["message"]
    return api.create_response(
        request,
        error_body("invalid", message, first["field"] or None, errors=problems),
        status=422,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        error_body(
            "not_authenticated",
            "Send a valid API token as 'Authorization: Bearer <token>', or sign in.",
        ),
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="serviceloop"'
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    if isinstance(error.__cause__, DomainError):
        # The parser refused the body for a reason it can name (see StorableJsonParser).
        return domain_error(request, error.__cause__)
    return api.create_response(
        request, error_body("invalid", str(error.message)), status=error.status_code
    )


def _register_routers() -> None:
    from serviceloop.accounts.api import router as accounts_router
    from serviceloop.customers.api import router as customers_router
    from serviceloop.inboxes.api import router as inboxes_router
    from serviceloop.tickets.api import router as tickets_router
    from serviceloop.tickets.api import settings_router as ticket_settings_router
    from serviceloop.webhooks.api import router as webhooks_router

    api.add_router("/", tickets_router)
    api.add_router("/", ticket_settings_router)
    api.add_router("/", customers_router)
    api.add_router("/", accounts_router)
    api.add_router("/", webhooks_router)
    api.add_router("/", inboxes_router)


_register_routers()
