"""The inbox API: who may manage inboxes, write-only passwords, and bad input named."""

import pytest

from serviceloop.accounts.models import ApiToken
from serviceloop.inboxes.models import InboundMessage, Inbox
from tests.accounts.factories import TeamFactory
from tests.inboxes.helpers import mail, make_inbox, receive

pytestmark = pytest.mark.django_db

SECRETS = ("imap-secret", "smtp-secret")


@pytest.fixture
def admin_api(api_client_for, admin):  # type: ignore[no-untyped-def]
    return api_client_for(admin)


@pytest.fixture
def inbox() -> Inbox:
    return make_inbox(imap_password="imap-secret", smtp_password="smtp-secret")


def _refused(response, status: int, field: str | None):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field
    assert body["message"]
    return body


# --- Rights -------------------------------------------------------------------------------


def test_an_admin_adds_reads_changes_and_removes_an_inbox(admin_api):
    created = admin_api.post_json(
        "/api/v1/inboxes", {"address": "Help@Shop.example", "imap_host": "imap.shop.example"}
    )
    assert created.status_code == 201
    inbox_id = created.json()["id"]
    assert created.json()["address"] == "help@shop.example"
    assert created.json()["contact_url"] == "/contact/help/"

    changed = admin_api.patch_json(f"/api/v1/inboxes/{inbox_id}", {"name": "Help desk"})
    assert (changed.status_code, changed.json()["name"]) == (200, "Help desk")

    listed = admin_api.get("/api/v1/inboxes")
    assert [i["address"] for i in listed.json()] == ["help@shop.example"]

    assert admin_api.delete(f"/api/v1/inboxes/{inbox_id}").status_code == 204
    assert admin_api.get(f"/api/v1/inboxes/{inbox_id}").status_code == 404


def test_a_supervisor_manages_inboxes_too(api_client_for, supervisor):
    response = api_client_for(supervisor).post_json(
        "/api/v1/inboxes", {"address": "help@shop.example"}
    )

    assert response.status_code == 201


@pytest.mark.parametrize("role", ["agent", "contributor"])
def test_agents_and_contributors_may_not_touch_inboxes(api_client_for, request, inbox, role):
    client = api_client_for(request.getfixturevalue(role))

    for response in (
        client.get("/api/v1/inboxes"),
        client.get(f"/api/v1/inboxes/{inbox.pk}"),
        client.post_json("/api/v1/inboxes", {"address": "help@shop.example"}),
        client.patch_json(f"/api/v1/inboxes/{inbox.pk}", {"name": "Mine"}),
        client.delete(f"/api/v1/inboxes/{inbox.pk}"),
    ):
        assert response.status_code == 403
        assert response.json()["message"] == "Only admins and supervisors can change settings."
    assert list(Inbox.objects.values_list("address", "name")) == [
        ("support@shop.example", "support@shop.example")
    ]


def test_a_read_token_reads_inboxes_but_cannot_change_them(api_client_for, admin, inbox):
    client = api_client_for(admin, scope=ApiToken.Scope.READ)

    assert client.get(f"/api/v1/inboxes/{inbox.pk}").status_code == 200
    assert client.patch_json(f"/api/v1/inboxes/{inbox.pk}", {"name": "x"}).status_code == 403
    assert client.delete(f"/api/v1/inboxes/{inbox.pk}").status_code == 403
    assert Inbox.objects.filter(pk=inbox.pk).exists()


def test_without_a_token_nothing_is_shown(api_client_for, inbox):
    response = api_client_for(None).get("/api/v1/inboxes")

    assert response.status_code == 401
    assert "support@shop.example" not in response.text


def test_removing_an_inbox_keeps_its_mail(admin_api, inbox):
    receive(inbox, mail())

    admin_api.delete(f"/api/v1/inboxes/{inbox.pk}")

    assert InboundMessage.objects.get().inbox is None


# --- Passwords ----------------------------------------------------------------------------


def _no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "password" not in text


def test_passwords_are_never_returned(admin_api, inbox):
    _no_secret_in(admin_api.get("/api/v1/inboxes").text)
    _no_secret_in(admin_api.get(f"/api/v1/inboxes/{inbox.pk}").text)
    _no_secret_in(admin_api.patch_json(f"/api/v1/inboxes/{inbox.pk}", {"name": "x"}).text)


def test_a_password_given_on_create_is_stored_but_not_echoed(admin_api):
    response = admin_api.post_json(
        "/api/v1/inboxes",
        {
            "address": "help@shop.example",
            "imap_password": "imap-secret",
            "smtp_password": "smtp-secret",
        },
    )

    _no_secret_in(response.text)
    inbox = Inbox.objects.get()
    assert (inbox.imap_password, inbox.smtp_password) == SECRETS


