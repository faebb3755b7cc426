"""The customer portal: one-time sign-in links, own requests only, never internal notes."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from serviceloop.customers.models import Organization
from serviceloop.portal.models import PortalLoginToken
from serviceloop.tickets import services
from serviceloop.tickets.models import Channel, Status, Ticket
from tests.customers.factories import CustomerFactory, OrganizationFactory
from tests.tickets.factories import make_ticket


def _link(mailoutbox) -> str:
    found = re.search(r"http://testserver(/portal/sign-in/\S+)", mailoutbox[-1].body)
    assert found is not None
    return found.group(1)


def test_a_customer_signs_in_with_a_link_that_works_once(client_for, customer, mailoutbox):
    client = client_for(None)
    client.post("/portal/sign-in", {"email": "MIA@example.com"})
    link = _link(mailoutbox)

    assert client.get(link).status_code == 200  # only asks to confirm; a scanner uses nothing
    assert client.post(link).status_code == 302
    assert client.get("/portal/").status_code == 200
    second = client_for(None).post(link)
    assert second.status_code == 422
    assert "used already or has expired" in second.text
    token = PortalLoginToken.objects.get()
    assert token.used_at is not None
    assert link.rsplit("/", 1)[1] not in token.key_hash


def test_an_unknown_address_gets_the_same_answer_and_no_email(client_for, customer, mailoutbox):
    known = client_for(None).post("/portal/sign-in", {"email": customer.email})
    unknown = client_for(None).post("/portal/sign-in", {"email": "nobody@example.com"})

    assert len(mailoutbox) == 1
    assert known.status_code == unknown.status_code == 200
    assert "a sign-in link is on its way" in known.text
    assert "a sign-in link is on its way" in unknown.text


def test_an_expired_link_does_not_sign_in(client_for, customer, mailoutbox, settings):
    client = client_for(None)
    client.post("/portal/sign-in", {"email": customer.email})
    link = _link(mailoutbox)
    PortalLoginToken.objects.update(expires_at="2000-01-01T00:00:00Z")

    assert client.post(link).status_code == 422
    assert client.get("/portal/").status_code == 302


def test_another_customers_request_is_not_found(portal_client_for, customer):
    others = make_ticket(requester_email="someone-else@example.com")
    client = portal_client_for(customer)

    for url in (
        f"/portal/requests/{others.number}/",
        f"/portal/requests/{others.number}/attachments/1",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/portal/requests/{others.number}/reply", {"body": "hi"}).status_code == 404
    assert client.post(f"/portal/requests/{others.number}/solve").status_code == 404
    assert client.get("/portal/requests/999999/").status_code == 404
    assert others.messages.count() == 1


def test_organization_members_see_each_others_requests_only_when_shared(portal_client_for):
    organization = OrganizationFactory()
    mia = CustomerFactory(organization=organization)
    colleague = CustomerFactory(organization=organization)
    ticket = make_ticket(requester_email=colleague.email)
    Ticket.objects.filter(pk=ticket.pk).update(organization=organization)
    client = portal_client_for(mia)

    assert client.get(f"/portal/requests/{ticket.number}/").status_code == 404
    Organization.objects.filter(pk=organization.pk).update(
        portal_visibility=Organization.PortalVisibility.ORGANIZATION
    )
    assert client.get(f"/portal/requests/{ticket.number}/").status_code == 200


def test_the_customer_reads_replies_and_never_internal_notes(portal_client_for, customer, agent):
    ticket = make_ticket(actor=agent, requester_email=customer.email)
    services.reply_to_ticket(number=ticket.number, agent=agent, body="A new lamp ships today.")
    note = services.add_internal_note(
        number=ticket.number,
        agent=agent,
        body="Repeat buyer; ship express.",
        attachments=[SimpleUploadedFile("internal.txt", b"secret", "text/plain")],
    )

    response = portal_client_for(customer).get(f"/portal/requests/{ticket.number}/")

    assert "A new lamp ships today." in response.text
    assert "ship express" not in response.text
    assert "internal.txt" not in response.text
    attachment = note.attachments.get()
    url = f"/portal/requests/{ticket.number}/attachments/{attachment.pk}"
    assert portal_client_for(customer).get(url).status_code == 404


def test_a_customer_opens_a_request_with_an_attachment(portal_client_for, customer):
    response = portal_client_for(customer).post(
        "/portal/requests/new",
        {
            "subject": "Lamp arrived broken",
            "body": "It is in pieces.",
            "attachments": SimpleUploadedFile("lamp.jpg", b"jpeg", "image/jpeg"),
        },
    )

    ticket = Ticket.objects.get(subject="Lamp arrived broken")
    assert response.status_code == 302
    assert (ticket.requester, ticket.channel) == (customer, Channel.WEB)
    assert ticket.messages.get().attachments.get().filename == "lamp.jpg"


def test_an_empty_request_is_refused_in_place(portal_client_for, customer):
    response = portal_client_for(customer).post(
        "/portal/requests/new", {"subject": "Help", "body": ""}
    )

    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_the_customer_replies_and_marks_solved(portal_client_for, customer, agent):
    ticket = make_ticket(actor=agent, requester_email=customer.email)
    client = portal_client_for(customer)

    client.post(f"/portal/requests/{ticket.number}/reply", {"body": "Any news?"})
    client.post(f"/portal/requests/{ticket.number}/solve")

    ticket.refresh_from_db()
    assert ticket.messages.filter(body_text="Any news?").exists()
    assert ticket.status == Status.SOLVED
    event = ticket.events.filter(kind="status").last()
    assert event is not None
    assert event.actor_customer == customer


@pytest.mark.parametrize("url", ["/portal/", "/portal/requests/new", "/portal/requests/1/"])
def test_signed_out_customers_go_to_the_sign_in_page(client_for, db, url):
    response = client_for(None).get(url)

    assert response.status_code == 302
    assert response["Location"] == "/portal/sign-in"
