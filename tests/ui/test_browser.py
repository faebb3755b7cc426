"""The workspace and the portal in a real browser (Debian's Chromium, driven by Playwright).

Skipped, with a plain message, when /usr/bin/chromium is missing; `.ci/run` installs it.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail

from serviceloop.accounts.models import Role
from serviceloop.tickets.models import Message, Ticket
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.customers.factories import CustomerFactory
from tests.tickets.factories import make_ticket

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "correct-horse-battery"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="browser tests skipped: /usr/bin/chromium is missing (apt-get install chromium)",
    ),
]


@pytest.fixture
def browser() -> Iterator[object]:
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls
    # happen in its own thread, and the test's own ORM calls are plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


def _settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until htmx has no request in flight and has settled what it swapped in.

    A change made to a form htmx swapped in but has not processed yet (an out-of-band
    swap settles a moment after the main one) fires no request; a person would never be
    that fast, a test driver can be.
    """
    page.wait_for_function(
        "() => !document.querySelector("
        "'#properties.htmx-request, #conversation .htmx-request, .htmx-settling, .htmx-swapping')"
    )


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/tickets/"))


def _portal_sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/portal/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    link = re.search(r"http://\S+/portal/sign-in/\S+", mail.outbox[-1].body)
    assert link is not None
    page.goto(link.group(0))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your requests").wait_for()


@pytest.mark.django_db(transaction=True)
def test_agent_works_a_ticket_and_customer_follows_in_the_portal(live_server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent = AgentFactory(username="maria", first_name="Maria", last_name="Lopez", role=Role.AGENT)
    team = TeamFactory(name="Billing")
    team.members.add(agent)
    CustomerFactory(email="mia@example.com", name="Mia Wong")
    for n, subject in enumerate(
        ["Charged twice for order 1042", "Invoice address is wrong", "Refund not received yet"]
    ):
        make_ticket(
            actor=agent,
            subject=subject,
            team_id=team.pk,
            requester_email=f"buyer{n}@example.com",
            requester_name=f"Buyer {n}",
            tags=["billing"],
        )
    base = live_server.url

    agent_page = browser.new_page(viewport={"width": 1280, "height": 800})
    _sign_in(agent_page, base, "maria")

    # Filter the queue: all open tickets whose text mentions "charged".
    agent_page.get_by_role("link", name=re.compile("All open")).click()
    agent_page.get_by_text("Filters", exact=True).click()
    agent_page.get_by_label("Text").fill("charged")
    agent_page.get_by_role("button", name="Apply", exact=True).click()
    agent_page.get_by_role("link", name="Charged twice for order 1042").wait_for()
    assert agent_page.get_by_role("link", name="Invoice address is wrong").count() == 0
    agent_page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    # Open it, reply, add an internal note, assign, solve.
    agent_page.get_by_role("link", name="Charged twice for order 1042").click()
    agent_page.get_by_role("heading", name=re.compile("Charged twice")).wait_for()
    agent_page.get_by_label("Message").fill("Sorry about that, the second charge is refunded.")
    agent_page.get_by_role("button", name="Send reply").click()
    agent_page.locator(".message.from-agent", has_text="second charge is refunded").wait_for()
    agent_page.get_by_label("Internal note").check()
    agent_page.get_by_label("Message").fill("Refund ref RF-99, checked with finance.")
    agent_page.get_by_role("button", name="Add note").click()
    agent_page.locator(".message.internal-note", has_text="RF-99").wait_for()
    _settled(agent_page)
    agent_page.get_by_label("Assignee").select_option(label="Maria Lopez (me)")
    agent_page.get_by_text("Saved.").wait_for()
    _settled(agent_page)
    agent_page.get_by_label("Status").first.select_option("solved")
    agent_page.locator("#head-status", has_text="Solved").wait_for()
    ticket = Ticket.objects.get(subject="Charged twice for order 1042")
    assert (ticket.status, ticket.assignee_id) == ("solved", agent.pk)
    agent_page.screenshot(path=str(SCREENSHOTS / "ticket.png"), full_page=True)

    # The agent watches the unassigned view; a customer opens a request in the portal.
    agent_page.goto(base + "/tickets/?view=unassigned")
    agent_page.evaluate("window.__notReloaded = true")
    customer_page = browser.new_page(viewport={"width": 1280, "height": 800})
    _portal_sign_in(customer_page, base, "mia@example.com")
    customer_page.get_by_role("link", name="New request").click()
    customer_page.get_by_label("Subject").fill("Lamp arrived broken")
    customer_page.get_by_label("How can we help?").fill("The lamp from order 2077 is in pieces.")
    customer_page.get_by_label("Attachments").set_input_files(
        files=[{"name": "lamp.txt", "mimeType": "text/plain", "buffer": b"photo placeholder"}]
    )
    customer_page.get_by_role("button", name="Send request").click()
    customer_page.get_by_role("heading", name=re.compile("Lamp arrived broken")).wait_for()

    new_row = agent_page.get_by_role("link", name="Lamp arrived broken")
    new_row.wait_for(timeout=15_000)
    assert agent_page.evaluate("window.__notReloaded") is True

    new_row.click()
    agent_page.locator(".attachments", has_text="lamp.txt").wait_for()
    agent_page.get_by_label("Message").fill("We are sending a new lamp today.")
    agent_page.get_by_role("button", name="Send reply").click()
    agent_page.locator(".message.from-agent", has_text="new lamp today").wait_for()
    agent_page.get_by_label("Internal note").check()
    agent_page.get_by_label("Message").fill("Customer is a repeat buyer; ship express.")
    agent_page.get_by_role("button", name="Add note").click()
    agent_page.locator(".message.internal-note", has_text="ship express").wait_for()
    assert Message.objects.filter(kind="note", body_text__contains="ship express").exists()

    customer_page.reload()
    customer_page.get_by_text("We are sending a new lamp today.").wait_for()
    assert customer_page.get_by_text("ship express").count() == 0
    assert "Internal note" not in customer_page.content()
    customer_page.screenshot(path=str(SCREENSHOTS / "portal.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, base, "maria")
    phone.goto(base + "/tickets/%s/" % ticket.number)
    phone.get_by_label("Message").wait_for()
    phone.screenshot(path=str(SCREENSHOTS / "ticket-phone.png"), full_page=True)
