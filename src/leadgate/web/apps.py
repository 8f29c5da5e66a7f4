from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leadgate.web"
    label = "web"
    verbose_name = "Web UI"
