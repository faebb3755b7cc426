from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "serviceloop.portal"
    label = "portal"
    verbose_name = "Customer portal"
