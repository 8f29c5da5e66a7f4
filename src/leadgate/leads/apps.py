from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadgate.leads"
    label = "leads"
