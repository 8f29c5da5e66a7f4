from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "leadgate.capture"
    label = "capture"
    verbose_name = "Capture form"
