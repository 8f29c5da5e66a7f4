from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "bench.peer_import_export.leads"
    label = "peer_leads"
    default_auto_field = "django.db.models.BigAutoField"
