"""The inbound path: store, dedupe, parse, thread, and protect against loops."""

import pytest

from serviceloop.core.models import EventDelivery
from serviceloop.inboxes import outbound, services
from serviceloop.inboxes.models import InboundMessage, OutboundMessage
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Message, Status, Ticket
from tests.inboxes.helpers import SUPPORT, mail, make_inbox, receive
from tests.tickets.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox():  # type: ignore[no-untyped-def]
    return make_inbox()


def test_new_mail_opens_a_ticket_for_the_sender(inbox):
    inbound = receive(inbox, mail(sender="Ann Lee <ann@customer.example>"))

    assert inbound.state == InboundMessage.State.PROCESSED
    ticket = inbound.ticket
    assert ticket.subject == "My order has not arrived"
    assert ticket.requester.email == "ann@customer.example"
    assert ticket.requester.name == "Ann Lee"
    assert ticket.channel == "email"
    assert ticket.messages.get().body_text == "Hello, where is my order?"


def test_the_same_message_twice_is_stored_once_and_makes_one_message(inbox):
    raw = mail(message_id="<once@customer.example>")

    first = services.receive_raw_email(inbox=inbox, raw=raw, via="import")
    second = services.receive_raw_email(inbox=inbox, raw=raw, via="smtp")

    assert (first.outcome, second.outcome) == ("imported", "duplicate")
    assert InboundMessage.objects.count() == 1
    assert Message.objects.count() == 1


def test_same_message_id_with_other_bytes_is_kept_but_makes_no_second_message(inbox):
    receive(inbox, mail(message_id="<same@customer.example>", body="first"))

    result = services.receive_raw_email(
        inbox=inbox, raw=mail(message_id="<same@customer.example>", body="second"), via="imap"
    )

    assert result.outcome == "duplicate"
    assert InboundMessage.objects.filter(state="duplicate").count() == 1
    assert Message.objects.count() == 1


def test_a_message_without_message_id_dedupes_by_content(inbox):
    raw = b"From: ann@customer.example\nSubject: hi\n\nno id here\n"

    services.receive_raw_email(inbox=inbox, raw=raw, via="import")
    again = services.receive_raw_email(inbox=inbox, raw=raw, via="import")

    assert again.outcome == "duplicate"
    assert InboundMessage.objects.get().dedupe_key.startswith("sha256:")


def test_reply_with_in_reply_to_threads_onto_the_ticket(inbox):
    first = receive(inbox, mail(message_id="<m1@customer.example>"))

    reply = receive(
        inbox,
        mail(subject="Something else entirely", in_reply_to="<m1@customer.example>"),
    )

    assert reply.ticket == first.ticket
    assert first.ticket.messages.count() == 2


def test_client_that_drops_in_reply_to_threads_by_references(inbox):
    first = receive(inbox, mail(message_id="<m1@customer.example>"))

    reply = receive(inbox, mail(subject="Re: x", references="<unknown@x> <m1@customer.example>"))

    assert reply.ticket == first.ticket


def test_reply_to_our_outgoing_message_id_threads(inbox, agent):
    first = receive(inbox, mail())
    message = tickets.reply_to_ticket(number=first.ticket.number, agent=agent, body="On its way")
    sent = outbound.queue_reply(message_id=message.pk)
    assert sent is not None

    reply = receive(inbox, mail(subject="thanks", in_reply_to=sent.message_id))

    assert reply.ticket == first.ticket


def test_ticket_token_in_the_subject_threads(inbox):
    first = receive(inbox, mail())

    reply = receive(inbox, mail(subject="[#%s] one more thing" % first.ticket.number))

    assert reply.ticket == first.ticket


def test_ticket_token_from_a_stranger_opens_a_new_ticket(inbox):
    first = receive(inbox, mail())

    other = receive(
        inbox, mail(sender="mallory@else.example", subject="[#%s] hi" % first.ticket.number)
    )

    assert other.ticket != first.ticket


