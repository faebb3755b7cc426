"""The inbox settings pages: who may use them, adding and editing, the mail log, reprocessing."""

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Role
from serviceloop.inboxes.models import InboundMessage, Inbox, OutboundMessage
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inboxes.helpers import mail, make_inbox, receive

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(AgentFactory(role=role))
    return client


@pytest.fixture
def admin_client() -> Client:
    return signed_in(Role.ADMIN)


@pytest.fixture
def inbox() -> Inbox:
    return make_inbox(name="Shop Support", imap_password="imap-secret", smtp_password="smtp-secret")


def _form(**changes: object) -> dict[str, object]:
    """What the browser posts for an inbox with default settings."""
    data: dict[str, object] = {
        "name": "Shop Support",
        "is_active": "on",
        "imap_security": "ssl",
        "imap_folder": "INBOX",
        "imap_after_import": "seen",
        "smtp_security": "none",
        "max_attachment_mb": "10",
        "send_acknowledgement": "on",
        "acknowledgement_template": "We got it: ticket #{number}.",
        "thread_by_subject_days": "7",
        "sender_rate_limit_per_hour": "30",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- Who may use the pages ----------------------------------------------------------------

PAGES = ["/settings/inboxes/", "/settings/inboxes/new", "/settings/inboxes/{inbox}/"]
ACTIONS = [
    "/settings/inboxes/{inbox}/",
    "/settings/inboxes/{inbox}/check-imap",
    "/settings/inboxes/{inbox}/check-smtp",
    "/settings/inboxes/{inbox}/delete",
    "/settings/inboxes/{inbox}/inbound/{inbound}/reprocess",
    "/settings/inboxes/new",
]


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(inbox, page):
    response = Client().get(page.format(inbox=inbox.pk))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.CONTRIBUTOR, 403), (Role.AGENT, 403), (Role.SUPERVISOR, 200), (Role.ADMIN, 200)],
)
@pytest.mark.parametrize("page", PAGES)
def test_only_supervisors_and_admins_open_inbox_settings(inbox, role, status, page):
    response = signed_in(role).get(page.format(inbox=inbox.pk))

    assert response.status_code == status
    if status == 403:
        assert "Only admins and supervisors can change settings." in response.text


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AGENT])
@pytest.mark.parametrize("action", ACTIONS)
def test_agents_and_contributors_cannot_change_inboxes(inbox, role, action):
    inbound = receive(inbox, mail())

    response = signed_in(role).post(
        action.format(inbox=inbox.pk, inbound=inbound.pk),
        _form(address="other@shop.example", name="Renamed"),
    )

    assert response.status_code == 403
    assert list(Inbox.objects.values_list("address", "name")) == [
        ("support@shop.example", "Shop Support")
    ]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_save_inbox_settings(inbox, role):
    response = signed_in(role).post(f"/settings/inboxes/{inbox.pk}/", _form(name="Help desk"))

    assert response.status_code == 302
    inbox.refresh_from_db()
    assert inbox.name == "Help desk"


def test_an_unknown_inbox_is_not_found(admin_client):
    response = admin_client.get("/settings/inboxes/999999/")

    assert response.status_code == 404
    assert "Inbox 999999 was not found." in response.text


def test_the_settings_nav_links_to_inboxes(admin_client):
    response = admin_client.get("/settings/tags/")

    assert 'href="/settings/inboxes/"' in response.text


# --- Listing and adding -------------------------------------------------------------------


def test_the_list_shows_each_inbox_and_its_failures(admin_client, inbox):
    receive(inbox, b"Subject: no sender at all\n\nhello\n")

    response = admin_client.get("/settings/inboxes/")

    assert response.status_code == 200
    assert "support@shop.example" in response.text
    assert "Shop Support" in response.text
    assert f"/settings/inboxes/{inbox.pk}/?inbound=failed" in response.text


def test_adding_an_inbox_saves_every_setting_and_opens_its_page(admin_client):
    team = TeamFactory(name="Billing")

    response = admin_client.post(
        "/settings/inboxes/new",
        _form(
            address="Billing@Shop.example",
            name="Billing",
            team=team.pk,
            imap_host="imap.shop.example",
            imap_port="993",
            imap_username="billing",
            imap_password="s3cret",
            imap_after_import="move",
            imap_move_to="Imported",
            smtp_host="smtp.shop.example",
            smtp_port="587",
            smtp_security="starttls",
            smtp_username="billing",
            smtp_password="smtp-s3cret",
            max_attachment_mb="2.5",
            send_acknowledgement=None,
            thread_by_subject_days="3",
            sender_rate_limit_per_hour="10",
        ),
    )

    inbox = Inbox.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/inboxes/{inbox.pk}/"
    assert inbox.address == "billing@shop.example"
    assert (inbox.team, inbox.imap_host, inbox.imap_port) == (team, "imap.shop.example", 993)
    assert (inbox.imap_username, inbox.imap_password) == ("billing", "s3cret")
    assert (inbox.imap_after_import, inbox.imap_move_to) == ("move", "Imported")
    assert (inbox.smtp_host, inbox.smtp_port, inbox.smtp_use_tls, inbox.smtp_use_ssl) == (
        "smtp.shop.example",
        587,
        True,
        False,
    )
    assert inbox.smtp_password == "smtp-s3cret"
    assert inbox.max_attachment_bytes == int(2.5 * 1024 * 1024)
    assert not inbox.send_acknowledgement
    assert inbox.acknowledgement_template == "We got it: ticket #{number}."
    assert (inbox.thread_by_subject_days, inbox.sender_rate_limit_per_hour) == (3, 10)


