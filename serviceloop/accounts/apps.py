from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "serviceloop.accounts"
    label = "accounts"
    verbose_name = "Agents and teams"
