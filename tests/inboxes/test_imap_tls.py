"""IMAP over TLS (IMAPS) and STARTTLS, against a real Dovecot with a self-signed certificate.

The certificate is made in the test with openssl, as an admin of a small mail server makes
one; the inbox trusts it the way an operator would, by pasting it into the inbox settings.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from serviceloop.accounts.models import Role
from serviceloop.inboxes.imap import poll_imap_inboxes
from serviceloop.inboxes.models import Inbox
from serviceloop.tickets.models import Ticket
from tests.accounts.factories import AgentFactory
from tests.inboxes.dovecot import (
    PASSWORD,
    USER,
    Certificate,
    Dovecot,
    running_dovecot,
    self_signed_certificate,
)
from tests.inboxes.helpers import mail, make_inbox

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HTMX = {"HX-Request": "true"}
SECURITIES = [Inbox.ImapSecurity.SSL, Inbox.ImapSecurity.STARTTLS]


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed_certificate(tmp_path)


@pytest.fixture
def dovecot(certificate: Certificate) -> Iterator[Dovecot]:
    with running_dovecot(certificate) as server:
        yield server


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(AgentFactory(role=Role.ADMIN))
    return client


def tls_inbox(dovecot: Dovecot, security: str, trusted: str = "") -> Inbox:
    """An inbox on the IMAPS port (implicit TLS) or the IMAP port (STARTTLS)."""
    return make_inbox(
        imap_host="127.0.0.1",
        imap_port=dovecot.imaps_port if security == Inbox.ImapSecurity.SSL else dovecot.port,
        imap_security=security,
        imap_ca_certificate=trusted,
        imap_username=USER,
        imap_password=PASSWORD,
    )


def check_imap(client: Client, inbox: Inbox) -> str:
    """Press "Test IMAP connection" over htmx; return the text the admin sees."""
    response = client.post(f"/settings/inboxes/{inbox.pk}/check-imap", headers=HTMX)
    assert response.status_code == 200
    return " ".join(response.text.split())


# --- Polling ------------------------------------------------------------------------------


@pytest.mark.parametrize("security", SECURITIES)
def test_polling_over_tls_imports_mail_from_a_server_the_inbox_trusts(
    dovecot, certificate, security
):
    tls_inbox(dovecot, security, trusted=certificate.pem)
    dovecot.deliver(mail(subject="Sent over TLS", message_id="<tls-1@customer.example>"))

    assert poll_imap_inboxes() == 1

    assert Ticket.objects.get().subject == "Sent over TLS"
    assert r"\Seen" in dovecot.folder()[0][0]
    assert dovecot.logins()[-1].endswith("TLS")


@pytest.mark.parametrize("security", SECURITIES)
def test_polling_a_server_with_an_untrusted_certificate_says_why_on_the_inbox_page(
    dovecot, admin_client, security
):
    inbox = tls_inbox(dovecot, security)
    dovecot.deliver(mail(subject="Waiting on the server"))

    assert poll_imap_inboxes() == 0

    inbox.refresh_from_db()
    where = "127.0.0.1:%s" % inbox.imap_port
    expected = (
        f"The TLS certificate of {where} could not be verified: self-signed certificate. "
        "If this server uses a self-signed certificate or one from a private CA, paste that "
        'certificate into the inbox setting "Trusted IMAP certificate".'
    )
    assert inbox.imap_last_error == expected
    page = admin_client.get(f"/settings/inboxes/{inbox.pk}/").text
    assert "failed" in page
    assert expected.replace('"', "&quot;") in page
    # Nothing was read or lost: the message waits, unflagged, for the next poll.
    assert not Ticket.objects.exists()
    assert r"\Seen" not in dovecot.folder()[0][0]


def test_pasting_the_certificate_lets_the_next_poll_import_the_waiting_mail(
    dovecot, certificate, admin_client
):
    inbox = tls_inbox(dovecot, Inbox.ImapSecurity.SSL)
    dovecot.deliver(mail(subject="Waiting on the server"))
    poll_imap_inboxes()
    inbox.imap_ca_certificate = certificate.pem
    inbox.save()

    assert poll_imap_inboxes() == 1

    inbox.refresh_from_db()
    assert inbox.imap_last_error == ""
    assert Ticket.objects.get().subject == "Waiting on the server"


# --- The "Test IMAP connection" button ----------------------------------------------------


@pytest.mark.parametrize("security", SECURITIES)
def test_imap_check_over_tls_signs_in_when_the_certificate_is_trusted(
    dovecot, certificate, admin_client, security
):
    inbox = tls_inbox(dovecot, security, trusted=certificate.pem)

    seen = check_imap(admin_client, inbox)

    assert (
        f"Connected to 127.0.0.1:{inbox.imap_port}, signed in as support and opened INBOX "
        "(0 messages)." in seen
    )
    assert dovecot.logins()[-1].endswith("TLS")


@pytest.mark.parametrize("security", SECURITIES)
def test_imap_check_names_an_untrusted_certificate_and_how_to_trust_it(
    dovecot, admin_client, security
):
    inbox = tls_inbox(dovecot, security)

    seen = check_imap(admin_client, inbox)

    assert (
        f"The TLS certificate of 127.0.0.1:{inbox.imap_port} could not be verified: "
        "self-signed certificate. If this server uses a self-signed certificate" in seen
    )
    assert 'class="error"' in seen
    assert not any(line.endswith("TLS") for line in dovecot.logins())


def test_imap_check_refuses_a_trusted_certificate_made_out_to_another_host(tmp_path, admin_client):
    other = self_signed_certificate(tmp_path, "mail.other.example")
    with running_dovecot(other) as dovecot:
        inbox = tls_inbox(dovecot, Inbox.ImapSecurity.SSL, trusted=other.pem)

        seen = check_imap(admin_client, inbox)

    assert (
        f"The TLS certificate of 127.0.0.1:{inbox.imap_port} could not be verified: "
        "IP address mismatch, certificate is not valid for &#x27;127.0.0.1&#x27;. "
        "Enter the host name the certificate is made out to as IMAP host." in seen
    )


def test_an_admin_pastes_the_certificate_on_the_settings_page_and_the_check_passes(
    dovecot, certificate, admin_client
):
    inbox = tls_inbox(dovecot, Inbox.ImapSecurity.STARTTLS)

    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/", settings_form(inbox, imap_ca_certificate=certificate.pem)
    )

    assert response.status_code == 302
    assert "-----BEGIN CERTIFICATE-----" in admin_client.get(response["Location"]).text
    assert "signed in as support and opened INBOX" in check_imap(admin_client, inbox)


# --- What the settings page accepts -------------------------------------------------------


def settings_form(inbox: Inbox, **changes: object) -> dict[str, object]:
    """What the browser posts for this inbox, with `changes` typed in."""
    data: dict[str, object] = {
        "name": inbox.name,
        "is_active": "on",
        "imap_host": inbox.imap_host,
        "imap_port": inbox.imap_port or "",
        "imap_security": inbox.imap_security,
        "imap_username": inbox.imap_username,
        "imap_folder": "INBOX",
        "imap_after_import": "seen",
        "smtp_security": "none",
        "max_attachment_mb": "10",
        "acknowledgement_template": inbox.acknowledgement_template,
        "thread_by_subject_days": "7",
        "sender_rate_limit_per_hour": "30",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("pasted", "sentence"),
    [
        (
            "my certificate",
            "This is not a certificate in PEM form: paste the text from "
            "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----",
            "This is not a certificate in PEM form",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nµ\n-----END CERTIFICATE-----",
            "This is not a certificate in PEM form",
        ),
    ],
)
def test_text_that_is_not_a_certificate_is_refused_beside_the_field(admin_client, pasted, sentence):
    inbox = make_inbox(imap_host="mail.shop.example", imap_username=USER)

    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/", settings_form(inbox, imap_ca_certificate=pasted)
    )

    assert response.status_code == 422
    assert f'<p class="error small" id="id_imap_ca_certificate_error">{sentence}' in response.text
    inbox.refresh_from_db()
    assert inbox.imap_ca_certificate == ""


def test_a_pasted_private_key_is_refused_and_not_stored(admin_client, certificate):
    inbox = make_inbox(imap_host="mail.shop.example", imap_username=USER)
    pasted = certificate.pem + certificate.key.read_text()

    response = admin_client.post(
        f"/settings/inboxes/{inbox.pk}/", settings_form(inbox, imap_ca_certificate=pasted)
    )

    assert response.status_code == 422
    assert "Paste only the certificate; its private key stays on the mail server." in response.text
    inbox.refresh_from_db()
    assert inbox.imap_ca_certificate == ""


def test_the_api_sets_and_shows_the_trusted_certificate(api_client_for, admin, certificate):
    inbox = make_inbox()
    client = api_client_for(admin)

    changed = client.patch_json(
        f"/api/v1/inboxes/{inbox.pk}", {"imap_ca_certificate": certificate.pem}
    )
    refused = client.patch_json(f"/api/v1/inboxes/{inbox.pk}", {"imap_ca_certificate": "junk"})

    assert changed.status_code == 200
    assert changed.json()["imap_ca_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert refused.status_code == 400
    assert refused.json()["field"] == "imap_ca_certificate"
