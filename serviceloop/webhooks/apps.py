from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "serviceloop.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from serviceloop.webhooks import handlers  # noqa: F401  (registers subscribers)
