"""The "Test connection" buttons, against a real Dovecot and a real aiosmtpd server."""

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.test import Client

from serviceloop.accounts.models import Role
from serviceloop.inboxes.models import Inbox
from tests.accounts.factories import AgentFactory
from tests.background import free_port
from tests.inboxes.dovecot import PASSWORD, USER, Dovecot, running_dovecot
from tests.inboxes.helpers import make_inbox

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HTMX = {"HX-Request": "true"}
SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-password"


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(AgentFactory(role=Role.ADMIN))
    return client


def check(client: Client, inbox: Inbox, kind: str) -> str:
    """Press the button over htmx; return the text the admin sees."""
    response = client.post(f"/settings/inboxes/{inbox.pk}/check-{kind}", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="connection-check"')
    return " ".join(response.text.split())


# --- IMAP ---------------------------------------------------------------------------------


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


def imap_inbox(port: int, **settings: object) -> Inbox:
    given = {
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_security": Inbox.ImapSecurity.NONE,
        "imap_username": USER,
        "imap_password": PASSWORD,
    }
    return make_inbox(**{**given, **settings})


def test_imap_check_signs_in_and_opens_the_folder(admin_client, dovecot):
    dovecot.deliver(b"From: ann@customer.example\r\nSubject: hi\r\n\r\nhello\r\n")
    inbox = imap_inbox(dovecot.port)

    seen = check(admin_client, inbox, "imap")

    assert (
        f"Connected to 127.0.0.1:{dovecot.port}, signed in as support and opened INBOX "
        "(1 messages)." in seen
    )
    assert 'class="notice"' in seen
    # A check only looks: the message is neither imported nor flagged.
    assert r"\Seen" not in dovecot.folder()[0][0]


def test_imap_check_says_the_password_was_refused(admin_client, dovecot):
    inbox = imap_inbox(dovecot.port, imap_password="wrong-password")

    seen = check(admin_client, inbox, "imap")

    assert f"127.0.0.1:{dovecot.port} refused the user name or password for support:" in seen
    assert "AUTHENTICATIONFAILED" in seen
    assert 'class="error"' in seen


def test_imap_check_names_a_folder_that_does_not_exist(admin_client, dovecot):
    inbox = imap_inbox(dovecot.port, imap_folder="Support/Missing")

    seen = check(admin_client, inbox, "imap")

    assert "Signed in as support, but the folder Support/Missing could not be opened:" in seen


def test_imap_check_says_a_closed_port_refused_the_connection(admin_client):
    port = free_port()
    inbox = imap_inbox(port)

    seen = check(admin_client, inbox, "imap")

    assert (
        f"Could not connect to 127.0.0.1:{port}: the connection was refused. "
        "Check the host and port." in seen
    )


def test_imap_check_without_a_host_asks_for_one(admin_client):
    inbox = make_inbox()

    seen = check(admin_client, inbox, "imap")

    assert "Enter an IMAP host first, then save." in seen


def test_imap_check_as_a_plain_post_redirects_with_the_result(admin_client, dovecot):
    inbox = imap_inbox(dovecot.port)

    response = admin_client.post(f"/settings/inboxes/{inbox.pk}/check-imap", follow=True)

    assert response.redirect_chain == [(f"/settings/inboxes/{inbox.pk}/", 302)]
    assert "signed in as support and opened INBOX" in response.text


# --- SMTP ---------------------------------------------------------------------------------


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    assert isinstance(auth_data, LoginPassword)
    ok = (auth_data.login, auth_data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[object]:
    started: list[Controller] = []

    def start(**options: object) -> int:
        port = free_port()
        controller = Controller(Sink(), hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def smtp_inbox(port: int, **settings: object) -> Inbox:
    given = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
    }
    return make_inbox(**{**given, **settings})


def test_smtp_check_says_ehlo_and_signs_in(admin_client, smtp_server):
    port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    inbox = smtp_inbox(port)

    seen = check(admin_client, inbox, "smtp")

    assert (
        f"Connected to 127.0.0.1:{port} (the SMTP settings of this inbox), said EHLO, "
        "signed in as mailer." in seen
    )


def test_smtp_check_says_the_password_was_refused(admin_client, smtp_server):
    port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    inbox = smtp_inbox(port, smtp_password="wrong-password")

    seen = check(admin_client, inbox, "smtp")

    assert f"127.0.0.1:{port} refused the user name or password for mailer: 535" in seen


def test_smtp_check_says_a_closed_port_refused_the_connection(admin_client):
    port = free_port()
    inbox = smtp_inbox(port)

    seen = check(admin_client, inbox, "smtp")

    assert f"Could not connect to 127.0.0.1:{port}: the connection was refused." in seen


def test_smtp_check_explains_sign_in_offered_only_after_starttls(admin_client, smtp_server):
    port = smtp_server(authenticator=authenticator)  # AUTH only over TLS, which is off
    inbox = smtp_inbox(port)

    seen = check(admin_client, inbox, "smtp")

    assert f"127.0.0.1:{port} does not offer sign-in (AUTH) on this connection" in seen


def test_smtp_check_refuses_a_certificate_it_cannot_verify(admin_client, smtp_server, tmp_path):
    port = smtp_server(tls_context=self_signed_context(tmp_path))
    inbox = smtp_inbox(port, smtp_use_tls=True)

    seen = check(admin_client, inbox, "smtp")

    assert f"The TLS certificate of 127.0.0.1:{port} could not be verified" in seen


def test_smtp_check_without_any_server_says_mail_goes_to_the_console(admin_client, settings):
    settings.EMAIL_HOST = ""
    inbox = make_inbox()

    seen = check(admin_client, inbox, "smtp")

    assert "No SMTP server is set for this inbox and EMAIL_HOST is empty" in seen


def test_smtp_check_uses_the_email_settings_when_the_inbox_has_none(
    admin_client, smtp_server, settings
):
    port = smtp_server()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = ""
    inbox = make_inbox()

    seen = check(admin_client, inbox, "smtp")

    assert f"Connected to 127.0.0.1:{port} (the EMAIL_* settings of the server), said EHLO." in seen


def self_signed_context(directory: Path) -> ssl.SSLContext:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
