"""Every write to tickets: one function per use case, each in one transaction.

Each change appends TicketEvent rows (the audit trail and the source of SLA and KPI facts)
and publishes a domain event; durable subscribers get it from the outbox after commit.
"""

from serviceloop.tickets.services.assignment import (
    assign_ticket,
    route_ticket,
    route_waiting_tickets,
)
from serviceloop.tickets.services.base import (
    SYSTEM,
    Actor,
    NewAttachment,
    agent_may_work,
    clean_tags,
    new_request_id,
)
from serviceloop.tickets.services.configuration import (
    change_custom_field,
    create_custom_status,
    create_tag,
    define_custom_field,
    delete_saved_view,
    delete_tag,
    save_view,
    update_custom_status,
)
from serviceloop.tickets.services.creation import open_ticket
from serviceloop.tickets.services.edits import BulkResult, bulk_update_tickets, edit_ticket
from serviceloop.tickets.services.fields import TicketChanges, update_ticket
from serviceloop.tickets.services.lifecycle import (
    change_status,
    close_solved_tickets,
    solve_ticket,
    solve_ticket_for_customer,
)
from serviceloop.tickets.services.links import (
    link_incident,
    merge_tickets,
    move_requester_tickets,
    set_parent,
)
from serviceloop.tickets.services.messages import (
    add_customer_message,
    add_followers,
    add_internal_note,
    add_system_note,
    reply_to_ticket,
)

__all__ = [
    "SYSTEM",
    "Actor",
    "BulkResult",
    "NewAttachment",
    "TicketChanges",
    "add_customer_message",
    "add_followers",
    "add_internal_note",
    "add_system_note",
    "agent_may_work",
    "assign_ticket",
    "bulk_update_tickets",
    "change_custom_field",
    "change_status",
    "clean_tags",
    "close_solved_tickets",
    "create_custom_status",
    "create_tag",
    "define_custom_field",
    "delete_saved_view",
    "delete_tag",
    "edit_ticket",
    "link_incident",
    "merge_tickets",
    "move_requester_tickets",
    "new_request_id",
    "open_ticket",
    "reply_to_ticket",
    "route_ticket",
    "route_waiting_tickets",
    "save_view",
    "set_parent",
    "solve_ticket",
    "solve_ticket_for_customer",
    "update_custom_status",
    "update_ticket",
]