def test_a_patch_without_a_password_keeps_the_saved_one(admin_api, inbox):
    admin_api.patch_json(f"/api/v1/inboxes/{inbox.pk}", {"imap_host": "imap.shop.example"})

    inbox.refresh_from_db()
    assert (inbox.imap_password, inbox.smtp_password) == SECRETS


# --- Bad input ----------------------------------------------------------------------------


HELP = "help@shop.example"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({}, 422, "address"),
        ({"address": "not an address"}, 400, "address"),
        ({"address": HELP, "imap_port": 0}, 422, "imap_port"),
        ({"address": HELP, "imap_port": 70000}, 422, "imap_port"),
        ({"address": HELP, "imap_port": "imap"}, 422, "imap_port"),
        ({"address": HELP, "imap_security": "telnet"}, 400, "imap_security"),
        ({"address": HELP, "imap_after_import": "burn"}, 400, "imap_after_import"),
        ({"address": HELP, "imap_after_import": "move"}, 400, "imap_move_to"),
        ({"address": HELP, "team_id": 987654}, 400, "team_id"),
        ({"address": HELP, "max_attachment_bytes": -1}, 422, "max_attachment_bytes"),
        ({"address": HELP, "thread_by_subject_days": 400}, 422, "thread_by_subject_days"),
        ({"address": HELP, "send_acknowledgement": "perhaps"}, 422, "send_acknowledgement"),
        ({"address": HELP, "acknowledgement_template": "Thanks!"}, 400, "acknowledgement_template"),
        ({"address": HELP, "smtp_use_tls": True, "smtp_use_ssl": True}, 400, "smtp_use_ssl"),
        ({"address": HELP, "name": "N" * 121}, 422, "name"),
    ],
)
def test_bad_input_on_create_is_refused_naming_the_field(admin_api, payload, status, field):
    response = admin_api.post_json("/api/v1/inboxes", payload)

    _refused(response, status, field)
    assert not Inbox.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"imap_port": -5}, 422, "imap_port"),
        ({"imap_security": "rot13"}, 400, "imap_security"),
        ({"team_id": 987654}, 400, "team_id"),
        ({"acknowledgement_template": "no number"}, 400, "acknowledgement_template"),
        ({"sender_rate_limit_per_hour": "lots"}, 422, "sender_rate_limit_per_hour"),
    ],
)
def test_bad_input_on_change_is_refused_and_changes_nothing(
    admin_api, inbox, payload, status, field
):
    before = Inbox.objects.values().get(pk=inbox.pk)

    response = admin_api.patch_json(f"/api/v1/inboxes/{inbox.pk}", payload)

    _refused(response, status, field)
    assert Inbox.objects.values().get(pk=inbox.pk) == before


def test_a_second_inbox_for_one_address_is_a_conflict(admin_api, inbox):
    response = admin_api.post_json("/api/v1/inboxes", {"address": "Support@shop.example"})

    assert response.status_code == 409
    assert response.json()["message"] == "There is an inbox for support@shop.example already."
    assert response.json()["field"] == "address"


def test_a_team_that_exists_is_accepted(admin_api, inbox):
    team = TeamFactory()

    response = admin_api.patch_json(f"/api/v1/inboxes/{inbox.pk}", {"team_id": team.pk})

    assert (response.status_code, response.json()["team_id"]) == (200, team.pk)


def test_an_unknown_inbox_is_a_404(admin_api):
    response = admin_api.patch_json("/api/v1/inboxes/987654", {"name": "x"})

    assert response.status_code == 404
    assert response.json()["code"] == "inbox_not_found"


# --- The mail log -------------------------------------------------------------------------


def test_failed_messages_are_listed_and_can_be_downloaded_raw(admin_api, inbox):
    raw = b"Subject: no sender at all\n\nhello\n"
    failed = receive(inbox, raw)
    receive(inbox, mail())

    listed = admin_api.get("/api/v1/inbound-messages?state=failed").json()
    download = admin_api.get(f"/api/v1/inbound-messages/{failed.pk}/raw")

    assert [(m["id"], m["error"].split("\n")[0]) for m in listed["items"]] == [
        (failed.pk, "The message has no sender address.")
    ]
    assert download["Content-Type"] == "message/rfc822"
    assert download.content == raw


def test_reprocess_over_the_api_returns_the_new_state(admin_api, inbox):
    inbox.sender_rate_limit_per_hour = 1
    inbox.save()
    receive(inbox, mail(subject="First"))
    ignored = receive(inbox, mail(subject="Second"))
    inbox.sender_rate_limit_per_hour = 0
    inbox.save()

    response = admin_api.post(f"/api/v1/inbound-messages/{ignored.pk}/reprocess")

    assert response.status_code == 200
    assert response.json()["state"] == "processed"
    assert response.json()["ticket_number"] is not None
