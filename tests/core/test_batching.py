"""Batched inserts: rows written together at the end of a block, dropped with a failed one."""

import pytest
from django.db import transaction

from serviceloop.core.batching import batched_inserts, insert_later
from serviceloop.core.models import EventDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def delivery(name: str) -> EventDelivery:
    return EventDelivery(event_name=name, payload={"name": name}, handler="tests.handler")


def stored() -> list[str]:
    return list(EventDelivery.objects.order_by("id").values_list("event_name", flat=True))


def test_rows_are_written_in_order_when_the_block_ends() -> None:
    with transaction.atomic(), batched_inserts():
        insert_later([delivery("first")])
        insert_later([delivery("second"), delivery("third")])
        assert stored() == []
    assert stored() == ["first", "second", "third"]


def test_without_a_block_rows_are_written_at_once() -> None:
    with transaction.atomic():
        insert_later([delivery("now")])
        assert stored() == ["now"]


class Refused(Exception):
    pass


def add_then_refuse(name: str) -> None:
    with transaction.atomic(), batched_inserts():
        insert_later([delivery(name)])
        raise Refused()


def test_a_failed_inner_block_drops_only_its_rows() -> None:
    with transaction.atomic(), batched_inserts():
        insert_later([delivery("kept before")])
        with pytest.raises(Refused):
            add_then_refuse("dropped")
        with transaction.atomic(), batched_inserts():
            insert_later([delivery("kept inner")])
        insert_later([delivery("kept after")])
    assert stored() == ["kept before", "kept inner", "kept after"]


def test_a_failed_outer_block_writes_nothing() -> None:
    with pytest.raises(Refused):
        add_then_refuse("never")
    assert stored() == []


def test_rows_need_the_services_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        insert_later([delivery("loose")])
    assert stored() == []
