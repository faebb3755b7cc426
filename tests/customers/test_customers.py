"""Customers, their identities and organizations; merging two records of one person."""

import pytest

from serviceloop.accounts.errors import ContributorNotAllowed
from serviceloop.core.errors import Conflict, InvalidInput
from serviceloop.customers import queries
from serviceloop.customers.models import Customer, CustomerMerge, Identity
from serviceloop.customers.services import (
    add_identity,
    create_organization,
    create_senders,
    find_or_create_customer,
    merge_customers,
    undo_customer_merge,
)
from serviceloop.tickets import services as tickets
from serviceloop.tickets.models import EventKind, Status, Ticket
from tests.customers.factories import CustomerFactory
from tests.tickets.factories import make_ticket

# --- Finding customers by email -------------------------------------------------------------


def test_find_or_create_normalizes_the_email(db):
    customer = find_or_create_customer(email="  Mia.Wong@Example.COM ", name=" Mia Wong ")

    assert customer.email == "mia.wong@example.com"
    assert customer.name == "Mia Wong"
    identity = customer.identities.get()
    assert (identity.kind, identity.value) == (Identity.Kind.EMAIL, "mia.wong@example.com")


def test_find_or_create_finds_the_same_customer_again(db):
    first = find_or_create_customer(email="mia@example.com")

    again = find_or_create_customer(email="MIA@example.com ")

    assert again.pk == first.pk
    assert Customer.objects.count() == 1
    assert Identity.objects.count() == 1


def test_find_or_create_fills_in_a_missing_name_but_keeps_a_known_one(db):
    find_or_create_customer(email="mia@example.com")

    named = find_or_create_customer(email="mia@example.com", name="Mia Wong")
    renamed = find_or_create_customer(email="mia@example.com", name="Somebody Else")

    assert named.name == renamed.name == "Mia Wong"
    assert Customer.objects.get().name == "Mia Wong"


def test_find_or_create_refuses_an_invalid_address(db):
    with pytest.raises(InvalidInput) as refused:
        find_or_create_customer(email="not-an-address")

    assert str(refused.value) == "'not-an-address' is not a valid email address."
    assert Customer.objects.count() == 0


def test_a_new_customer_joins_the_organization_of_their_email_domain(admin):
    acme = create_organization(actor=admin, name="Acme", email_domains=["Acme.example"])

    customer = find_or_create_customer(email="ops@ACME.example")

    assert customer.organization == acme


def test_new_senders_are_created_together_with_their_organizations(admin):
    acme = create_organization(actor=admin, name="Acme", email_domains=["acme.example"])
    existing = find_or_create_customer(email="kim@shop.example", name="Kim")
    names = {"kim@shop.example": "Kim Park", "ops@acme.example": "Ops", "li@mail.example": "Li"}
    known = queries.customers_with_emails(names)

    create_senders(names=names, known=known)

    assert known.by_address["kim@shop.example"] == existing
    ops, li = known.by_address["ops@acme.example"], known.by_address["li@mail.example"]
    assert (ops.name, ops.organization, li.name, li.organization) == ("Ops", acme, "Li", None)
    assert find_or_create_customer(email="OPS@acme.example") == ops
    assert Customer.objects.count() == 3


def test_a_sender_created_meanwhile_by_someone_else_is_theirs_not_a_second_customer(db):
    names = {"sam@shop.example": "Sam", "eve@shop.example": "Eve"}
    known = queries.customers_with_emails(names)
    # Another process creates Sam after the look-up, before our insert.
    theirs = find_or_create_customer(email="sam@shop.example", name="Sam (theirs)")

    create_senders(names=names, known=known)

    assert known.by_address["sam@shop.example"] == theirs
    assert known.by_address["eve@shop.example"].name == "Eve"
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Eve", "Sam (theirs)"]
    assert Identity.objects.filter(value="sam@shop.example").get().customer == theirs


def test_a_customer_from_an_unknown_domain_has_no_organization(admin):
    create_organization(actor=admin, name="Acme", email_domains=["acme.example"])

    customer = find_or_create_customer(email="someone@elsewhere.example")

    assert customer.organization is None


def test_a_ticket_takes_the_organization_of_its_requester(admin, agent):
    acme = create_organization(actor=admin, name="Acme", email_domains=["acme.example"])

    ticket = make_ticket(actor=agent, requester_email="ops@acme.example")

    assert ticket.organization == acme


