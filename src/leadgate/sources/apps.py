from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "leadgate.sources"
    label = "sources"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from leadgate.sources import models as m

        # Cache invalidation, not business logic: whatever path changes the rules (admin, API, definition
        # files, the UI), the compiled rules that processes keep must be rebuilt.
        def bump(**kwargs: object) -> None:
            m.RulesVersion.bump()

        for model in (
            m.Source,
            m.Field,
            m.FieldDomainList,
            m.Picklist,
            m.PicklistValue,
            m.PicklistAlias,
            m.DomainList,
            m.SuppressionList,
        ):
            post_save.connect(
                bump, sender=model, weak=False, dispatch_uid=f"rules-version-save-{model.__name__}"
            )
            post_delete.connect(
                bump, sender=model, weak=False, dispatch_uid=f"rules-version-delete-{model.__name__}"
            )
        m2m_changed.connect(
            bump,
            sender=m.Source.suppression_lists.through,
            weak=False,
            dispatch_uid="rules-version-suppression",
        )
        # Which destinations a source posts to is compiled with its rules too (the outbox reads it on
        # every acceptance).
        m2m_changed.connect(
            bump, sender=m.Source.destinations.through, weak=False, dispatch_uid="rules-version-destinations"
        )
