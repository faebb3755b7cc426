"""`serviceloop inbox add/list` and `serviceloop smtpd`, run as an operator runs them."""

import select
import signal
import smtplib
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.conf import settings

from serviceloop.inboxes.models import InboundMessage, Inbox
from serviceloop.tickets.models import Ticket
from tests.background import free_port, process_env, run_serviceloop, serviceloop_command
from tests.inboxes.helpers import mail, make_inbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return process_env(tmp_path)


# --- serviceloop inbox --------------------------------------------------------------------


def test_inbox_add_creates_an_inbox_and_names_its_contact_page(env):
    result = run_serviceloop(
        "inbox", "add", "Help@Shop.example", "--name", "Help desk",
        "--imap-host", "imap.shop.example", "--imap-port", "993",
        "--imap-username", "help", "--imap-password", "imap-secret",
        "--imap-move-to", "Imported", "--no-acknowledgement",
        env=env,
    )  # fmt: skip

    inbox = Inbox.objects.get()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "Inbox %s: help@shop.example (contact page /contact/help/)" % inbox.pk
    )
    assert (inbox.name, inbox.imap_host, inbox.imap_port) == ("Help desk", "imap.shop.example", 993)
    assert (inbox.imap_username, inbox.imap_password) == ("help", "imap-secret")
    assert (inbox.imap_after_import, inbox.imap_move_to) == ("move", "Imported")
    assert not inbox.send_acknowledgement


def test_inbox_add_refuses_a_bad_address_with_a_sentence(env):
    result = run_serviceloop("inbox", "add", "not-an-address", env=env)

    assert result.returncode != 0
    assert "not-an-address" in result.stderr
    assert "Traceback" not in result.stderr
    assert not Inbox.objects.exists()


def test_inbox_add_refuses_an_address_that_has_an_inbox(env):
    make_inbox()

    result = run_serviceloop("inbox", "add", "support@shop.example", env=env)

    assert result.returncode != 0
    assert "There is an inbox for support@shop.example already." in result.stderr


def test_inbox_list_shows_every_inbox_without_passwords(env):
    make_inbox()
    make_inbox(
        "help@shop.example",
        imap_host="imap.shop.example",
        imap_username="help",
        imap_password="imap-secret",
        is_active=False,
    )

    result = run_serviceloop("inbox", "list", env=env)

    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[1:] for line in lines] == [
        ["help@shop.example", "/contact/help/", "imap help@imap.shop.example/INBOX", "inactive"],
        ["support@shop.example", "/contact/support/", "no imap", "active"],
    ]
    assert "imap-secret" not in result.stdout


# --- serviceloop smtpd --------------------------------------------------------------------


@pytest.fixture
def smtpd(env) -> Iterator[tuple[int, subprocess.Popen[str]]]:  # type: ignore[no-untyped-def]
    port = free_port()
    process = subprocess.Popen(
        serviceloop_command("smtpd", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _w, _x = select.select([process.stdout], [], [], 30)
        assert ready, "serviceloop smtpd did not start within 30 s"
        assert process.stdout.readline().strip() == "Receiving mail on 127.0.0.1:%s" % port
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def _wait_for(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_smtpd_receives_a_message_and_it_becomes_a_ticket(smtpd):
    port, _process = smtpd
    make_inbox()

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        refused = client.sendmail(
            "ann@customer.example",
            ["support@shop.example"],
            mail(subject="Sent over SMTP", message_id="<smtp-cli@customer.example>"),
        )

    assert refused == {}
    _wait_for(lambda: InboundMessage.objects.exclude(state="received").exists())
    inbound = InboundMessage.objects.get()
    assert (inbound.state, inbound.error) == ("processed", "")
    assert (inbound.via, inbound.message_id) == ("smtp", "<smtp-cli@customer.example>")
    assert Ticket.objects.get().subject == "Sent over SMTP"


def test_smtpd_refuses_mail_for_an_address_without_an_inbox(smtpd):
    port, _process = smtpd
    make_inbox()

    with (
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail("ann@customer.example", ["nobody@shop.example"], mail())

    assert refused.value.recipients["nobody@shop.example"][0] == 550
    assert not InboundMessage.objects.exists()


def test_smtpd_stops_cleanly_on_sigterm(smtpd):
    _port, process = smtpd

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=10) == 0
