"""What HTML views share: the typed request, the agent-only guard, query-string helpers."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, QueryDict
from django.http.response import HttpResponseBase
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    # For the annotation only: core sits below accounts and imports nothing from it.
    from serviceloop.accounts.models import User

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class AgentRequest(HttpRequest):
    """A request from a signed-in agent (any role), as django-htmx annotates it."""

    user: "User"
    htmx: HtmxDetails


def agent_required(view: View) -> View:
    """Send anyone who is not a signed-in, active agent to the sign-in page."""
    return login_required(view)


def query_without(params: QueryDict, *names: str, **replace: Any) -> str:
    """The query string of `params` without `names`, with `replace` set (for links)."""
    pairs = [(k, v) for k, values in params.lists() if k not in names for v in values]
    pairs = [(k, v) for k, v in pairs if k not in replace]
    pairs += [(k, v) for k, v in replace.items() if v not in (None, "")]
    return urlencode(pairs)
