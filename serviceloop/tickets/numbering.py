"""Human ticket numbers (#1042), unique even when several processes create tickets at once."""

from django.db import connection
from django.db.models import F

from serviceloop.tickets.models import TicketNumberCounter

FIRST_TICKET_NUMBER = 1000
SEQUENCE = "ticket_number_seq"


def next_ticket_number() -> int:
    """Hand out the next number; call inside the creating transaction."""
    return reserve_ticket_numbers(1)[0]


def reserve_ticket_numbers(count: int) -> list[int]:
    """Hand out `count` consecutive-or-not numbers nobody else will get (bulk loads)."""
    if connection.vendor == "postgresql":
        # A sequence never blocks concurrent creators, unlike a counter row.
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [SEQUENCE, count])
            return [row[0] for row in cursor.fetchall()]
    # SQLite: the IMMEDIATE transaction holds the write lock from BEGIN, so the increment
    # and the read below see no other writer.
    updated = TicketNumberCounter.objects.filter(pk=1).update(last_number=F("last_number") + count)
    if not updated:
        TicketNumberCounter.objects.create(pk=1, last_number=FIRST_TICKET_NUMBER - 1 + count)
    last = TicketNumberCounter.objects.values_list("last_number", flat=True).get(pk=1)
    return list(range(last - count + 1, last + 1))
