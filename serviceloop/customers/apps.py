from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "serviceloop.customers"
    label = "customers"
    verbose_name = "Customers"
