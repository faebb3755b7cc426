"""Real SMTP exchanges: smtplib into our receiver, and our replies into a real aiosmtpd."""

import smtplib
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from serviceloop.inboxes import outbound
from serviceloop.inboxes.models import InboundMessage, OutboundMessage
from serviceloop.inboxes.smtp_server import make_controller
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Message, Ticket
from tests.background import free_port
from tests.inboxes.helpers import mail, make_inbox, receive


@pytest.fixture
def smtpd(transactional_db):  # type: ignore[no-untyped-def]
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def test_mail_sent_over_smtp_becomes_a_ticket(smtpd):
    make_inbox()

    with smtplib.SMTP("127.0.0.1", smtpd) as client:
        client.sendmail("ann@customer.example", ["support@shop.example"], mail())

    inbound = InboundMessage.objects.get()
    assert inbound.via == "smtp"
    assert inbound.ticket.subject == "My order has not arrived"


def test_unknown_recipient_is_refused_with_550(smtpd):
    make_inbox()

    with (
        smtplib.SMTP("127.0.0.1", smtpd) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail("ann@customer.example", ["nobody@shop.example"], mail())

    assert refused.value.recipients["nobody@shop.example"][0] == 550
    assert not InboundMessage.objects.exists()


class Recorder(Sink):
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250 OK"


class Refuser(Sink):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        return "550 5.1.1 User unknown"


@pytest.fixture
def mail_server(settings):  # type: ignore[no-untyped-def]
    def start(handler):  # type: ignore[no-untyped-def]
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        return handler

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


@pytest.mark.django_db
def test_agent_reply_goes_out_threaded_with_token_html_and_attachment(
    mail_server, agent, deliver_events
):
    server = mail_server(Recorder())
    inbox = make_inbox(name="Shop Support", send_acknowledgement=False)
    first = receive(inbox, mail(message_id="<m1@customer.example>", cc="cleo@customer.example"))
    ticket = first.ticket

    tickets.reply_to_ticket(
        number=ticket.number,
        agent=agent,
        body="It ships today.",
        body_html="<p>It ships <b>today</b>.</p>",
        attachments=[tickets.NewAttachment("label.pdf", "application/pdf", b"%PDF-1.4")],
    )
    deliver_events()
    assert outbound.send_due_outbound_messages() == 1

    ((_sender, recipients, raw),) = server.messages
    sent = message_from_bytes(raw, policy=policy.default)
    assert sorted(recipients) == ["ann@customer.example", "cleo@customer.example"]
    assert sent["From"] == "Shop Support <support@shop.example>"
    assert sent["Subject"] == "[#%s] My order has not arrived" % ticket.number
    assert sent["In-Reply-To"] == "<m1@customer.example>"
    assert "<m1@customer.example>" in sent["References"]
    assert sent.get_body(("plain",)).get_content().strip() == "It ships today."
    assert "<b>today</b>" in sent.get_body(("html",)).get_content()
    assert [p.get_filename() for p in sent.iter_attachments()] == ["label.pdf"]
    row = OutboundMessage.objects.get()
    assert (row.state, row.message_id) == ("sent", sent["Message-ID"])

    answer = receive(inbox, mail(subject="Thanks", in_reply_to=sent["Message-ID"]))
    assert answer.ticket == ticket


@pytest.mark.django_db
def test_acknowledgement_is_sent_with_the_ticket_number(mail_server):
    server = mail_server(Recorder())
    inbox = make_inbox()
    ticket = receive(inbox, mail()).ticket

    outbound.send_due_outbound_messages()

    ((_sender, recipients, raw),) = server.messages
    sent = message_from_bytes(raw, policy=policy.default)
    assert recipients == ["ann@customer.example"]
    assert sent["Auto-Submitted"] == "auto-replied"
    assert "ticket #%s" % ticket.number in sent.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_permanent_failure_shows_on_the_ticket(mail_server, agent, deliver_events):
    mail_server(Refuser())
    inbox = make_inbox(send_acknowledgement=False)
    ticket = receive(inbox, mail()).ticket
    tickets.reply_to_ticket(number=ticket.number, agent=agent, body="Hello")
    deliver_events()

    outbound.send_due_outbound_messages()

    row = OutboundMessage.objects.get()
    assert row.state == "failed"
    assert "User unknown" in row.last_error
    note = Ticket.objects.get().messages.filter(kind=Message.Kind.NOTE).get()
    assert "could not be sent" in note.body_text


@pytest.mark.django_db
def test_unreachable_server_is_retried_later(settings, agent, deliver_events):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    inbox = make_inbox(send_acknowledgement=False)
    ticket = receive(inbox, mail()).ticket
    tickets.reply_to_ticket(number=ticket.number, agent=agent, body="Hello")
    deliver_events()

    outbound.send_due_outbound_messages()

    row = OutboundMessage.objects.get()
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > row.created_at
