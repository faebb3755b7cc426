"""Hostile and odd mail: every message is stored, and either processed or failed-and-visible."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serviceloop.inboxes import services
from serviceloop.inboxes.models import InboundMessage, Inbox
from serviceloop.tickets.models import Attachment, Message
from tests.inboxes.helpers import make_inbox, receive

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.eml"))

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_corpus_message_is_stored_and_accounted_for(path):
    inbox = make_inbox()

    inbound = receive(inbox, path.read_bytes())

    assert bytes(inbound.raw) == path.read_bytes()
    assert inbound.state in ("processed", "failed")
    if inbound.state == "failed":
        assert inbound.error


def test_broken_charsets_fall_back_instead_of_failing():
    inbox = make_inbox()

    texts = {
        name: receive(inbox, (CORPUS / name).read_bytes()).ticket_message.body_text
        for name in ("broken_charset.eml", "wrong_declared_utf8.eml", "raw_latin1_8bit.eml")
    }

    assert "café" in texts["broken_charset.eml"]
    assert "arrivé abîmé" in texts["wrong_declared_utf8.eml"]
    assert "Grüße" in texts["raw_latin1_8bit.eml"]


def test_nested_parts_keep_inline_image_and_attachments():
    inbox = make_inbox()

    message = receive(inbox, (CORPUS / "nested_multipart.eml").read_bytes()).ticket_message

    names = sorted(message.attachments.values_list("filename", "content_id"))
    assert ("invoice.pdf", "") in names
    assert any(cid == "shot@x" for _name, cid in names)
    assert 'src="cid:shot@x"' in message.body_html


@pytest.mark.parametrize("language", ["en", "fr", "de", "es", "outlook", "signature"])
def test_quoting_styles_are_folded(language):
    inbox = make_inbox()

    message = receive(inbox, (CORPUS / f"quote_{language}.eml").read_bytes()).ticket_message

    assert ">" not in message.body_text
    assert "Support" not in message.body_text
    assert "Gus Grant" not in message.body_text
    assert message.channel_metadata["full_text"]


def test_message_without_sender_is_failed_and_visible_to_admins(admin, api_client_for):
    inbox = make_inbox()
    receive(inbox, (CORPUS / "no_from.eml").read_bytes())

    response = api_client_for(admin).get("/api/v1/inbound-messages?state=failed")

    assert response.status_code == 200
    (row,) = response.json()["items"]
    assert "no sender" in row["error"]


def test_huge_attachment_over_the_limit_is_noted():
    inbox = make_inbox(max_attachment_bytes=1024 * 1024)

    inbound = receive(inbox, (CORPUS / "huge_attachment.eml").read_bytes())

    assert not Attachment.objects.exists()
    assert "big.log" in inbound.ticket.messages.get(kind=Message.Kind.NOTE).body_text


SEEDS = [p.read_bytes() for p in FILES if p.stat().st_size < 100_000]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**6), st.binary(min_size=0, max_size=8)),
        max_size=8,
    ),
)
def test_mutated_mail_never_crashes_and_is_never_lost(seed, edits):
    inbox = Inbox.objects.first() or make_inbox()
    raw = bytearray(seed)
    for position, replacement in edits:
        at = position % (len(raw) + 1)
        raw[at : at + len(replacement)] = replacement
    raw_bytes = bytes(raw)

    result = services.receive_raw_email(inbox=inbox, raw=raw_bytes, via="import")

    stored = InboundMessage.objects.get(pk=result.inbound.pk)
    assert stored.state in ("processed", "failed", "ignored") or result.outcome == "duplicate"
    if stored.state == "failed":
        assert stored.error
    if result.outcome != "duplicate":
        assert bytes(stored.raw) == raw_bytes
