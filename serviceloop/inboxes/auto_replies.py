"""Automatic replies (out-of-office, auto-responders) that thread onto a finished ticket.

A person's reply to a solved ticket reopens it, and one to a closed ticket opens a
follow-up. A machine's reply must do neither: an out-of-office answering the "solved" mail
would reopen the ticket and put it back in the queue with nothing to do, and on a closed
ticket it would open a follow-up and acknowledge it to a machine. It is still kept on the
ticket, as an internal note, so nothing received is hidden from the agents.
"""

from django.utils.translation import gettext as _

from serviceloop.inboxes.parsing import ParsedMail
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Message, Status, Ticket

# The most of an auto-reply's text the note repeats; the whole message stays stored.
MAX_NOTE_TEXT = 10_000


def _current_ticket(ticket_id: int) -> Ticket:
    """The ticket itself, or the one it was merged into (where a reply to it belongs)."""
    ticket = Ticket.objects.only("id", "status", "merged_into_id").get(pk=ticket_id)
    while ticket.merged_into_id is not None:
        ticket = Ticket.objects.only("id", "status", "merged_into_id").get(pk=ticket.merged_into_id)
    return ticket


def note_auto_reply_on_finished_ticket(*, ticket_id: int, mail: ParsedMail) -> Message | None:
    """Keep a machine's reply on its solved or closed ticket as a note, leaving it as it is.

    Returns None when the ticket is still being worked on: the reply is then added as the
    customer's message, as any other.
    """
    ticket = _current_ticket(ticket_id)
    if ticket.status not in (Status.SOLVED, Status.CLOSED):
        return None
    if ticket.status == Status.SOLVED:
        outcome = _("It left the ticket solved; nothing was sent in answer.")
    else:
        outcome = _("It opened no follow-up to the closed ticket; nothing was sent in answer.")
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
