from dataclasses import dataclass

from serviceloop.core.events import DomainEvent, register


@register
@dataclass(frozen=True, kw_only=True)
class AgentAvailabilityChanged(DomainEvent):
    """An agent went away, came back, or their capacity or teams changed."""

    name = "agent.availability_changed"
    agent_id: int
    is_away: bool
    capacity: int