# --- Identities -----------------------------------------------------------------------------


def test_add_identity_normalizes_a_phone_number(agent):
    customer = CustomerFactory()

    identity = add_identity(
        actor=agent, customer_id=customer.pk, kind="phone", value="+44 (20) 7946-0958"
    )

    assert identity.value == "+442079460958"
    assert identity.customer == customer


def test_adding_an_identity_the_customer_has_returns_it(agent):
    customer = CustomerFactory(email="mia@example.com")

    identity = add_identity(
        actor=agent, customer_id=customer.pk, kind="email", value="MIA@example.com"
    )

    assert identity.customer == customer
    assert customer.identities.count() == 1


def test_an_identity_of_someone_else_is_refused_and_merge_is_suggested(agent):
    mia = CustomerFactory(email="mia@example.com")
    other = CustomerFactory(email="other@example.com")

    with pytest.raises(Conflict) as refused:
        add_identity(actor=agent, customer_id=other.pk, kind="email", value="Mia@Example.com")

    assert str(refused.value) == (
        f"mia@example.com belongs to customer {mia.pk}; merge the two customers instead."
    )
    assert Identity.objects.get(value="mia@example.com").customer == mia


def test_an_unknown_identity_kind_is_refused(agent):
    customer = CustomerFactory()

    with pytest.raises(InvalidInput) as refused:
        add_identity(actor=agent, customer_id=customer.pk, kind="fax", value="123")

    assert str(refused.value) == "Unknown identity kind fax."


def test_a_contributor_cannot_add_identities(contributor):
    customer = CustomerFactory()

    with pytest.raises(ContributorNotAllowed) as refused:
        add_identity(actor=contributor, customer_id=customer.pk, kind="phone", value="5551234")

    assert str(refused.value) == (
        "Contributors work only the tickets assigned to them and add internal notes."
    )


# --- Merging customers ----------------------------------------------------------------------


@pytest.fixture
def duplicate(agent):  # type: ignore[no-untyped-def]
    """The same person twice: a work address and a private one, each with a ticket."""
    work_ticket = make_ticket(actor=agent, requester_email="mia@work.example", requester_name="")
    home_ticket = make_ticket(
        actor=agent, requester_email="mia@home.example", requester_name="Mia Wong"
    )
    return work_ticket, home_ticket


def test_merging_moves_identities_to_the_surviving_customer(agent, duplicate):
    work_ticket, home_ticket = duplicate
    source, target = home_ticket.requester, work_ticket.requester

    merge_customers(actor=agent, source_id=source.pk, target_id=target.pk)

    values = set(target.identities.values_list("value", flat=True))
    assert values == {"mia@work.example", "mia@home.example"}
    assert source.identities.count() == 0
    source.refresh_from_db()
    assert source.merged_into == target


def test_merging_fills_in_what_the_survivor_lacks(agent, duplicate):
    work_ticket, home_ticket = duplicate

    merge_customers(
        actor=agent, source_id=home_ticket.requester_id, target_id=work_ticket.requester_id
    )

    target = Customer.objects.get(pk=work_ticket.requester_id)
    assert target.name == "Mia Wong"


def test_merging_moves_the_tickets_and_records_the_new_requester(agent, duplicate):
    work_ticket, home_ticket = duplicate
    source, target = home_ticket.requester, work_ticket.requester

    merge = merge_customers(actor=agent, source_id=source.pk, target_id=target.pk)

    home_ticket.refresh_from_db()
    assert home_ticket.requester == target
    event = home_ticket.events.get(kind=EventKind.REQUESTER)
    assert (event.before, event.after, event.actor, event.actor_kind) == (
        source.pk,
        target.pk,
        agent,
        "agent",
    )
    merge.refresh_from_db()
    assert merge.moved_ticket_ids == [home_ticket.pk]
    assert not work_ticket.events.filter(kind=EventKind.REQUESTER).exists()


def test_a_closed_ticket_follows_the_customer_merge(agent, duplicate):
    work_ticket, home_ticket = duplicate
    tickets.solve_ticket(number=home_ticket.number, agent=agent)
    tickets.change_status(number=home_ticket.number, agent=agent, status=Status.CLOSED)

    merge_customers(
        actor=agent, source_id=home_ticket.requester_id, target_id=work_ticket.requester_id
    )

    home_ticket.refresh_from_db()
    assert home_ticket.requester_id == work_ticket.requester_id
    assert home_ticket.status == Status.CLOSED


