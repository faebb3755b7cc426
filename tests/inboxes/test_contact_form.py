"""The public contact page of an inbox, and the snippet that embeds it on another site."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from serviceloop.core.custom_fields import create_custom_field
from serviceloop.core.errors import InvalidInput
from serviceloop.core.models import CustomFieldDefinition
from serviceloop.inboxes.models import InboundMessage, Inbox
from serviceloop.inboxes.services import reprocess_inbound
from serviceloop.tickets.models import Ticket
from tests.inboxes.helpers import mail, make_inbox, receive

pytestmark = pytest.mark.django_db

CONTACT = "/contact/support/"


@pytest.fixture
def inbox() -> Inbox:
    return make_inbox(name="Shop Support")


def submission(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Ann Lee",
        "email": "Ann@Customer.example",
        "subject": "My order has not arrived",
        "message": "Hello, order 1042 is a week late.",
        "website": "",
    }
    data.update(changes)
    return data


def test_the_contact_page_shows_the_form(inbox):
    response = Client().get(CONTACT)

    assert response.status_code == 200
    assert "Contact Shop Support" in response.text
    for name in ("name", "email", "subject", "message", "attachments"):
        assert f'name="{name}"' in response.text


def test_a_submission_opens_a_ticket_and_shows_its_number(inbox):
    response = Client().post(CONTACT, submission())

    ticket = Ticket.objects.get()
    assert response.status_code == 200
    assert "Thank you, we received your message" in response.text
    assert f"Your ticket number is <strong>#{ticket.number}</strong>" in response.text
    assert ticket.subject == "My order has not arrived"
    assert ticket.channel == "web"
    assert (ticket.requester.email, ticket.requester.name) == ("ann@customer.example", "Ann Lee")
    assert ticket.messages.get().body_text == "Hello, order 1042 is a week late."
    assert InboundMessage.objects.get().via == InboundMessage.Via.WEB


def test_the_form_needs_no_csrf_token_because_other_sites_embed_it(inbox):
    response = Client(enforce_csrf_checks=True).post(CONTACT, submission())

    assert response.status_code == 200
    assert Ticket.objects.count() == 1


def test_a_filled_honeypot_looks_sent_but_makes_nothing(inbox):
    response = Client().post(CONTACT, submission(website="http://spam.example"))

    assert response.status_code == 200
    assert "Thank you, we received your message" in response.text
    assert "ticket number" not in response.text
    assert not Ticket.objects.exists()
    assert not InboundMessage.objects.exists()


def test_too_many_submissions_from_one_ip_are_refused_with_429(inbox, settings):
    settings.SERVICELOOP_CONTACT_PER_IP_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(2):
        assert client.post(CONTACT, submission(email=f"p{n}@customer.example")).status_code == 200

    response = client.post(CONTACT, submission(email="p3@customer.example"))

    assert response.status_code == 429
    assert "Too many messages in a short time; please try again in an hour." in response.text
    assert Ticket.objects.count() == 2


def test_too_many_submissions_from_one_address_are_refused_with_429(inbox, settings):
    settings.SERVICELOOP_CONTACT_PER_ADDRESS_PER_HOUR = 1
    assert Client(REMOTE_ADDR="203.0.113.7").post(CONTACT, submission()).status_code == 200

    response = Client(REMOTE_ADDR="198.51.100.9").post(
        CONTACT, submission(email="ann@customer.example")
    )

    assert response.status_code == 429
    assert "Too many messages in a short time" in response.text
    assert Ticket.objects.count() == 1


def test_another_ip_and_address_still_get_through(inbox, settings):
    settings.SERVICELOOP_CONTACT_PER_IP_PER_HOUR = 1
    Client(REMOTE_ADDR="203.0.113.7").post(CONTACT, submission())

    response = Client(REMOTE_ADDR="198.51.100.9").post(
        CONTACT, submission(email="bob@customer.example")
    )

    assert response.status_code == 200
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("email", "", "Email: enter a valid email address so we can answer you."),
        ("email", "ann at example", "Email: enter a valid email address so we can answer you."),
        ("subject", "   ", "Subject: say in a few words what it is about."),
        ("message", "", "Message: tell us how we can help."),
        ("name", "N" * 201, "Name: at most 200 characters."),
        ("subject", "S" * 251, "Subject: at most 250 characters."),
        ("message", "M" * 20_001, "Message: at most 20000 characters."),
    ],
)
def test_a_missing_or_bad_field_is_named_and_the_form_comes_back_with_422(
    inbox, field, value, sentence
):
    response = Client().post(CONTACT, submission(**{field: value}))

    assert response.status_code == 422
    assert sentence in response.text
    assert not Ticket.objects.exists()


def test_line_breaks_in_the_name_and_subject_cannot_inject_mail_headers(inbox):
    response = Client().post(
        CONTACT,
        submission(name="Ann\r\nBcc: all@victim.example", subject="Hi\nBcc: all@victim.example"),
    )

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.requester.name == "Ann Bcc: all@victim.example"
    assert ticket.subject == "Hi Bcc: all@victim.example"
    assert b"\nBcc:" not in bytes(InboundMessage.objects.get().raw)


def test_the_form_keeps_what_was_typed_after_a_refusal(inbox):
    response = Client().post(CONTACT, submission(email="not-an-address"))

    assert response.status_code == 422
    assert 'value="My order has not arrived"' in response.text
    assert "Hello, order 1042 is a week late." in response.text


def test_attachments_arrive_on_the_ticket(inbox):
    files = [
        SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf"),
        SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png"),
    ]

    response = Client().post(CONTACT, {**submission(), "attachments": files})

    assert response.status_code == 200
    message = Ticket.objects.get().messages.get()
    stored = {a.filename: (a.content_type, a.file.read()) for a in message.attachments.all()}
    assert stored == {
        "receipt.pdf": ("application/pdf", b"%PDF-1.4 receipt"),
        "photo.png": ("image/png", b"\x89PNG\r\n\x1a\nfake"),
    }


def test_an_attachment_over_the_inbox_limit_is_refused_with_422(inbox):
    inbox.max_attachment_bytes = 10
    inbox.save()
    big = SimpleUploadedFile("big.bin", b"x" * 11, content_type="application/octet-stream")

    response = Client().post(CONTACT, {**submission(), "attachments": [big]})

    assert response.status_code == 422
    assert "Attachments: big.bin is larger than 10 bytes." in response.text
    assert not Ticket.objects.exists()


def test_more_than_five_attachments_are_refused_with_422(inbox):
    files = [SimpleUploadedFile(f"f{n}.txt", b"hi") for n in range(6)]

    response = Client().post(CONTACT, {**submission(), "attachments": files})

    assert response.status_code == 422
    assert "Attachments: at most 5 files." in response.text


def test_an_inactive_inbox_has_no_contact_page(inbox):
    inbox.is_active = False
    inbox.save()

    assert Client().get(CONTACT).status_code == 404
    assert Client().post(CONTACT, submission()).status_code == 404
    assert not Ticket.objects.exists()


def test_an_unknown_contact_page_is_not_found(db):
    assert Client().get("/contact/nobody/").status_code == 404


def test_the_embed_page_gives_a_snippet_that_posts_to_the_web_form_api(inbox):
    response = Client().get("/contact/support/embed/")

    assert response.status_code == 200
    snippet = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.text, re.S)
    assert snippet is not None
    assert "action=&quot;http://testserver/api/v1/contact/support&quot;" in snippet.group(1)
    assert "enctype=&quot;multipart/form-data&quot;" in snippet.group(1)
    assert "csrfmiddlewaretoken" not in snippet.group(1)
    # The live preview is the very same form.
    assert '<form method="post" action="http://testserver/api/v1/contact/support"' in response.text


def test_a_refused_form_says_attached_files_must_be_attached_again(inbox):
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4", content_type="application/pdf")

    response = Client().post(CONTACT, {**submission(email=""), "attachments": [upload]})

    assert response.status_code == 422
    assert "Your files were not kept with the refused form: please attach them again." in (
        response.text
    )


# --- Custom fields the admin asks on the form ----------------------------------------------


@pytest.fixture
def asked_fields(db):  # type: ignore[no-untyped-def]
    create_custom_field(
        entity="ticket", key="order", label="Order number", kind="number", shown_on_web_form=True
    )
    create_custom_field(
        entity="ticket",
        key="product",
        label="Product",
        kind="dropdown",
        options=["Kettle", "Toaster"],
        shown_on_web_form=True,
    )
    create_custom_field(
        entity="ticket", key="urgent", label="It is urgent", kind="checkbox", shown_on_web_form=True
    )
    create_custom_field(entity="ticket", key="internal", label="Internal score", kind="number")


def test_the_form_asks_the_fields_the_admin_exposed_and_no_others(inbox, asked_fields):
    response = Client().get(CONTACT)

    assert "Order number" in response.text
    assert '<option value="Toaster"' in response.text
    assert 'name="cf_urgent" type="checkbox"' in response.text
    assert "Internal score" not in response.text


def test_the_embedded_form_asks_them_too(inbox, asked_fields):
    response = Client().get("/contact/support/embed/")

    assert "name=&quot;cf_order&quot;" in response.text


def test_answers_to_exposed_fields_are_stored_on_the_ticket(inbox, asked_fields):
    response = Client().post(
        CONTACT,
        submission(cf_order="1042", cf_product="Toaster", cf_urgent="1", cf_internal="99"),
    )

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.custom_fields == {"order": 1042, "product": "Toaster", "urgent": True}


def test_exposed_fields_may_be_left_empty(inbox, asked_fields):
    response = Client().post(CONTACT, submission(cf_order="", cf_product=""))

    assert response.status_code == 200
    assert Ticket.objects.get().custom_fields == {}


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("cf_order", "soon", "Order number must be a number."),
        ("cf_product", "Blender", "&#x27;Blender&#x27; is not an option of Product"),
    ],
)
def test_a_bad_answer_to_an_exposed_field_is_named_with_422(
    inbox, asked_fields, field, value, sentence
):
    response = Client().post(CONTACT, submission(**{field: value}))

    assert response.status_code == 422
    assert sentence in response.text
    assert not Ticket.objects.exists()


def test_a_reprocessed_submission_keeps_its_field_values(inbox, asked_fields):
    Client().post(CONTACT, submission(cf_order="1042"))
    inbound = InboundMessage.objects.get()
    Ticket.objects.all().delete()
    InboundMessage.objects.filter(pk=inbound.pk).update(
        state=InboundMessage.State.FAILED, ticket=None, ticket_message=None
    )

    reprocess_inbound(inbound_id=inbound.pk)

    assert Ticket.objects.get().custom_fields == {"order": 1042}


def test_mail_from_outside_cannot_set_fields_with_our_header(inbox, asked_fields):
    receive(inbox, mail(headers={"X-Serviceloop-Fields": "eyJvcmRlciI6IDd9"}))  # {"order": 7}

    assert Ticket.objects.get().custom_fields == {}


def test_an_admin_exposes_a_field_on_the_custom_fields_page(inbox, admin, asked_fields):
    client = Client()
    client.force_login(admin)
    field = CustomFieldDefinition.objects.get(key="internal")

    response = client.post(
        f"/settings/fields/{field.pk}/", {"is_active": "on", "shown_on_web_form": "on"}
    )

    assert response.status_code == 302
    assert "Internal score" in Client().get(CONTACT).text


def test_a_customer_field_cannot_be_asked_on_the_web_form(db):
    with pytest.raises(InvalidInput) as refused:
        create_custom_field(
            entity="customer", key="vip", label="VIP", kind="checkbox", shown_on_web_form=True
        )

    assert refused.value.message == "Only ticket fields can be asked on the web form."
