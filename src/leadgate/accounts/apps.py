from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadgate.accounts"
    label = "accounts"
    verbose_name = "Users"