def test_a_new_inbox_without_a_name_is_named_after_its_address(admin_client):
    admin_client.post("/settings/inboxes/new", _form(address="help@shop.example", name=""))

    assert Inbox.objects.get().name == "help@shop.example"


def test_adding_over_htmx_redirects_the_browser_to_the_new_inbox(admin_client):
    response = admin_client.post(
        "/settings/inboxes/new", _form(address="help@shop.example"), headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/settings/inboxes/{Inbox.objects.get().pk}/"


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("address", "not an address", "Enter a valid email address."),
        ("imap_port", "70000", "Ensure this value is less than or equal to 65535."),
        ("smtp_port", "smtp", "Enter a whole number."),
        ("thread_by_subject_days", "-1", "Ensure this value is greater than or equal to 0."),
        ("max_attachment_mb", "", "This field is required."),
        ("imap_security", "telnet", "Select a valid choice."),
    ],
)
def test_a_bad_value_is_named_beside_its_field_and_nothing_is_saved(
    admin_client, field, value, sentence
):
    data = _form(address="help@shop.example")
    data[field] = value

    response = admin_client.post("/settings/inboxes/new", data)

    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.text
    assert sentence in response.text
    assert 'aria-invalid="true"' in response.text
    assert not Inbox.objects.exists()


def test_a_rule_refusal_from_the_service_is_shown_beside_its_field(admin_client):
    response = admin_client.post(
        "/settings/inboxes/new",
        _form(address="help@shop.example", imap_after_import="move", imap_move_to=""),
    )

    assert response.status_code == 422
    assert 'id="id_imap_move_to_error"' in response.text
    assert "Name the folder to move imported mail to." in response.text
    assert not Inbox.objects.exists()


def test_an_address_that_has_an_inbox_already_is_refused(admin_client, inbox):
    response = admin_client.post("/settings/inboxes/new", _form(address="support@shop.example"))

    assert response.status_code == 422
    assert "There is an inbox for support@shop.example already." in response.text


def test_the_form_keeps_what_was_typed_after_a_refusal(admin_client):
    response = admin_client.post(
        "/settings/inboxes/new",
        _form(address="help@shop.example", imap_host="imap.shop.example", imap_port="0"),
    )

    assert response.status_code == 422
    assert 'value="imap.shop.example"' in response.text


def test_a_refusal_over_htmx_swaps_only_the_form(admin_client):
    response = admin_client.post(
        "/settings/inboxes/new", _form(address="help@shop.example", imap_port="0"), headers=HTMX
    )

    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="inbox-form"')
    assert "Ensure this value is greater than or equal to 1." in response.text


# --- Editing ------------------------------------------------------------------------------


def test_saved_passwords_are_never_sent_to_the_browser(admin_client, inbox):
    response = admin_client.get(f"/settings/inboxes/{inbox.pk}/")

    assert "imap-secret" not in response.text
    assert "smtp-secret" not in response.text
    assert "saved; leave empty to keep" in response.text


def test_an_empty_password_box_keeps_the_saved_password(admin_client, inbox):
    admin_client.post(f"/settings/inboxes/{inbox.pk}/", _form(imap_password=""))

    inbox.refresh_from_db()
    assert (inbox.imap_password, inbox.smtp_password) == ("imap-secret", "smtp-secret")


def test_a_new_password_replaces_the_saved_one_and_remove_clears_it(admin_client, inbox):
    admin_client.post(
        f"/settings/inboxes/{inbox.pk}/",
        _form(imap_password="new-secret", clear_smtp_password="on"),
    )

    inbox.refresh_from_db()
    assert (inbox.imap_password, inbox.smtp_password) == ("new-secret", "")


def test_saving_over_htmx_shows_saved_in_place(admin_client, inbox):
    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/", _form(name="Help desk"), headers=HTMX
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<form id="inbox-form"')
    assert "Inbox settings saved." in response.text
    assert 'value="Help desk"' in response.text


