from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "serviceloop.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from serviceloop.tickets import handlers  # noqa: F401  (registers subscribers)
