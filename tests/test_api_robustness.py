"""Bad input gets a 4xx JSON error that says what is wrong, never a 500."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serviceloop.tickets.models import Tag, Ticket
from tests.customers.factories import CustomerFactory
from tests.tickets.factories import make_ticket

HUGE = 99_999_999_999_999_999_999_999
VALID_TICKET = {
    "subject": "Parcel 7781 never arrived",
    "body": "Tracking has said 'in transit' for two weeks.",
    "requester": {"email": "noor@example.com"},
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # The agent factory sets a password; the default hasher would take most of each test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ticket(agent):  # type: ignore[no-untyped-def]
    return make_ticket(actor=agent)


def _refused(response, status: int | tuple[int, ...], field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """Check the answer is the given 4xx, as JSON with a message (and the field, if named)."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["code"]
    assert error["message"].strip()
    if field is not None:
        assert error["field"] == field, error
    return error


def _send(client, method: str, path: str, raw: str | bytes):  # type: ignore[no-untyped-def]
    return client.generic(method, path, data=raw, content_type="application/json")


# --- Malformed bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["{", '{"subject": ', "[1, 2", "subject=x", "{'subject': 'x'}", b"\xff\xfe{}", "NaN}"]
)
def test_a_body_that_is_not_json_is_a_400(api, raw):  # type: ignore[no-untyped-def]
    _refused(_send(api, "POST", "/api/v1/tickets", raw), 400)


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "true", "null", '[{"priority": "high"}]'])
def test_json_that_is_not_an_object_is_refused(api, ticket, raw):  # type: ignore[no-untyped-def]
    _refused(_send(api, "POST", "/api/v1/tickets", raw), 400, "body")
    _refused(_send(api, "PATCH", f"/api/v1/tickets/{ticket.number}", raw), 400, "body")
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_an_empty_body_is_named(api, ticket):  # type: ignore[no-untyped-def]
    _refused(_send(api, "POST", "/api/v1/tickets", ""), 422, "body")
    _refused(_send(api, "PATCH", f"/api/v1/tickets/{ticket.number}", ""), 422, "body")


# --- Missing fields and wrong types -------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "x", "requester": {"email": "a@b.example"}}, "subject"),
        ({"subject": "x", "body": "x"}, "requester"),
        ({"subject": "x", "body": "x", "requester": {"name": "Noor"}}, "requester.email"),
        ({**VALID_TICKET, "subject": 42}, "subject"),
        ({**VALID_TICKET, "requester": "noor@example.com"}, "requester.email"),
        ({**VALID_TICKET, "tags": "refund"}, "tags"),
        ({**VALID_TICKET, "tags": [["nested"]]}, "tags.0"),
        ({**VALID_TICKET, "team": "sales"}, "team"),
        ({**VALID_TICKET, "team": 1.5}, "team"),
        ({**VALID_TICKET, "custom_fields": ["a"]}, "custom_fields"),
        ({**VALID_TICKET, "priority": 3}, "priority"),
    ],
)
def test_a_missing_or_mistyped_field_is_named(api, payload, field):  # type: ignore[no-untyped-def]
    _refused(api.post_json("/api/v1/tickets", payload), 422, field)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"assignee": "me"}, "assignee"),
        ({"tags": {"a": 1}}, "tags"),
        ({"solve_incidents": "maybe"}, "solve_incidents"),
        ({"subject": ["x"]}, "subject"),
    ],
)
def test_a_mistyped_patch_field_is_named(api, ticket, payload, field):  # type: ignore[no-untyped-def]
    _refused(api.patch_json(f"/api/v1/tickets/{ticket.number}", payload), 422, field)


# --- Unknown enum values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("priority", "asap"), ("type", "complaint"), ("channel", "fax"), ("author", "robot")],
)
def test_an_unknown_choice_on_create_is_named(api, field, value):  # type: ignore[no-untyped-def]
    error = _refused(api.post_json("/api/v1/tickets", {**VALID_TICKET, field: value}), 422, field)

    assert "Input should be" in error["message"]


@pytest.mark.parametrize(("field", "value"), [("status", "done"), ("type", "bug")])
def test_an_unknown_choice_on_patch_is_named(api, ticket, field, value):  # type: ignore[no-untyped-def]
    _refused(api.patch_json(f"/api/v1/tickets/{ticket.number}", {field: value}), 422, field)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("priority=critical", "priority"),
        ("channel=fax", "channel"),
        ("sort=random", "sort"),
        ("created_after=yesterday", "created_after"),
    ],
)
def test_an_unknown_filter_value_is_named(api, query, field):  # type: ignore[no-untyped-def]
    _refused(api.get(f"/api/v1/tickets?{query}"), (400, 422), field)


# --- Huge values --------------------------------------------------------------------------