def test_an_edit_the_service_refuses_is_shown_in_place_with_422(admin_client, inbox):
    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/",
        _form(acknowledgement_template="Thanks, no number here."),
        headers=HTMX,
    )

    assert response.status_code == 422
    assert 'id="id_acknowledgement_template_error"' in response.text
    assert "The acknowledgement must contain {number}, the ticket number." in response.text
    inbox.refresh_from_db()
    assert "{number}" in inbox.acknowledgement_template


def test_a_plain_post_edit_redirects_back_with_a_message(admin_client, inbox):
    response = admin_client.post(f"/settings/inboxes/{inbox.pk}/", _form(), follow=True)

    assert response.redirect_chain == [(f"/settings/inboxes/{inbox.pk}/", 302)]
    assert "Inbox settings saved." in response.text


def test_removing_an_inbox_keeps_its_mail(admin_client, inbox):
    receive(inbox, mail())

    response = admin_client.post(f"/settings/inboxes/{inbox.pk}/delete", follow=True)

    assert response.redirect_chain == [("/settings/inboxes/", 302)]
    assert "Inbox support@shop.example removed; the mail it received is kept." in response.text
    assert not Inbox.objects.exists()
    assert InboundMessage.objects.count() == 1


# --- The mail log -------------------------------------------------------------------------


def test_the_inbox_page_lists_inbound_mail_with_its_ticket_and_failures(admin_client, inbox):
    good = receive(inbox, mail(subject="Where is my parcel?"))
    bad = receive(inbox, b"Subject: no sender at all\n\nhello\n")

    response = admin_client.get(f"/settings/inboxes/{inbox.pk}/")

    assert "Where is my parcel?" in response.text
    assert f'href="/tickets/{good.ticket.number}/"' in response.text
    assert bad.state == InboundMessage.State.FAILED
    assert "The message has no sender address." in response.text
    assert f"/settings/inboxes/{inbox.pk}/inbound/{bad.pk}/reprocess" in response.text
    assert f"/inbound/{good.pk}/reprocess" not in response.text


def test_the_inbound_list_filters_by_state(admin_client, inbox):
    receive(inbox, mail(subject="Where is my parcel?"))
    receive(inbox, b"Subject: no sender at all\n\nhello\n")

    response = admin_client.get(f"/settings/inboxes/{inbox.pk}/?inbound=failed")

    inbound_section = response.text.split('id="inbound"')[1].split('id="outbound"')[0]
    assert "no sender at all" in inbound_section
    assert "Where is my parcel?" not in inbound_section


def test_the_inbox_page_lists_deliveries_and_failures(admin_client, inbox):
    ticket = receive(inbox, mail(subject="Where is my parcel?")).ticket
    OutboundMessage.objects.filter(ticket=ticket).update(
        state=OutboundMessage.State.FAILED,
        attempts=6,
        last_error="SMTPRecipientsRefused: 550 5.1.1 User unknown",
    )

    response = admin_client.get(f"/settings/inboxes/{inbox.pk}/")

    delivery = OutboundMessage.objects.get(ticket=ticket)
    assert delivery.to_address in response.text
    assert "550 5.1.1 User unknown" in response.text
    assert "<td>6</td>" in response.text
    assert 'class="badge state-failed">Failed' in response.text


def _rate_limited_message(inbox: Inbox) -> InboundMessage:
    inbox.sender_rate_limit_per_hour = 1
    inbox.save()
    receive(inbox, mail(subject="First"))
    second = receive(inbox, mail(subject="Second"))
    assert second.state == InboundMessage.State.IGNORED
    inbox.sender_rate_limit_per_hour = 0
    inbox.save()
    return second


def test_reprocess_over_htmx_swaps_the_row_with_its_ticket(admin_client, inbox):
    ignored = _rate_limited_message(inbox)

    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/inbound/{ignored.pk}/reprocess", headers=HTMX
    )

    ignored.refresh_from_db()
    assert ignored.state == InboundMessage.State.PROCESSED
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="inbound-{ignored.pk}">')
    assert f"#{ignored.ticket.number}" in response.text
    assert "Reprocess" not in response.text


def test_reprocess_as_a_plain_post_redirects_with_the_outcome(admin_client, inbox):
    ignored = _rate_limited_message(inbox)

    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/inbound/{ignored.pk}/reprocess", follow=True
    )

    assert response.redirect_chain == [(f"/settings/inboxes/{inbox.pk}/", 302)]
    assert "The message was processed again." in response.text


def test_reprocessing_a_message_that_fails_again_says_why(admin_client, inbox):
    bad = receive(inbox, b"Subject: no sender at all\n\nhello\n")

    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/inbound/{bad.pk}/reprocess", follow=True
    )

    assert "The message is still Failed: The message has no sender address." in response.text