def test_subject_only_reply_from_the_same_sender_threads(inbox):
    first = receive(inbox, mail(subject="Invoice wrong"))

    reply = receive(inbox, mail(subject="RE[2]: AW: Invoice   wrong"))

    assert reply.ticket == first.ticket


def test_same_subject_without_reply_prefix_is_a_new_request(inbox):
    first = receive(inbox, mail(subject="Invoice wrong"))

    again = receive(inbox, mail(subject="Invoice wrong"))

    assert again.ticket != first.ticket


def test_two_customers_with_the_same_subject_are_never_joined(inbox):
    first = receive(inbox, mail(sender="ann@gmail.com", subject="Cannot log in"))

    other = receive(inbox, mail(sender="bob@gmail.com", subject="Re: Cannot log in"))

    assert other.ticket != first.ticket


def quoting(author: str, body: str = "Any update on this?") -> str:
    return "%s\n\nOn Tue, 26 Mar 2024 09:20, %s wrote:\n> It never arrives.\n" % (body, author)


def test_a_subject_only_reply_quoting_a_colleague_joins_the_colleagues_ticket(inbox):
    own = receive(inbox, mail(sender="ben@acme.example", subject="Password reset never arrives"))
    colleagues = receive(
        inbox, mail(sender="ines@acme.example", subject="Password reset never arrives")
    )

    reply = receive(
        inbox,
        mail(
            sender="ben@acme.example",
            subject="Re: Password reset never arrives",
            body=quoting("ines@acme.example"),
        ),
    )

    assert colleagues.ticket != own.ticket
    assert reply.ticket == colleagues.ticket


def test_a_subject_only_reply_quoting_themselves_stays_on_their_own_ticket(inbox):
    own = receive(inbox, mail(sender="rosa@foods.example", subject="Password reset never arrives"))
    receive(inbox, mail(sender="zoe@foods.example", subject="Password reset never arrives"))

    reply = receive(
        inbox,
        mail(
            sender="rosa@foods.example",
            subject="Re: Password reset never arrives",
            body=quoting("rosa@foods.example"),
        ),
    )

    assert reply.ticket == own.ticket


def test_an_unquoted_subject_only_reply_goes_to_the_senders_own_request(inbox):
    own = receive(inbox, mail(sender="francois@foods.example", subject="Refund still missing"))
    receive(inbox, mail(sender="yara@foods.example", subject="Refund still missing"))

    reply = receive(
        inbox, mail(sender="francois@foods.example", subject="Re: Refund still missing")
    )

    assert reply.ticket == own.ticket


def test_without_an_own_request_it_joins_the_companys_latest_such_conversation(inbox):
    davids = receive(
        inbox,
        mail(
            sender="david@works.example",
            subject="Suggestion: bulk edit",
            message_id="<d1@works.example>",
        ),
    )
    helped = receive(
        inbox,
        mail(
            sender="yara@works.example",
            subject="AW: Suggestion: bulk edit",
            in_reply_to="<d1@works.example>",
        ),
    )
    latest = receive(inbox, mail(sender="kenji@works.example", subject="Suggestion: bulk edit"))

    reply = receive(inbox, mail(sender="yara@works.example", subject="Re: Suggestion: bulk edit"))

    assert helped.ticket == davids.ticket
    assert reply.ticket == latest.ticket


def test_a_quoted_stranger_does_not_pull_a_reply_into_another_company(inbox):
    stranger = receive(inbox, mail(sender="eve@other.example", subject="Refund missing"))
    own = receive(inbox, mail(sender="kim@shop.example", subject="Refund missing"))

    reply = receive(
        inbox,
        mail(
            sender="kim@shop.example",
            subject="Re: Refund missing",
            body=quoting("eve@other.example"),
        ),
    )

    assert stranger.ticket != own.ticket
    assert reply.ticket == own.ticket