def test_a_huge_subject_is_refused(api):  # type: ignore[no-untyped-def]
    _refused(
        api.post_json("/api/v1/tickets", {**VALID_TICKET, "subject": "x" * 10_000}), 422, "subject"
    )


def test_a_huge_body_is_refused_and_nothing_is_stored(api):  # type: ignore[no-untyped-def]
    payload = {**VALID_TICKET, "body": "words " * 50_000}

    _refused(api.post_json("/api/v1/tickets", payload), 400, "body")
    assert not Ticket.objects.exists()


def test_a_huge_tag_is_refused(api):  # type: ignore[no-untyped-def]
    _refused(api.post_json("/api/v1/tickets", {**VALID_TICKET, "tags": ["t" * 500]}), 400, "tags")


def test_a_huge_requester_name_is_refused(api):  # type: ignore[no-untyped-def]
    payload = {**VALID_TICKET, "requester": {"email": "noor@example.com", "name": "N" * 100_000}}

    _refused(api.post_json("/api/v1/tickets", payload), 422, "requester.name")


def test_a_huge_search_is_answered(api, ticket):  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/tickets?q=" + "lamp" * 2_000)

    assert response.status_code == 200
    assert response.json()["items"] == []


# --- Ids: negative, huge, not numbers -----------------------------------------------------


@pytest.mark.parametrize("number", ["-1", "0", str(HUGE), "9223372036854775808"])
def test_an_impossible_ticket_number_is_a_404(api, number):  # type: ignore[no-untyped-def]
    for path in ("", "/messages", "/events"):
        error = _refused(api.get(f"/api/v1/tickets/{number}{path}"), 404)
        assert error["code"] == "ticket_not_found"
    _refused(api.patch_json(f"/api/v1/tickets/{number}", {"priority": "high"}), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/abc",
        "/api/v1/tickets/1.5",
        "/api/v1/tickets/1e3/events",
        "/api/v1/customers/x",
        "/api/v1/agents/%20",
        "/api/v1/teams/null",
        "/api/v1/organizations/[1]",
        "/api/v1/webhooks/abc",
    ],
)
def test_a_path_id_that_is_no_integer_is_named(api, path):  # type: ignore[no-untyped-def]
    error = _refused(api.get(path), 422)

    assert error["field"]
    assert "integer" in error["message"]


def test_merging_with_a_huge_number_in_the_path_is_a_404(api, ticket):  # type: ignore[no-untyped-def]
    _refused(api.post_json(f"/api/v1/tickets/{HUGE}/merge", {"into": ticket.number}), 404)


def test_merging_a_customer_with_a_huge_id_in_the_path_is_a_404(api):  # type: ignore[no-untyped-def]
    customer = CustomerFactory()

    _refused(api.post_json(f"/api/v1/customers/{HUGE}/merge", {"into": customer.pk}), 404)


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/tickets", {**VALID_TICKET, "team": HUGE}, "team"),
        ("/api/v1/tickets", {**VALID_TICKET, "assignee": -HUGE}, "assignee"),
        ("/api/v1/tickets/bulk", {"numbers": [1, HUGE], "priority": "high"}, "numbers.1"),
        ("/api/v1/teams", {"name": "Escalations", "members": [HUGE]}, "members.0"),
        ("/api/v1/customers", {"email": "a@b.example", "organization": HUGE}, "organization"),
    ],
)
def test_a_huge_id_in_a_body_is_named(api_client_for, admin, path, payload, field):  # type: ignore[no-untyped-def]
    error = _refused(api_client_for(admin).post_json(path, payload), 400, field)

    assert "out of range" in error["message"]


def test_merging_into_a_huge_number_is_named(api, ticket):  # type: ignore[no-untyped-def]
    _refused(api.post_json(f"/api/v1/tickets/{ticket.number}/merge", {"into": HUGE}), 400, "into")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/v1/tickets?team={HUGE}", "team"),
        (f"/api/v1/tickets?requester=-{HUGE}", "requester"),
        (f"/api/v1/tickets?organization={HUGE}", "organization"),
        (f"/api/v1/tickets?assignee={HUGE}", "assignee"),
        ("/api/v1/tickets?assignee=%C2%B2", "assignee"),
        ("/api/v1/tickets?team=-1", "team"),
        (f"/api/v1/customers?organization={HUGE}", "organization"),
    ],
)
def test_an_impossible_id_in_a_filter_is_named(api, path, field):  # type: ignore[no-untyped-def]
    _refused(api.get(path), (400, 422), field)


def test_a_huge_or_odd_number_as_search_text_is_just_text(api, ticket):  # type: ignore[no-untyped-def]
    assert api.get(f"/api/v1/tickets?q={HUGE}").json()["items"] == []
    assert api.get("/api/v1/tickets?q=%C2%B2").json()["items"] == []
    assert api.get(f"/api/v1/customers?after={HUGE}").json()["items"] == []


