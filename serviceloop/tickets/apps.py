from importlib import import_module

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "serviceloop.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Importing the module registers its event subscribers.
        import_module("serviceloop.tickets.handlers")
