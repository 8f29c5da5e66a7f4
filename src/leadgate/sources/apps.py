from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "leadgate.sources"
    label = "sources"