def test_mail_from_a_merged_address_finds_the_survivor(agent, duplicate):
    work_ticket, home_ticket = duplicate
    merge_customers(
        actor=agent, source_id=home_ticket.requester_id, target_id=work_ticket.requester_id
    )

    customer = find_or_create_customer(email="mia@home.example")

    assert customer.pk == work_ticket.requester_id


def test_undo_gives_identities_and_tickets_back(agent, duplicate):
    work_ticket, home_ticket = duplicate
    source, target = home_ticket.requester, work_ticket.requester
    merge = merge_customers(actor=agent, source_id=source.pk, target_id=target.pk)

    undo_customer_merge(actor=agent, merge_id=merge.pk)

    assert set(source.identities.values_list("value", flat=True)) == {"mia@home.example"}
    assert set(target.identities.values_list("value", flat=True)) == {"mia@work.example"}
    home_ticket.refresh_from_db()
    work_ticket.refresh_from_db()
    assert home_ticket.requester == source
    assert work_ticket.requester == target
    source.refresh_from_db()
    assert source.merged_into is None
    moves = [
        (e.before, e.after)
        for e in home_ticket.events.filter(kind=EventKind.REQUESTER).order_by("id")
    ]
    assert moves == [(source.pk, target.pk), (target.pk, source.pk)]


def test_undo_leaves_tickets_written_during_the_merge_with_the_survivor(agent, duplicate):
    work_ticket, home_ticket = duplicate
    merge = merge_customers(
        actor=agent, source_id=home_ticket.requester_id, target_id=work_ticket.requester_id
    )
    later = make_ticket(actor=agent, requester_email="mia@home.example")

    undo_customer_merge(actor=agent, merge_id=merge.pk)

    later.refresh_from_db()
    work_ticket.refresh_from_db()
    # Written to the merged address while merged: the survivor's, and it stays theirs.
    assert later.requester_id == work_ticket.requester_id
    assert work_ticket.requester_id == merge.target_id
    assert Ticket.objects.filter(requester_id=merge.source_id).count() == 1


def test_a_merge_can_be_undone_only_once(agent, duplicate):
    work_ticket, home_ticket = duplicate
    merge = merge_customers(
        actor=agent, source_id=home_ticket.requester_id, target_id=work_ticket.requester_id
    )
    undo_customer_merge(actor=agent, merge_id=merge.pk)

    with pytest.raises(Conflict) as refused:
        undo_customer_merge(actor=agent, merge_id=merge.pk)

    assert str(refused.value) == "That merge was already undone."


def test_a_customer_cannot_be_merged_into_itself(agent):
    customer = CustomerFactory()

    with pytest.raises(InvalidInput) as refused:
        merge_customers(actor=agent, source_id=customer.pk, target_id=customer.pk)

    assert str(refused.value) == "A customer cannot be merged into itself."


def test_a_merged_customer_cannot_be_merged_again(agent):
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    merge_customers(actor=agent, source_id=first.pk, target_id=second.pk)

    with pytest.raises(Conflict) as refused:
        merge_customers(actor=agent, source_id=first.pk, target_id=third.pk)

    assert str(refused.value) == f"Customer {first.pk} was already merged."


def test_nobody_can_be_merged_into_a_merged_customer(agent):
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    merge_customers(actor=agent, source_id=first.pk, target_id=second.pk)

    with pytest.raises(Conflict) as refused:
        merge_customers(actor=agent, source_id=third.pk, target_id=first.pk)

    assert str(refused.value) == (
        f"Customer {first.pk} was merged into another; merge into that one."
    )
    assert refused.value.field == "into"  # the API's name for the target
    assert CustomerMerge.objects.count() == 1


def test_a_customer_can_be_merged_again_after_the_merge_was_undone(agent):
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    merge = merge_customers(actor=agent, source_id=first.pk, target_id=second.pk)
    undo_customer_merge(actor=agent, merge_id=merge.pk)

    merge_customers(actor=agent, source_id=first.pk, target_id=third.pk)

    assert queries.customer_with_identity("email", first.email).pk == third.pk
