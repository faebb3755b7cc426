"""Automatic replies (out-of-office, auto-responders) to solved and closed tickets.

They are kept on the ticket for the agents to read, but a machine answering our "solved"
mail neither reopens the ticket nor, once it is closed, opens a follow-up; and nothing is
sent back to it.
"""

import smtplib
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from django.test import Client

from serviceloop.inboxes import outbound
from serviceloop.inboxes.models import InboundMessage, Inbox, OutboundMessage
from serviceloop.inboxes.smtp_server import make_controller
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import Message, Status, Ticket
from tests.background import free_port
from tests.inboxes.helpers import SUPPORT, mail, make_inbox, receive

OUT_OF_OFFICE = "I am out of the office until Monday and will read your message then."


class Recorder(Sink):
    """A mail server that keeps what it is sent: where our replies and acknowledgements go."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def customers_mail_server(settings):  # type: ignore[no-untyped-def]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    yield recorder
    controller.stop()


@pytest.fixture
def our_smtpd(transactional_db):  # type: ignore[no-untyped-def]
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def inbox(db) -> Inbox:  # type: ignore[no-untyped-def]
    return make_inbox()


def out_of_office(*, answering: str, subject: str, headers: dict[str, str] | None = None) -> bytes:
    """The auto-reply a customer's mail server sends to a message from us."""
    return mail(
        subject=subject,
        body=OUT_OF_OFFICE,
        in_reply_to=answering,
        references=answering,
        headers={"Auto-Submitted": "auto-replied"} if headers is None else headers,
    )


def solved_ticket(inbox: Inbox, agent) -> tuple[Ticket, str]:  # type: ignore[no-untyped-def]
    """A ticket the agent answered and solved; returns it and our answer's Message-ID."""
    ticket = receive(inbox, mail(message_id="<order@customer.example>")).ticket
    answer = tickets.reply_to_ticket(
        number=ticket.number, agent=agent, body="It ships today.", status=Status.SOLVED
    )
    sent = outbound.queue_reply(message_id=answer.pk)
    assert sent is not None
    return ticket, sent.message_id


def ticket_page(agent, ticket: Ticket) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(agent)
    response = client.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 200
    return response.text


