"""Human ticket numbers (#1042), unique even when several processes create tickets at once."""

from django.db import connection

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
    # SQLite: one statement increments and reads the counter (RETURNING, SQLite 3.35+); the
    # IMMEDIATE transaction holds the write lock from BEGIN, so creating the counter row for
    # the very first ticket sees no other writer either.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticketnumbercounter SET last_number = last_number + %s "
            "WHERE id = 1 RETURNING last_number",
            [count],
        )
        row = cursor.fetchone()
    if row is None:
        TicketNumberCounter.objects.create(pk=1, last_number=FIRST_TICKET_NUMBER - 1 + count)
        return list(range(FIRST_TICKET_NUMBER, FIRST_TICKET_NUMBER + count))
    last = row[0]
    return list(range(last - count + 1, last + 1))
