from django.db import migrations


def create_sequence(apps, schema_editor):
    # PostgreSQL hands out ticket numbers from a sequence, which never blocks concurrent
    # creators; SQLite uses the TicketNumberCounter row (see tickets/numbering.py).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS ticket_number_seq START 1000")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS ticket_number_seq")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
