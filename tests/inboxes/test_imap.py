"""IMAP polling against a real Dovecot."""

import pytest

from serviceloop.inboxes.imap import poll_imap_inboxes
from serviceloop.inboxes.models import InboundMessage, Inbox
from serviceloop.tickets.models import Ticket
from tests.inboxes.dovecot import PASSWORD, USER, running_dovecot
from tests.inboxes.helpers import mail, make_inbox

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def dovecot():  # type: ignore[no-untyped-def]
    with running_dovecot() as server:
        yield server


def imap_inbox(dovecot, **settings):  # type: ignore[no-untyped-def]
    return make_inbox(
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security=Inbox.ImapSecurity.NONE,
        imap_username=USER,
        imap_password=PASSWORD,
        **settings,
    )


def test_polling_imports_new_mail_and_flags_it_seen(dovecot):
    imap_inbox(dovecot)
    dovecot.deliver(mail(subject="First", message_id="<i1@customer.example>"))
    dovecot.deliver(mail(subject="Second", sender="bob@other.example"))

    assert poll_imap_inboxes() == 2

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["First", "Second"]
    assert all(r"\Seen" in flags for flags, _raw in dovecot.folder())
    assert set(InboundMessage.objects.values_list("via", flat=True)) == {"imap"}


def test_polling_again_imports_nothing_new(dovecot):
    imap_inbox(dovecot)
    dovecot.deliver(mail())
    poll_imap_inboxes()

    assert poll_imap_inboxes() == 0
    assert Ticket.objects.count() == 1


def test_polling_can_move_imported_mail_to_a_folder(dovecot):
    imap_inbox(dovecot, imap_after_import="move", imap_move_to="Imported")
    dovecot.deliver(mail(message_id="<moved@customer.example>"))

    poll_imap_inboxes()

    assert dovecot.folder("INBOX") == []
    moved = dovecot.folder("Imported")
    assert len(moved) == 1
    assert b"<moved@customer.example>" in moved[0][1]
    assert Ticket.objects.count() == 1


def test_wrong_password_is_recorded_on_the_inbox(dovecot):
    inbox = imap_inbox(dovecot)
    inbox.imap_password = "wrong"
    inbox.save()

    assert poll_imap_inboxes() == 0

    inbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in inbox.imap_last_error or "failed" in inbox.imap_last_error
    assert inbox.imap_last_polled_at is not None
