"""The web-form endpoint of the API, where the embeddable form posts from other sites.

A browser posting the snippet lands on our confirmation page with the ticket number; a
script gets JSON. Both go through the same checks as the contact page.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from serviceloop.api import api
from serviceloop.core.custom_fields import create_custom_field
from serviceloop.inboxes.models import InboundMessage, Inbox
from serviceloop.tickets.models import Ticket
from tests.accounts.factories import AgentFactory
from tests.inboxes.helpers import make_inbox

pytestmark = pytest.mark.django_db

ENDPOINT = "/api/v1/contact/support"
# What a browser sends when a form is submitted, and where it comes from.
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Origin": "https://www.lamps.example",
    "Referer": "https://www.lamps.example/help",
}
SCRIPT = {"Accept": "application/json", "Origin": "https://www.lamps.example"}


@pytest.fixture
def inbox() -> Inbox:
    return make_inbox(name="Shop Support")


def submission(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Ann Lee",
        "email": "Ann@Customer.example",
        "subject": "My lamp flickers",
        "message": "Hello, the lamp I bought flickers when dimmed.",
        "website": "",
    }
    data.update(changes)
    return data


def another_site() -> Client:
    """A visitor's browser on the customer's site: no cookie or CSRF token of ours."""
    return Client(enforce_csrf_checks=True)


# --- A browser posting the embedded form --------------------------------------------------


def test_the_embedded_form_opens_a_ticket_and_shows_its_number_on_the_confirmation_page(inbox):
    snippet_page = Client().get("/contact/support/embed/").text
    action = re.search(r'<form method="post" action="([^"]+)"', snippet_page)
    assert action is not None

    response = another_site().post(action.group(1), submission(), headers=BROWSER)

    ticket = Ticket.objects.get()
    assert response.status_code == 303
    assert response["Location"].startswith("/contact/support/sent/?receipt=")
    confirmation = Client().get(response["Location"])
    assert confirmation.status_code == 200
    assert "Thank you, we received your message" in confirmation.text
    assert f"Your ticket number is <strong>#{ticket.number}</strong>" in confirmation.text
    assert (ticket.subject, ticket.channel) == ("My lamp flickers", "web")
    assert (ticket.requester.email, ticket.requester.name) == ("ann@customer.example", "Ann Lee")
    assert ticket.messages.get().body_text == "Hello, the lamp I bought flickers when dimmed."
    assert InboundMessage.objects.get().via == InboundMessage.Via.WEB


def test_attachments_and_exposed_fields_arrive_on_the_ticket(inbox):
    create_custom_field(
        entity="ticket", key="order", label="Order number", kind="number", shown_on_web_form=True
    )
    photo = SimpleUploadedFile("lamp.jpg", b"\xff\xd8\xff\xe0 photo", content_type="image/jpeg")

    response = another_site().post(
        ENDPOINT, {**submission(cf_order="1042"), "attachments": [photo]}, headers=BROWSER
    )

    assert response.status_code == 303
    ticket = Ticket.objects.get()
    assert ticket.custom_fields == {"order": 1042}
    [attachment] = ticket.messages.get().attachments.all()
    assert (attachment.filename, attachment.file.read()) == ("lamp.jpg", b"\xff\xd8\xff\xe0 photo")


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("email", "ann at example", "Email: enter a valid email address so we can answer you."),
        ("subject", "", "Subject: say in a few words what it is about."),
        ("message", "M" * 20_001, "Message: at most 20000 characters."),
    ],
)
def test_a_bad_field_shows_the_form_again_saying_what_is_wrong(inbox, field, value, sentence):
    response = another_site().post(ENDPOINT, submission(**{field: value}), headers=BROWSER)

    assert response.status_code == 422
    assert sentence in response.text
    # Nothing typed is lost: it is all in the form again, which posts here again.
    typed = submission(**{field: value})
    for name in ("name", "subject", "message"):
        if name != field:
            assert str(typed[name]) in response.text
    assert f'<form method="post" action="{ENDPOINT}"' in response.text
    assert not Ticket.objects.exists()


def test_the_corrected_form_goes_through(inbox):
    another_site().post(ENDPOINT, submission(email="ann at example"), headers=BROWSER)

    response = another_site().post(ENDPOINT, submission(), headers=BROWSER)

    assert response.status_code == 303
    assert Ticket.objects.count() == 1


def test_a_filled_honeypot_lands_on_the_confirmation_without_a_number_and_keeps_nothing(inbox):
    response = another_site().post(
        ENDPOINT, submission(website="http://spam.example"), headers=BROWSER
    )

    assert response.status_code == 303
    assert response["Location"] == "/contact/support/sent/"
    page = Client().get(response["Location"]).text
    assert "Thank you, we received your message" in page
    assert "ticket number" not in page
    assert not InboundMessage.objects.exists()


def test_an_attachment_over_the_inbox_limit_is_named(inbox):
    inbox.max_attachment_bytes = 10
    inbox.save()
    big = SimpleUploadedFile("manual.pdf", b"x" * 11, content_type="application/pdf")

    response = another_site().post(
        ENDPOINT, {**submission(), "attachments": [big]}, headers=BROWSER
    )

    assert response.status_code == 422
    assert "Attachments: manual.pdf is larger than 10 bytes." in response.text
    assert not Ticket.objects.exists()


# --- A script posting the form ------------------------------------------------------------


def test_a_script_gets_201_with_the_ticket_number(inbox):
    response = another_site().post(ENDPOINT, submission(), headers=SCRIPT)

    assert response.status_code == 201
    assert response.json() == {"ticket_number": Ticket.objects.get().number}
    # The script on the customer's site may read the answer.
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_client_that_states_no_preference_gets_json(inbox):
    response = Client().post(ENDPOINT, submission())

    assert response.status_code == 201
    assert response.json()["ticket_number"] == Ticket.objects.get().number


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "Email: enter a valid email address so we can answer you."),
        ({"message": "  "}, "message", "Message: tell us how we can help."),
        ({"cf_order": "soon"}, "cf_order", "Order number must be a number."),
    ],
)
def test_a_script_is_told_which_field_is_wrong_with_422(inbox, changes, field, message):
    create_custom_field(
        entity="ticket", key="order", label="Order number", kind="number", shown_on_web_form=True
    )

    response = another_site().post(ENDPOINT, submission(**changes), headers=SCRIPT)

    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"], body["message"]) == ("invalid", field, message)
    assert {"field": field, "message": message} in body["errors"]
    assert not Ticket.objects.exists()


def test_every_wrong_field_is_listed(inbox):
    response = another_site().post(
        ENDPOINT, submission(email="", subject="", message=""), headers=SCRIPT
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email", "subject", "message"]


def test_a_filled_honeypot_looks_received_to_a_script_and_keeps_nothing(inbox):
    response = another_site().post(ENDPOINT, submission(website="x"), headers=SCRIPT)

    assert response.status_code == 202
    assert response.json() == {"ticket_number": None}
    assert not InboundMessage.objects.exists()


def test_a_json_body_is_refused_with_415_saying_what_to_send(inbox):
    response = another_site().post(
        ENDPOINT, submission(), content_type="application/json", headers=SCRIPT
    )

    assert response.status_code == 415
    assert response.json()["message"].startswith("Post the form as multipart/form-data")
    assert not Ticket.objects.exists()


def test_a_body_over_the_servers_limit_is_refused_with_413(inbox, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = another_site().post(ENDPOINT, submission(message="M" * 2000), headers=SCRIPT)

    assert response.status_code == 413
    assert response.json()["message"] == "The form is larger than this server accepts."


def test_an_inactive_inbox_has_no_web_form(inbox):
    inbox.is_active = False
    inbox.save()

    response = another_site().post(ENDPOINT, submission(), headers=SCRIPT)

    assert response.status_code == 404
    assert response.json()["code"] == "contact_form_not_found"
    assert not Ticket.objects.exists()


# --- Limits shared with the contact page --------------------------------------------------


def test_the_per_ip_limit_counts_the_contact_page_and_the_api_together(inbox, settings):
    settings.SERVICELOOP_CONTACT_PER_IP_PER_HOUR = 2
    visitor = Client(REMOTE_ADDR="203.0.113.7")
    visitor.post("/contact/support/", submission(email="p1@customer.example"))
    visitor.post(ENDPOINT, submission(email="p2@customer.example"), headers=BROWSER)

    page = visitor.post(ENDPOINT, submission(email="p3@customer.example"), headers=BROWSER)
    script = visitor.post(ENDPOINT, submission(email="p4@customer.example"), headers=SCRIPT)

    assert page.status_code == 429
    assert "Too many messages in a short time; please try again in an hour." in page.text
    assert 'value="My lamp flickers"' in page.text
    assert script.status_code == 429
    assert script.json()["code"] == "rate_limited"
    assert Ticket.objects.count() == 2


def test_the_per_address_limit_applies_from_any_ip(inbox, settings):
    settings.SERVICELOOP_CONTACT_PER_ADDRESS_PER_HOUR = 1
    Client(REMOTE_ADDR="203.0.113.7").post(ENDPOINT, submission(), headers=SCRIPT)

    response = Client(REMOTE_ADDR="198.51.100.9").post(
        ENDPOINT, submission(email="ann@customer.example"), headers=SCRIPT
    )

    assert response.status_code == 429
    assert Ticket.objects.count() == 1


# --- What stays closed --------------------------------------------------------------------


def test_an_agents_browser_session_gives_the_post_no_rights_and_others_still_need_csrf(inbox):
    agent = AgentFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)

    form = browser.post(ENDPOINT, submission(), headers=SCRIPT)
    write = browser.post(
        "/api/v1/agents/me/away", data={"is_away": True}, content_type="application/json"
    )

    assert form.status_code == 201
    assert Ticket.objects.get().requester.email == "ann@customer.example"
    assert write.status_code == 403


def test_the_confirmation_page_shows_no_number_it_did_not_give_out(inbox):
    make_inbox("sales@shop.example")
    for_sales = Client().post("/api/v1/contact/sales", submission(), headers=BROWSER)
    receipt = for_sales["Location"].split("receipt=", 1)[1]

    forged = Client().get("/contact/support/sent/?receipt=%5B%22support%22%2C%201%5D")
    other_inbox = Client().get(f"/contact/support/sent/?receipt={receipt}")

    for page in (forged, other_inbox):
        assert page.status_code == 200
        assert "Thank you, we received your message" in page.text
        assert "ticket number" not in page.text


def test_the_endpoint_stays_out_of_the_token_api_schema(inbox):
    paths = api.get_openapi_schema()["paths"]

    assert not any(path.startswith("/api/v1/contact") for path in paths)
