"""Sources and the configuration leads are checked against (SPEC §1)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.validators import RegexValidator
from django.db import connection, models

from leadgate.lib.tokens import new_webhook_secret
from leadgate.rules.definitions import DedupeKey, DedupeScope, DomainMode, FieldType

key_validator = RegexValidator(r"^[a-z][a-z0-9_]*$", "Use snake_case: lower-case letters, digits and _.")
slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lower-case letters, digits and -.")


class Picklist(models.Model):
    """A general list shared across sources: canonical values plus aliases."""

    key = models.CharField(max_length=100, unique=True, validators=[key_validator])
    name = models.CharField(max_length=200)
    case_sensitive = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PicklistValue(models.Model):
    picklist = models.ForeignKey(Picklist, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=255)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["picklist", "value"], name="unique_picklist_value")]

    def __str__(self) -> str:
        return self.value


class PicklistAlias(models.Model):
    """An incoming variant that means a canonical value (``Vice President`` → ``VP``)."""

    picklist = models.ForeignKey(Picklist, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=255)
    value = models.ForeignKey(PicklistValue, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        ordering = ["alias"]
        constraints = [models.UniqueConstraint(fields=["picklist", "alias"], name="unique_picklist_alias")]

    def __str__(self) -> str:
        return f"{self.alias} → {self.value.value}"


class ListMapper(models.Model):
    """A many-to-one translation of a picklist's values, applied when posting out."""

    key = models.CharField(max_length=100, unique=True, validators=[key_validator])
    name = models.CharField(max_length=200, blank=True)
    picklist = models.ForeignKey(Picklist, on_delete=models.PROTECT, related_name="mappers")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


class ListMapperEntry(models.Model):
    mapper = models.ForeignKey(ListMapper, on_delete=models.CASCADE, related_name="entries")
    value = models.ForeignKey(PicklistValue, on_delete=models.CASCADE, related_name="mapper_entries")
    output = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mapper", "value"], name="unique_mapper_entry")]

    def __str__(self) -> str:
        return f"{self.value.value} → {self.output}"


class DomainList(models.Model):
    """Email domains with ``*`` wildcards, or a built-in list from maintained data."""

    class Builtin(models.TextChoices):
        NONE = "", "—"
        FREE = "free", "Free / personal mail providers"
        DISPOSABLE = "disposable", "Disposable mail providers"

    key = models.CharField(max_length=100, unique=True, validators=[key_validator])
    name = models.CharField(max_length=200, blank=True)
    builtin = models.CharField(max_length=20, choices=Builtin.choices, blank=True, default="")
    domains = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


class SuppressionList(models.Model):
    """Emails and domains that must never be accepted."""

    key = models.CharField(max_length=100, unique=True, validators=[key_validator])
    name = models.CharField(max_length=200, blank=True)
    emails = models.JSONField(default=list, blank=True)
    domains = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


class Source(models.Model):
    """One lead programme: an event, webinar, partner feed, form or upload stream."""

    class Kind(models.TextChoices):
        EVENT = "event"
        WEBINAR = "webinar"
        PARTNER = "partner"
        FORM = "form"
        API = "api"
        UPLOAD = "upload"

    class Status(models.TextChoices):
        DRAFT = "draft"
        LIVE = "live"
        PAUSED = "paused"
        CLOSED = "closed"

    slug = models.SlugField(max_length=100, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EVENT)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    dedupe_key = models.CharField(
        max_length=20, choices=[(k.value, k.value) for k in DedupeKey], blank=True, default=""
    )
    dedupe_scope = models.CharField(
        max_length=10, choices=[(s.value, s.value) for s in DedupeScope], default=DedupeScope.SOURCE
    )
    dedupe_lookback_days = models.PositiveIntegerField(null=True, blank=True)
    allocation = models.PositiveIntegerField(null=True, blank=True, help_text="Lead cap; empty for none.")
    review = models.BooleanField(default=False, help_text="Accepted leads wait In Review until approved.")
    form_enabled = models.BooleanField(default=False, help_text="Serve the hosted capture form at /f/<slug>.")
    # Status callbacks: every status change of a lead is posted here, signed with the secret (whsec_…).
    callback_url = models.URLField(max_length=500, blank=True, default="")
    callback_secret = models.CharField(max_length=100, blank=True, default="")
    suppression_lists = models.ManyToManyField(SuppressionList, blank=True, related_name="sources")
    destinations = models.ManyToManyField("delivery.Destination", blank=True, related_name="sources")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Callbacks are always signed: a source given a callback URL (file, admin, API) gets a secret.
        if self.callback_url and not self.callback_secret:
            self.callback_secret = new_webhook_secret()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "callback_secret"}
        super().save(*args, **kwargs)

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE


class Field(models.Model):
    """One field of a source: its column header / JSON key, type and checks."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="fields")
    key = models.CharField(max_length=100, validators=[key_validator])
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=[(t.value, t.value) for t in FieldType], default="text")
    required = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    aliases = models.JSONField(default=list, blank=True)
    default = models.CharField(max_length=255, blank=True, default="")
    pii = models.BooleanField(default=False)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    integer = models.BooleanField(default=False)
    picklist = models.ForeignKey(
        Picklist, on_delete=models.PROTECT, null=True, blank=True, related_name="fields"
    )
    allowed_values = models.JSONField(null=True, blank=True)
    separator = models.CharField(max_length=1, default=";")
    multi_mode = models.CharField(max_length=3, choices=[("all", "all"), ("any", "any")], default="all")
    check_deliverability = models.BooleanField(default=False)
    country_format = models.CharField(
        max_length=10, choices=[("name", "name"), ("alpha2", "alpha2")], default="name"
    )
    domain_lists = models.ManyToManyField(DomainList, through="FieldDomainList", blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="unique_source_field")]

    def __str__(self) -> str:
        return f"{self.source.slug}.{self.key}"


class FieldDomainList(models.Model):
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="domain_rules")
    domain_list = models.ForeignKey(DomainList, on_delete=models.PROTECT, related_name="field_rules")
    mode = models.CharField(max_length=10, choices=[(m.value, m.value) for m in DomainMode])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["field", "domain_list"], name="unique_field_domain_list")
        ]

    def __str__(self) -> str:
        return f"{self.field} {self.mode} {self.domain_list}"


class RulesVersion(models.Model):
    """A token replaced by every change to the configuration that leads are checked against.

    Processes keep compiled rules in memory (compiling a source takes ~25 queries); they compare this
    token, one cheap query, to know when to compile again. It is random rather than a counter so that a
    rolled-back change can never bring an old value back.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)

    @classmethod
    def current(cls) -> int:
        # Read on every lead post: plain SQL costs a twentieth of the ORM's query building here.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT version FROM {cls._meta.db_table} WHERE id = 1")  # noqa: S608
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    @classmethod
    def bump(cls) -> None:
        token = secrets.randbits(62)
        if not cls.objects.filter(pk=1).update(version=token):
            cls.objects.update_or_create(pk=1, defaults={"version": token})