# --- Text no database column can hold -----------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**VALID_TICKET, "subject": "Broken\x00lamp"}, "subject"),
        ({**VALID_TICKET, "body": "\x00"}, "body"),
        (
            {**VALID_TICKET, "requester": {"email": "noor@example.com", "name": "N\x00"}},
            "requester.name",
        ),
        ({**VALID_TICKET, "tags": ["ok", "b\x00d"]}, "tags.1"),
        ({**VALID_TICKET, "custom_fields": {"k": "\x00"}}, "custom_fields.k"),
    ],
)
def test_a_nul_character_in_a_body_is_named(api, payload, field):  # type: ignore[no-untyped-def]
    error = _refused(api.post_json("/api/v1/tickets", payload), 400, field)

    assert "NUL" in error["message"]
    assert not Ticket.objects.exists()


def test_a_nul_character_in_a_patch_is_named(api, ticket):  # type: ignore[no-untyped-def]
    _refused(
        api.patch_json(f"/api/v1/tickets/{ticket.number}", {"subject": "a\x00"}), 400, "subject"
    )


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets?q=%00", "/api/v1/tickets?tag=a%00", "/api/v1/tags?q=%00"]
)
def test_a_nul_character_in_a_query_is_named(api, path):  # type: ignore[no-untyped-def]
    error = _refused(api.get(path), 400)

    assert error["field"] in {"q", "tag"}


def test_deleting_a_tag_whose_name_holds_a_nul_is_a_404(api_client_for, admin):  # type: ignore[no-untyped-def]
    Tag.objects.create(name="vip")

    _refused(api_client_for(admin).delete("/api/v1/tags/vip%00"), 404)
    assert Tag.objects.filter(name="vip").exists()


# --- Random payloads ----------------------------------------------------------------------

TICKET_FIELDS = [
    "subject",
    "body",
    "body_html",
    "requester",
    "priority",
    "type",
    "channel",
    "tags",
    "team",
    "assignee",
    "custom_fields",
    "author",
    "status",
    "custom_status",
    "add_tags",
    "remove_tags",
    "required_skills",
    "problem",
    "parent",
    "solve_incidents",
]
PLAUSIBLE = st.sampled_from(
    ["open", "pending", "solved", "closed", "high", "incident", "agent", "<b>hi</b>", "a@b.example"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | PLAUSIBLE
    | st.integers(min_value=0, max_value=3)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(TICKET_FIELDS), children, max_size=4
        )
    ),
    max_leaves=10,
)
requesters = st.fixed_dictionaries(
    {"email": st.sampled_from(["noor@example.com", "x@y", ""]) | st.text(max_size=20)},
    optional={"name": json_values},
)
ticket_like = st.fixed_dictionaries(
    {"subject": st.text(max_size=40), "body": st.text(max_size=40), "requester": requesters},
    optional=dict.fromkeys(TICKET_FIELDS[4:], json_values),
)
payloads = (
    ticket_like
    | st.dictionaries(st.sampled_from(TICKET_FIELDS), json_values, max_size=6)
    | json_values
)
raw_bodies = st.one_of(payloads.map(json.dumps), st.text(max_size=60), st.binary(max_size=60))

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _never_a_500(response: Any) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response.json()["message"].strip()


@FUZZ
@given(body=raw_bodies)
def test_random_payloads_to_create_a_ticket_never_cause_a_500(api, body):  # type: ignore[no-untyped-def]
    _never_a_500(_send(api, "POST", "/api/v1/tickets", body))


@FUZZ
@given(body=raw_bodies)
def test_random_payloads_to_change_a_ticket_never_cause_a_500(api, ticket, body):  # type: ignore[no-untyped-def]
    _never_a_500(_send(api, "PATCH", f"/api/v1/tickets/{ticket.number}", body))


# --- Health and the schema ----------------------------------------------------------------


def test_healthz_answers_200_json(client, db):  # type: ignore[no-untyped-def]
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_openapi_schema_is_openapi_3_with_every_path_under_v1(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    assert schema["info"]["version"]
    assert schema["paths"]
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    operation_ids = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert operation["responses"], f"{method} {path} documents no response"
            operation_ids.append(operation["operationId"])
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(_placeholders(path)), f"{method} {path}"
    assert len(operation_ids) == len(set(operation_ids))
    for reference in _references(schema):
        assert reference.startswith("#/components/schemas/")
        assert reference.rsplit("/", 1)[1] in schema["components"]["schemas"]


def _placeholders(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _references(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []


def test_the_docs_page_is_served(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/docs", follow=True)

    assert response.status_code == 200
    assert b"openapi" in response.content.lower()
