from serviceloop.tickets.models import EventKind, Ticket


def test_posting_a_ticket_creates_it_with_its_requester(api):
    response = api.post_json(
        "/api/v1/tickets",
        {
            "subject": "Order 1042 arrived broken",
            "body": "The lamp was in pieces.",
            "requester": {"email": "Mia@Example.com", "name": "Mia Wong"},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "new"
    assert body["requester"]["email"] == "mia@example.com"
    ticket = Ticket.objects.get(number=body["number"])
    assert ticket.messages.get().body_text == "The lamp was in pieces."
    assert list(ticket.events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.MESSAGE,
    ]


def test_a_ticket_without_subject_names_the_field(api):
    response = api.post_json(
        "/api/v1/tickets", {"subject": " ", "body": "x", "requester": {"email": "a@b.example"}}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "subject"
