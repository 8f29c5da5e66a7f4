from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "leadgate.delivery"
    label = "delivery"
