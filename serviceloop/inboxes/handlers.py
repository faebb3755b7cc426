from django.conf import settings

from serviceloop.core import schedules
from serviceloop.core.events import subscribe
from serviceloop.inboxes import outbound
from serviceloop.inboxes.imap import poll_imap_inboxes
from serviceloop.tickets.events import MessageAdded
from serviceloop.tickets.models import Message


def _is_agent_reply(event: MessageAdded) -> bool:
    return event.kind == Message.Kind.REPLY and event.author_kind == Message.AuthorKind.AGENT


@subscribe(MessageAdded, durable=True, when=_is_agent_reply)
def email_agent_reply(event: MessageAdded) -> None:
    """After commit, in the worker: send an agent's public reply to the requester by email."""
    # Also checked here for deliveries queued before `when` was: they run once, as no-ops.
    if _is_agent_reply(event):
        outbound.queue_reply(message_id=event.message_id)


schedules.register("send due outbound email", 30, outbound.send_due_outbound_messages)
schedules.register(
    "poll IMAP inboxes", lambda: settings.SERVICELOOP_IMAP_POLL_SECONDS, poll_imap_inboxes
)