@pytest.mark.slow
def test_an_out_of_office_over_smtp_leaves_the_solved_ticket_solved_and_is_not_answered(
    our_smtpd, customers_mail_server, agent, deliver_events
):
    make_inbox(name="Shop Support")
    with smtplib.SMTP("127.0.0.1", our_smtpd) as client:
        client.sendmail("ann@customer.example", [SUPPORT], mail())
    ticket = Ticket.objects.get()
    tickets.reply_to_ticket(
        number=ticket.number, agent=agent, body="It ships today.", status=Status.SOLVED
    )
    deliver_events()
    outbound.send_due_outbound_messages()
    ours = [
        message_from_bytes(raw, policy=policy.default) for raw in customers_mail_server.messages
    ]
    answer = next(m for m in ours if "It ships today." in m.get_body(("plain",)).get_content())

    with smtplib.SMTP("127.0.0.1", our_smtpd) as client:
        client.sendmail(
            "ann@customer.example",
            [SUPPORT],
            out_of_office(
                answering=answer["Message-ID"], subject="Automatic reply: %s" % answer["Subject"]
            ),
        )
    deliver_events()
    outbound.send_due_outbound_messages()

    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == (Status.SOLVED, 0)
    auto_reply = InboundMessage.objects.get(subject__startswith="Automatic reply")
    assert (auto_reply.state, auto_reply.ticket, auto_reply.is_automatic) == (
        InboundMessage.State.PROCESSED,
        ticket,
        True,
    )
    page = ticket_page(agent, ticket)
    assert "Automatic reply from ann@customer.example (Auto-Submitted: auto-replied)." in page
    assert "It left the ticket solved; nothing was sent in answer." in page
    assert OUT_OF_OFFICE in page
    # Our acknowledgement and our answer; nothing in answer to the machine.
    assert len(customers_mail_server.messages) == 2
    assert OutboundMessage.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"X-Autoreply": "yes"}, "X-Autoreply header"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"Precedence": "list"}, "Precedence: list"),
    ],
)
def test_an_auto_reply_keeps_a_solved_ticket_solved_and_shows_on_it(inbox, agent, headers, reason):
    ticket, ours = solved_ticket(inbox, agent)

    inbound = receive(inbox, out_of_office(answering=ours, subject="Re: My order", headers=headers))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == (Status.SOLVED, 0)
    note = inbound.ticket_message
    assert (note.ticket, note.kind) == (ticket, Message.Kind.NOTE)
    assert note.body_text.startswith(
        "Automatic reply from ann@customer.example (%s). It left the ticket solved" % reason
    )
    assert OUT_OF_OFFICE in note.body_text
    # The ticket's own acknowledgement, and none for the auto-reply.
    assert OutboundMessage.objects.filter(kind=OutboundMessage.Kind.ACKNOWLEDGEMENT).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: [#{number}] My order has not arrived",
        "Out of Office: My order has not arrived",
        "Out of Office AutoReply: My order has not arrived",
        "Abwesenheitsnotiz: My order has not arrived",
        "Réponse automatique : My order has not arrived",
    ],
)
def test_an_out_of_office_known_only_by_its_subject_keeps_the_ticket_solved(inbox, agent, subject):
    ticket, ours = solved_ticket(inbox, agent)

    inbound = receive(
        inbox,
        out_of_office(answering=ours, subject=subject.format(number=ticket.number), headers={}),
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert inbound.is_automatic
    assert "out-of-office subject" in inbound.ticket_message.body_text


@pytest.mark.django_db
def test_an_auto_reply_to_a_closed_ticket_opens_no_follow_up_and_gets_no_acknowledgement(
    inbox, agent
):
    ticket, ours = solved_ticket(inbox, agent)
    tickets.change_status(number=ticket.number, agent=agent, status=Status.CLOSED)
    acknowledgements = OutboundMessage.objects.filter(kind=OutboundMessage.Kind.ACKNOWLEDGEMENT)
    assert acknowledgements.count() == 1  # the one for the ticket itself

    inbound = receive(inbox, out_of_office(answering=ours, subject="Automatic reply: My order"))

    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert inbound.ticket == ticket
    assert "It opened no follow-up to the closed ticket" in inbound.ticket_message.body_text
    assert acknowledgements.count() == 1


@pytest.mark.django_db
def test_an_auto_reply_to_a_merged_ticket_is_kept_on_the_solved_survivor(inbox, agent):
    ticket, ours = solved_ticket(inbox, agent)
    survivor = receive(inbox, mail(subject="Second order")).ticket
    tickets.merge_tickets(source_number=ticket.number, target_number=survivor.number, agent=agent)
    tickets.change_status(number=survivor.number, agent=agent, status=Status.SOLVED)

    inbound = receive(inbox, out_of_office(answering=ours, subject="Automatic reply: My order"))

    survivor.refresh_from_db()
    assert survivor.status == Status.SOLVED
    assert inbound.ticket_message.ticket == survivor


@pytest.mark.django_db
def test_an_auto_reply_to_an_open_ticket_joins_the_conversation_as_before(inbox, agent):
    ticket = receive(inbox, mail(message_id="<order@customer.example>")).ticket

    inbound = receive(
        inbox, out_of_office(answering="<order@customer.example>", subject="Automatic reply: x")
    )

    message = inbound.ticket_message
    assert (message.ticket, message.kind, message.body_text) == (
        ticket,
        Message.Kind.REPLY,
        OUT_OF_OFFICE,
    )


@pytest.mark.django_db
def test_a_person_answering_the_solved_mail_still_reopens_the_ticket(inbox, agent):
    ticket, ours = solved_ticket(inbox, agent)

    receive(inbox, mail(subject="Re: My order", body="It did not arrive.", in_reply_to=ours))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == (Status.OPEN, 1)


@pytest.mark.django_db
def test_a_person_writing_through_a_mailing_list_still_reopens_the_ticket(inbox, agent):
    ticket, ours = solved_ticket(inbox, agent)

    receive(
        inbox,
        mail(
            subject="Re: My order",
            body="Our team still has no parcel.",
            in_reply_to=ours,
            headers={"List-Id": "<purchasing.customer.example>"},
        ),
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize("waiting", [Status.PENDING, Status.ON_HOLD])
def test_an_auto_reply_to_a_ticket_waiting_on_the_customer_leaves_it_waiting(inbox, agent, waiting):
    ticket = receive(inbox, mail(message_id="<order@customer.example>")).ticket
    answer = tickets.reply_to_ticket(
        number=ticket.number, agent=agent, body="Which colour did you order?", status=waiting
    )
    ours = outbound.queue_reply(message_id=answer.pk)
    assert ours is not None

    inbound = receive(
        inbox, out_of_office(answering=ours.message_id, subject="Out of Office: My order")
    )

    ticket.refresh_from_db()
    assert ticket.status == waiting
    note = inbound.ticket_message
    assert (note.ticket, note.kind) == (ticket, Message.Kind.NOTE)
    assert "Automatic reply from" in note.body_text
    assert OUT_OF_OFFICE.splitlines()[0] in note.body_text
