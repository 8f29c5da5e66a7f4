from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "leadgate.ops"
    label = "ops"
    verbose_name = "Operations"
