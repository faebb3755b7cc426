from importlib import import_module

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "serviceloop.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Importing the module registers its event subscribers.
        import_module("serviceloop.webhooks.handlers")
