"""Tickets are built through the service, so every factory ticket has its events and number."""

from typing import Any

from serviceloop.accounts.models import User
from serviceloop.tickets import services
from serviceloop.tickets.models import Ticket
from tests.accounts.factories import AgentFactory

_counter = {"n": 0}


def make_ticket(*, actor: User | None = None, **overrides: Any) -> Ticket:
    """Create a ticket the way the API does; overrides go to `services.open_ticket`."""
    _counter["n"] += 1
    n = _counter["n"]
    fields: dict[str, Any] = {
        "subject": f"Order {n} has not arrived",
        "body": f"Hello, my order {n} was due last week. Can you check?",
        "requester_email": f"requester{n}@example.com",
        "requester_name": f"Requester {n}",
    }
    fields.update(overrides)
    if actor is None:
        actor = AgentFactory()
    ticket, _first_message = services.open_ticket(actor=actor, **fields)
    return ticket