def test_subject_threading_can_be_turned_off(inbox):
    inbox.thread_by_subject_days = 0
    inbox.save()
    first = receive(inbox, mail(subject="Invoice wrong"))

    reply = receive(inbox, mail(subject="Re: Invoice wrong"))

    assert reply.ticket != first.ticket


def test_reply_from_a_ccd_colleague_threads_and_makes_them_a_follower(inbox):
    first = receive(
        inbox,
        mail(message_id="<m1@customer.example>", cc="Cleo <cleo@partner.example>"),
    )
    ticket = first.ticket
    assert list(ticket.followers.values_list("email", flat=True)) == ["cleo@partner.example"]

    reply = receive(
        inbox,
        mail(sender="cleo@partner.example", subject="Re: x", in_reply_to="<m1@customer.example>"),
    )

    assert reply.ticket == ticket
    assert reply.ticket_message.author_customer.email == "cleo@partner.example"


def test_reply_to_a_merged_ticket_lands_on_the_survivor(inbox, agent):
    source = receive(inbox, mail(message_id="<src@customer.example>")).ticket
    target = receive(inbox, mail(subject="Other", sender="ann@customer.example")).ticket
    tickets.merge_tickets(source_number=source.number, target_number=target.number, agent=agent)

    reply = receive(inbox, mail(subject="Re: x", in_reply_to="<src@customer.example>"))

    assert reply.ticket_message.ticket == target


def test_reply_to_a_solved_ticket_reopens_it(inbox, agent):
    ticket = receive(inbox, mail(message_id="<m1@customer.example>")).ticket
    tickets.change_status(number=ticket.number, agent=agent, status=Status.SOLVED)

    receive(inbox, mail(in_reply_to="<m1@customer.example>"))

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.reopen_count == 1


def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(inbox, agent):
    ticket = receive(inbox, mail(message_id="<m1@customer.example>")).ticket
    tickets.change_status(number=ticket.number, agent=agent, status=Status.SOLVED)
    tickets.change_status(number=ticket.number, agent=agent, status=Status.CLOSED)

    reply = receive(inbox, mail(in_reply_to="<m1@customer.example>"))

    follow_up = reply.ticket_message.ticket
    assert follow_up.follow_up_of == ticket
    assert reply.ticket == follow_up


def test_quoted_history_is_folded_away_but_kept(inbox):
    body = (
        "Yes, that works.\n\n"
        "On Mon, 3 Jun 2024, Support <support@shop.example> wrote:\n> Try again\n"
    )

    inbound = receive(inbox, mail(body=body))

    message = inbound.ticket_message
    assert message.body_text == "Yes, that works."
    assert "> Try again" in message.channel_metadata["full_text"]


def test_html_only_mail_is_sanitized_and_remote_images_are_not_loaded(inbox):
    raw = (
        b"From: ann@customer.example\nSubject: html\nMessage-ID: <h@c.example>\n"
        b"Content-Type: text/html; charset=utf-8\n\n"
        b'<p onclick="x()">Hi <b>there</b></p><script>alert(1)</script>'
        b'<img src="https://track.example/p.gif"><img src="cid:logo">'
    )

    message = receive(inbox, raw).ticket_message

    assert "script" not in message.body_html
    assert "onclick" not in message.body_html
    assert "track.example" not in message.body_html
    assert 'src="cid:logo"' in message.body_html
    assert message.body_text == "Hi there"


def test_oversize_attachment_is_dropped_with_a_note_and_the_mail_kept(inbox):
    inbox.max_attachment_bytes = 100
    inbox.save()
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "ann@customer.example"
    message["Subject"] = "files"
    message.set_content("two files")
    message.add_attachment(b"x" * 50, maintype="text", subtype="plain", filename="small.txt")
    message.add_attachment(b"y" * 500, maintype="application", subtype="zip", filename="big.zip")

    inbound = receive(inbox, message.as_bytes())

    assert inbound.state == InboundMessage.State.PROCESSED
    kept = inbound.ticket_message.attachments.get()
    assert kept.filename == "small.txt"
    note = inbound.ticket.messages.get(kind=Message.Kind.NOTE)
    assert "big.zip (500 bytes)" in note.body_text


