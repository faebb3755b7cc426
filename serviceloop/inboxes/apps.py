from importlib import import_module

from django.apps import AppConfig


class InboxesConfig(AppConfig):
    name = "serviceloop.inboxes"
    label = "inboxes"
    verbose_name = "Inboxes"

    def ready(self) -> None:
        # Importing the module registers its event subscribers.
        import_module("serviceloop.inboxes.handlers")
