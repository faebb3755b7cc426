"""Importing many messages in one transaction: each keeps the outcome it has on its own."""

from pathlib import Path

import pytest

from serviceloop.core.models import EventDelivery
from serviceloop.customers.models import Customer
from serviceloop.inboxes import mail_sources, services
from serviceloop.inboxes.models import InboundMessage
from serviceloop.inboxes.parsing import parse_message
from serviceloop.tickets.models import Message, Ticket
from tests.inboxes.helpers import mail, make_inbox

pytestmark = pytest.mark.django_db


def import_batch(inbox, raws):  # type: ignore[no-untyped-def]
    results = services.import_raw_emails(inbox=inbox, raws=raws, via=InboundMessage.Via.IMPORT)
    return [r.outcome for r in results]


def test_a_batch_threads_dedupes_and_keeps_a_failure_without_losing_the_others():
    inbox = make_inbox()
    first = mail(message_id="<b1@customer.example>", subject="Broken lamp")
    raws = [
        first,
        mail(message_id="<b2@customer.example>", in_reply_to="<b1@customer.example>"),
        first,  # the same bytes twice in one batch
        mail(message_id="<b1@customer.example>", body="other bytes, same Message-ID"),
        mail(message_id="<b3@customer.example>", sender="ann@not_a_domain"),
        mail(message_id="<b4@customer.example>", sender="bo@customer.example"),
    ]

    outcomes = import_batch(inbox, raws)

    assert outcomes == ["imported", "imported", "duplicate", "duplicate", "failed", "imported"]
    rows = {m.message_id: m for m in InboundMessage.objects.filter(duplicate_of__isnull=True)}
    assert rows["<b2@customer.example>"].ticket_id == rows["<b1@customer.example>"].ticket_id
    assert rows["<b4@customer.example>"].ticket_id != rows["<b1@customer.example>"].ticket_id
    failed = rows["<b3@customer.example>"]
    assert (failed.state, bytes(failed.raw)) == ("failed", raws[4])
    assert "not a valid email address" in failed.error
    kept = InboundMessage.objects.get(state="duplicate")
    assert kept.duplicate_of == rows["<b1@customer.example>"]
    assert Message.objects.count() == 3


def test_a_second_batch_of_the_same_mail_is_all_duplicates():
    inbox = make_inbox()
    raws = [mail(message_id="<c%d@customer.example>" % n) for n in range(3)]
    import_batch(inbox, raws)

    assert import_batch(inbox, raws) == ["duplicate"] * 3
    assert Message.objects.count() == 3


def test_a_sender_over_the_rate_limit_within_one_batch_is_kept_but_ignored():
    inbox = make_inbox(sender_rate_limit_per_hour=2)
    raws = [mail(message_id="<r%d@customer.example>" % n, subject="n%d" % n) for n in range(3)]

    import_batch(inbox, raws)

    states = list(InboundMessage.objects.order_by("id").values_list("state", flat=True))
    assert states == ["processed", "processed", "ignored"]


def test_a_customer_first_seen_in_a_batch_is_found_again_later_in_it():
    inbox = make_inbox()
    raws = [
        mail(message_id="<d1@customer.example>", sender="Dee <dee@customer.example>"),
        mail(message_id="<d2@customer.example>", sender="dee@customer.example", subject="x"),
    ]

    import_batch(inbox, raws)

    requesters = {m.ticket.requester_id for m in InboundMessage.objects.all()}
    assert len(requesters) == 1


def test_mail_parsed_ahead_in_another_process_is_what_the_import_would_parse():
    corpus = sorted((Path(__file__).parent / "corpus").glob("*.eml"))
    raws = [path.read_bytes() for path in corpus]
    batches = [raws[:3], raws[3:4], raws[4:]]

    received = list(mail_sources.parsed_ahead(iter(batches)))

    assert [batch for batch, _parsed in received] == batches
    assert [parsed for _batch, parsed in received] == [
        [parse_message(raw) for raw in batch] for batch in batches
    ]


def test_a_batch_parsed_ahead_imports_like_one_parsed_in_place():
    inbox = make_inbox()
    raws = [
        mail(message_id="<p1@customer.example>", subject="Scratched table"),
        mail(message_id="<p2@customer.example>", in_reply_to="<p1@customer.example>"),
    ]

    results = services.import_raw_emails(
        inbox=inbox,
        raws=raws,
        via=InboundMessage.Via.IMPORT,
        parsed=[parse_message(raw) for raw in raws],
    )

    assert [r.outcome for r in results] == ["imported", "imported"]
    first, reply = (
        InboundMessage.objects.get(message_id=m)
        for m in ("<p1@customer.example>", "<p2@customer.example>")
    )
    assert first.ticket_id == reply.ticket_id is not None
    assert first.ticket.subject == "Scratched table"


def test_a_failure_mid_batch_leaves_every_other_message_processed_once(webhook_for_every_event):
    inbox = make_inbox()
    raws = [
        mail(message_id="<m1@customer.example>", subject="Lamp arrived broken"),
        mail(message_id="<m2@customer.example>", in_reply_to="<m1@customer.example>"),
        mail(message_id="<m3@customer.example>", sender="eve@not_a_domain"),
        mail(message_id="<m4@customer.example>", subject="Invoice wrong", sender="bo@x.example"),
        mail(message_id="<m5@customer.example>", sender="cy@not_a_domain"),
        mail(message_id="<m6@customer.example>", in_reply_to="<m4@customer.example>"),
    ]

    outcomes = import_batch(inbox, raws)

    assert outcomes == ["imported", "imported", "failed", "imported", "failed", "imported"]
    tickets = Ticket.objects.order_by("id")
    assert [t.subject for t in tickets] == ["Lamp arrived broken", "Invoice wrong"]
    for ticket in tickets:
        assert ticket.messages.count() == 2
        kinds = list(ticket.events.values_list("kind", flat=True))
        assert (kinds.count("created"), kinds.count("message")) == (1, 2)
    created = EventDelivery.objects.filter(event_name="ticket.created")
    assert sorted({d.payload["ticket_id"] for d in created}) == [t.pk for t in tickets]
    assert created.count() == 2 * len({d.handler for d in created})
    failed = InboundMessage.objects.filter(state="failed")
    assert sorted(failed.values_list("message_id", flat=True)) == [
        "<m3@customer.example>",
        "<m5@customer.example>",
    ]
    assert all(f.ticket_id is None for f in failed)


def test_a_batch_ends_at_its_message_count_or_its_size_whichever_comes_first():
    raws = [b"x" * 10, b"y" * 10, b"z" * 30, b"w" * 5, b"v" * 5]

    assert list(mail_sources.batches(iter(raws), max_count=2, max_bytes=1000)) == [
        raws[0:2],
        raws[2:4],
        raws[4:],
    ]
    assert list(mail_sources.batches(iter(raws), max_count=50, max_bytes=25)) == [
        raws[0:3],
        raws[3:],
    ]


def test_a_batch_makes_one_customer_per_new_sender_named_by_their_mail():
    inbox = make_inbox()
    raws = [
        mail(sender="Nia Cole <nia@shop.example>", subject="Where is my parcel?"),
        mail(sender="nia@SHOP.example", subject="Also: wrong size"),
        mail(sender="Raj <raj@other.example>", subject="Refund please"),
    ]

    import_batch(inbox, raws)

    customers = {c.email: c.name for c in Customer.objects.all()}
    assert customers == {"nia@shop.example": "Nia Cole", "raj@other.example": "Raj"}
    assert Ticket.objects.filter(requester__email="nia@shop.example").count() == 2
