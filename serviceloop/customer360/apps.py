from django.apps import AppConfig


class Customer360Config(AppConfig):
    name = "serviceloop.customer360"
    label = "customer360"
    verbose_name = "Customer 360"