def test_new_ticket_gets_an_acknowledgement(inbox):
    inbound = receive(inbox, mail())

    ack = OutboundMessage.objects.get(kind=OutboundMessage.Kind.ACKNOWLEDGEMENT)
    assert ack.ticket == inbound.ticket
    assert ack.to_address == "ann@customer.example"
    assert ack.subject.startswith("[#%s]" % inbound.ticket.number)


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
        {"List-Id": "<news.example>"},
    ],
)
def test_automatic_mail_gets_no_acknowledgement(inbox, headers):
    inbound = receive(inbox, mail(headers=headers))

    assert inbound.is_automatic
    assert inbound.ticket is not None
    assert not OutboundMessage.objects.exists()


def test_mailer_daemon_gets_no_acknowledgement(inbox):
    receive(inbox, mail(sender="MAILER-DAEMON@mx.example"))

    assert not OutboundMessage.objects.exists()


def test_auto_submitted_no_is_a_person(inbox):
    receive(inbox, mail(headers={"Auto-Submitted": "no"}))

    assert OutboundMessage.objects.count() == 1


def test_per_sender_rate_limit_keeps_the_mail_but_ignores_it(inbox):
    inbox.sender_rate_limit_per_hour = 2
    inbox.save()

    states = [receive(inbox, mail(subject="spam %d" % i)).state for i in range(3)]

    assert states == ["processed", "processed", "ignored"]
    ignored = InboundMessage.objects.get(state="ignored")
    assert "Rate limited" in ignored.error
    assert Ticket.objects.count() == 2


def test_bounce_marks_the_delivery_and_notes_the_ticket(inbox, agent):
    ticket = receive(inbox, mail(sender="gone@example.com")).ticket
    message = tickets.reply_to_ticket(number=ticket.number, agent=agent, body="Answer")
    sent = outbound.queue_reply(message_id=message.pk)
    assert sent is not None
    with open("tests/inboxes/corpus/dsn_bounce.eml", "rb") as handle:
        raw = handle.read().replace(b"<BOUNCED-ORIGINAL-ID>", sent.message_id.encode())

    bounce = receive(inbox, raw)

    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.BOUNCED
    assert "User unknown" in sent.last_error
    assert bounce.ticket == ticket
    note = ticket.messages.filter(kind=Message.Kind.NOTE).last()
    assert "bounced" in note.body_text
    assert "User unknown" in note.body_text


def test_unparseable_mail_is_kept_failed_and_reprocessable(inbox):
    inbound = receive(inbox, b"Subject: no sender at all\n\nbody")

    assert inbound.state == InboundMessage.State.FAILED
    assert "no sender" in inbound.error
    assert bytes(inbound.raw).startswith(b"Subject")

    assert services.reprocess_inbound(inbound_id=inbound.pk) == InboundMessage.State.FAILED


def test_reprocess_never_duplicates_a_processed_message(inbox):
    inbound = receive(inbox, mail())

    state = services.reprocess_inbound(inbound_id=inbound.pk)

    assert state == InboundMessage.State.PROCESSED
    assert Message.objects.count() == 1


def test_envelope_recipient_chooses_the_inbox(inbox):
    other = make_inbox("sales@shop.example")

    assert services.inbox_for_recipients(["<SALES@shop.example>"]) == other
    assert services.inbox_for_recipients(["nobody@shop.example"]) is None
    assert inbox.address == SUPPORT


def test_only_an_agent_public_reply_owes_an_email(agent):
    ticket = make_ticket(actor=agent)
    tickets.add_internal_note(number=ticket.number, agent=agent, body="Courier says Friday")
    reply = tickets.reply_to_ticket(number=ticket.number, agent=agent, body="It ships Friday.")

    owed = EventDelivery.objects.filter(handler__endswith=".email_agent_reply")
    assert [d.payload["message_id"] for d in owed] == [reply.pk]
