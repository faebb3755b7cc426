"""Automatic replies (out-of-office, auto-responders) to a ticket that waits or is finished.

A person's reply to a solved ticket reopens it, one to a closed ticket opens a follow-up,
and one to a pending or on-hold ticket puts it back in the queue. A machine's reply must do
none of these: an out-of-office answering the "solved" mail would reopen the ticket with
nothing to do, on a closed ticket it would open a follow-up and acknowledge it to a
machine, and on a ticket waiting for the customer it would end the wait though the customer
has not answered. It is still kept on the ticket, as an internal note, so nothing received
is hidden from the agents (an out-of-office on a pending ticket tells them why the answer
is late).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from serviceloop.inboxes.parsing import ParsedMail
from serviceloop.tickets import queries
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Message, Status

# The most of an auto-reply's text the note repeats; the whole message stays stored.
MAX_NOTE_TEXT = 10_000


# What a customer's reply would change, and an automatic one leaves as it is.
KEPT_AS_IT_IS = {
    Status.PENDING: _lazy("It left the ticket pending; nothing was sent in answer."),
    Status.ON_HOLD: _lazy("It left the ticket on hold; nothing was sent in answer."),
    Status.SOLVED: _lazy("It left the ticket solved; nothing was sent in answer."),
    Status.CLOSED: _lazy(
        "It opened no follow-up to the closed ticket; nothing was sent in answer."
    ),
}


def note_auto_reply_on_waiting_ticket(*, ticket_id: int, mail: ParsedMail) -> Message | None:
    """Keep a machine's reply on a pending, on-hold, solved or closed ticket as a note.

    The ticket stays as it is. Returns None when the ticket is new or open: the reply is
    then added as the customer's message, as any other.
    """
    ticket = queries.surviving_ticket(ticket_id)
    if ticket.status not in KEPT_AS_IT_IS:
        return None
    outcome = KEPT_AS_IT_IS[Status(ticket.status)]
    lines = [
        _("Automatic reply from %(sender)s (%(reason)s). %(outcome)s")
        % {"sender": mail.from_address, "reason": mail.auto_reply_reason, "outcome": outcome},
        _("Subject: %(subject)s") % {"subject": mail.subject},
    ]
    text = (mail.new_text or mail.text).strip()
    if text:
        lines.append(text[:MAX_NOTE_TEXT])
    if mail.attachments:
        lines.append(
            _(
                "Its %(count)s attachments are in the original message, kept under the "
                "inbox's inbound messages."
            )
            % {"count": len(mail.attachments)}
        )
    return tickets.add_system_note(ticket_id=ticket.pk, body="\n\n".join(lines))
