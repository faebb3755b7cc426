from dataclasses import dataclass

from serviceloop.core.events import DomainEvent, register


@register
@dataclass(frozen=True, kw_only=True)
class CustomersMerged(DomainEvent):
    name = "customer.merged"
    merge_id: int
    source_id: int
    target_id: int
    actor_id: int | None = None


@register
@dataclass(frozen=True, kw_only=True)
class CustomerMergeUndone(DomainEvent):
    name = "customer.merge_undone"
    merge_id: int
    source_id: int
    target_id: int
    actor_id: int | None = None
