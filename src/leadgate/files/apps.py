from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "leadgate.files"
    label = "files"
    verbose_name = "Download and upload leads"
