"""The web server and worker as `serviceloop run` starts them, over real HTTP."""

import os
import secrets
import signal
import socket
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from serviceloop.accounts.models import ApiToken, User
from serviceloop.accounts.services import create_api_token
from serviceloop.inboxes.services import create_inbox
from serviceloop.management.commands.run import web_server_command
from serviceloop.tickets.models import Ticket
from tests.background import (
    descendants,
    free_port,
    kill_process_tree,
    process_env,
    run_serviceloop,
    serviceloop_command,
)

pytestmark = pytest.mark.slow


def running(pid: int) -> bool:
    """Whether a process is still there and not just waiting to be reaped (a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until_serving(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "serviceloop run exited at start"
        with suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} within {seconds} s")


def ctrl_c(process: subprocess.Popen[bytes]) -> None:
    """What a terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
    os.killpg(process.pid, signal.SIGINT)


def service_manager_stop(process: subprocess.Popen[bytes]) -> None:
    """What systemd or `docker stop` does: SIGTERM to the main process."""
    process.terminate()


def interrupt(process: subprocess.Popen[bytes]) -> None:
    """`kill -INT` to the main process alone."""
    os.kill(process.pid, signal.SIGINT)


def ignore_sigint() -> None:
    """What a script does for a command it starts in the background (`serviceloop run &`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("task_queue")
@pytest.mark.parametrize(
    ("started_ignoring_sigint", "stop"),
    [(False, ctrl_c), (False, service_manager_stop), (True, interrupt)],
    ids=["ctrl-c", "sigterm", "sigint-in-a-script's-background"],
)
def test_run_serves_the_api_and_the_pages_and_stops_everything(
    tmp_path, started_ignoring_sigint, stop
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        # Its own process group, as a terminal gives it.
        process = subprocess.Popen(
            serviceloop_command("run", "--no-demo", "--port", str(port)),
            env=process_env(tmp_path / "var", SERVICELOOP_WEB_THREADS="2"),
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ignore_sigint if started_ignoring_sigint else None,
        )
    try:
        wait_until_serving(url, process, seconds=90)
        _token, key = create_api_token(
            owner=User.objects.get(username="admin"), scope=ApiToken.Scope.WRITE
        )

        created = httpx.post(
            f"{url}/api/v1/tickets",
            json={
                "subject": "Parcel never arrived",
                "body": "Order 5521 was due on Monday. " * 200,
                "requester": {"email": "ines@example.org", "name": "Inès Duval"},
                "tags": ["delivery"],
            },
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        sign_in = httpx.get(f"{url}/", follow_redirects=True, timeout=30)
        stylesheet = httpx.get(f"{url}/static/core/app.css", timeout=30)
        server_processes = descendants(process.pid)

        stop(process)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            kill_process_tree(process)
    output = log_path.read_text()

    assert created.status_code == 201, created.text
    ticket = Ticket.objects.get(number=created.json()["number"])
    assert ticket.requester.name == "Inès Duval"
    assert ticket.messages.get().body_text.startswith("Order 5521 was due on Monday.")
    assert sign_in.status_code == 200
    assert 'name="password"' in sign_in.text
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "Username: admin" in output
    assert process.returncode == 0, output
    assert "Serviceloop stopped." in output
    assert [pid for pid in server_processes if running(pid)] == [], output


def contact(url: str, *, email: str, forwarded_for: str) -> httpx.Response:
    form = {
        "name": "Ann Lee",
        "email": email,
        "subject": "My order has not arrived",
        "message": "Hello, order 1042 is a week late.",
        "website": "",
    }
    return httpx.post(
        f"{url}/contact/support/",
        data=form,
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )


@pytest.mark.django_db(transaction=True)
def test_behind_a_local_proxy_each_client_address_has_its_own_contact_form_limit(tmp_path):
    create_inbox(actor=None, address="support@shop.example", name="Shop Support")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = process_env(tmp_path / "var", SERVICELOOP_CONTACT_PER_IP_PER_HOUR="1")
    process = subprocess.Popen(
        web_server_command("127.0.0.1", port, workers=1, threads=2),
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_serving(url, process, seconds=60)
        # A proxy on this machine passes each client's address on in X-Forwarded-For. The
        # addresses are new each run: with REDIS_URL the server counts in Redis for an hour.
        ann, cy = (f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}" for _ in range(2))
        first = contact(url, email="ann@customer.example", forwarded_for=ann)
        again = contact(url, email="bob@customer.example", forwarded_for=ann)
        other = contact(url, email="cy@customer.example", forwarded_for=cy)
    finally:
        kill_process_tree(process)

    assert first.status_code == 200, first.text
    assert again.status_code == 429
    assert other.status_code == 200, other.text
    assert sorted(Ticket.objects.values_list("requester__email", flat=True)) == [
        "ann@customer.example",
        "cy@customer.example",
    ]


def test_run_on_a_port_already_in_use_says_so_before_preparing_anything(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as occupant:
        port = occupant.getsockname()[1]
        result = run_serviceloop(
            "run", "--no-demo", "--port", str(port), env=process_env(tmp_path / "var")
        )

    assert result.returncode != 0
    assert (
        f"Cannot serve at 127.0.0.1:{port}: Address already in use. Stop what uses it, "
        "or choose another port with --port (or PORT)." in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "Preparing the database" not in result.stdout
