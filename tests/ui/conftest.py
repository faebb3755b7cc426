"""Fixtures for the agent workspace and portal pages: signed-in clients of every kind."""

from collections.abc import Callable

import pytest
from django.test import Client

from serviceloop.accounts.models import Team, User
from serviceloop.customers.models import Customer
from serviceloop.portal.views import SESSION_KEY
from tests.customers.factories import CustomerFactory


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    def make(user: User | None, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def portal_client_for(db) -> Callable[..., Client]:
    def make(customer: Customer, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        session = client.session
        session[SESSION_KEY] = customer.pk
        session.save()
        return client

    return make


@pytest.fixture
def customer(db) -> Customer:
    return CustomerFactory(email="mia@example.com", name="Mia Wong")


@pytest.fixture
def agent_client(client_for, agent, team: Team) -> Client:
    return client_for(agent)
