from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "leadgate.delivery"
    label = "delivery"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from leadgate.delivery.models import Destination
        from leadgate.sources.models import RulesVersion

        # Compiled sources know the destinations they post to (sources.compile); a deleted destination
        # leaves them without a signal of their own (its links go with it), so they compile again.
        def bump(**kwargs: object) -> None:
            RulesVersion.bump()

        post_delete.connect(bump, sender=Destination, weak=False, dispatch_uid="rules-version-destination")
