"""The capture form of a source: one input per source field, and the signed stamps that travel with it.

The form only renders and collects. It checks nothing a lead check would check: every submission goes to the
rule engine, so a visitor's form and an API post are decided by the same rules, and a rejection is stored
like any other (the marketer sees it on the Resolve tab). The browser's own checks (``required``, ``type``,
``maxlength``) only save the visitor a round trip.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import pycountry
from django import forms
from django.core import signing
from django.core.validators import ProhibitNullCharactersValidator

from leadgate.rules.definitions import FieldType
from leadgate.rules.geo import resolve_country
from leadgate.rules.values import parse_boolean
from leadgate.sources.models import Field, Source

from .visitor_text import visitor_message

# The control inputs have hyphens in their names, so they can never clash with a field key (snake_case).
STAMP_INPUT = "lg-stamp"
LEAD_INPUT = "lg-lead"
# Bots fill in anything that looks like a web address; people never see this input.
HONEYPOT_INPUT = "your-website"

#: A form sent sooner than this after it was rendered was filled in by a program.
MIN_SECONDS = 2.0
#: A form older than this is shown again for sending, so a stamp harvested once cannot be replayed for ever.
MAX_AGE_SECONDS = 12 * 3600

_STAMP_SALT = "leadgate.capture.rendered"
_LEAD_SALT = "leadgate.capture.lead"


# --- stamps ------------------------------------------------------------------------------------------


def render_stamp(source: Source, issued_at: float | None = None) -> str:
    """A signed note of when the form of ``source`` was rendered (now, unless ``issued_at`` is given)."""
    at = time.time() if issued_at is None else issued_at
    return signing.dumps({"source": source.slug, "at": round(at, 3)}, salt=_STAMP_SALT, compress=True)


def lead_token(source: Source, lead_id: str) -> str:
    """The signed lead_id of a visitor's rejected lead, so their correction re-decides that same lead."""
    return signing.dumps({"source": source.slug, "lead": lead_id}, salt=_LEAD_SALT, compress=True)


class Screening(StrEnum):
    """What the control inputs say about who sent the form."""

    PERSON = "person"
    BOT = "bot"
    EXPIRED = "expired"  # a person, probably, who left the form open for hours: ask them to send it again


@dataclass(frozen=True)
class Screened:
    verdict: Screening
    why: str = ""  # for the log: which check caught a bot
    correcting: str | None = None  # the lead_id the visitor is correcting


def screen(source: Source, data: Mapping[str, Any], now: float | None = None) -> Screened:
    """Check the honeypot, the render time and the signatures of a posted form.

    A filled honeypot, a missing or forged stamp, a stamp of another source and a form sent within
    ``MIN_SECONDS`` all mean a bot. An expired stamp does not: at a booth a tablet can sit on an open form for
    hours, and a person's lead must not be thrown away for that.
    """
    now = time.time() if now is None else now
    if str(data.get(HONEYPOT_INPUT, "")).strip():
        return Screened(Screening.BOT, "honeypot filled in")
    try:
        rendered = signing.loads(str(data.get(STAMP_INPUT, "")), salt=_STAMP_SALT)
        rendered_at = float(rendered["at"])
        if rendered["source"] != source.slug:
            return Screened(Screening.BOT, "stamp of another form")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return Screened(Screening.BOT, "missing or forged stamp")
    correcting = None
    if data.get(LEAD_INPUT):
        try:
            signed = signing.loads(str(data[LEAD_INPUT]), salt=_LEAD_SALT)
            if signed["source"] != source.slug:
                return Screened(Screening.BOT, "lead token of another form")
            correcting = str(signed["lead"])
        except (signing.BadSignature, KeyError, TypeError):
            return Screened(Screening.BOT, "forged lead token")
    age = now - rendered_at
    if age < MIN_SECONDS:
        return Screened(Screening.BOT, f"sent {age:.1f} s after rendering")
    if age > MAX_AGE_SECONDS:
        return Screened(Screening.EXPIRED, correcting=correcting)
    return Screened(Screening.PERSON, correcting=correcting)


# --- widgets and choices --------------------------------------------------------------------------------


class TelInput(forms.TextInput):
    input_type = "tel"


class DateInput(forms.TextInput):
    # Django's DateInput formats date objects; the form only ever holds the text the browser sent.
    input_type = "date"


class DateTimeLocalInput(forms.TextInput):
    input_type = "datetime-local"


class MultipleValues(forms.Field):
    """The ticked values of a multi picklist, as text; the engine decides whether they are on the picklist."""

    widget = forms.CheckboxSelectMultiple

    default_validators = [ProhibitNullCharactersValidator()]

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]

    def run_validators(self, value: list[str]) -> None:
        for item in value:
            super().run_validators(item)


def _folded(text: str) -> str:
    # "Åland Islands" sorts with the A's, not after "Zimbabwe".
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


@cache
def country_names() -> tuple[str, ...]:
    """Every country by the name the rule engine cleans it to, in alphabetical order."""
    names = {resolve_country(record.alpha_2) for record in pycountry.countries}
    names.add(resolve_country("XK"))  # Kosovo: the engine accepts it, so the list offers it
    return tuple(sorted((c.name for c in names if c is not None), key=_folded))


def picklist_choices(field: Field) -> list[str]:
    """The canonical values a visitor may choose: the picklist's, or the field's allowed subset of them."""
    if field.picklist is None:
        return []
    values = [v.value for v in field.picklist.values.all()]
    if field.allowed_values:
        allowed = set(field.allowed_values)
        values = [v for v in values if v in allowed]
    return values


# Browsers fill these in from the visitor's saved details, which makes a phone form a few taps.
_AUTOCOMPLETE_BY_KEY = {
    "email": "email",
    "first_name": "given-name",
    "last_name": "family-name",
    "name": "name",
    "full_name": "name",
    "company": "organization",
    "company_name": "organization",
    "organization": "organization",
    "organisation": "organization",
    "job_title": "organization-title",
    "title": "organization-title",
    "phone": "tel",
    "mobile": "tel",
    "city": "address-level2",
    "zip": "postal-code",
    "postal_code": "postal-code",
    "postcode": "postal-code",
    "website": "url",
}
_AUTOCOMPLETE_BY_TYPE = {
    FieldType.EMAIL: "email",
    FieldType.PHONE: "tel",
    FieldType.COUNTRY: "country-name",
    FieldType.STATE: "address-level1",
    FieldType.URL: "url",
}

_CHOOSE = ("", "Choose…")
# The types a visitor types in, where a maximum length means something to the browser.
_TYPED_IN = frozenset({FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL, FieldType.STATE})


def _plain_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def form_field(field: Field, *, has_country: bool) -> tuple[forms.Field, bool]:
    """The form field for one source field (input type, label, browser-side limits) and whether it is marked
    as required."""
    kind = field.type
    # A default fills an empty value, so the visitor need not give one.
    needs_answer = field.required and not field.default
    attrs: dict[str, Any] = {}
    autocomplete = _AUTOCOMPLETE_BY_KEY.get(field.key) or _AUTOCOMPLETE_BY_TYPE.get(kind)
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    help_text = ""
    initial: Any = None
    form_class: type[forms.Field] = forms.CharField
    widget: forms.Widget

    if kind == FieldType.EMAIL:
        widget = forms.EmailInput(attrs)
    elif kind == FieldType.PHONE:
        widget = TelInput(attrs)
        if not has_country:
            # Without a country to go by, the engine needs the number written internationally.
            help_text = "With the country code, for example +44 20 7946 0000."
    elif kind == FieldType.NUMBER:
        attrs["step"] = "1" if field.integer else "any"
        if field.min_value is not None:
            attrs["min"] = _plain_number(field.min_value)
        if field.max_value is not None:
            attrs["max"] = _plain_number(field.max_value)
        widget = forms.NumberInput(attrs)
    elif kind == FieldType.DATE:
        widget = DateInput(attrs)
    elif kind == FieldType.DATETIME:
        widget = DateTimeLocalInput(attrs)
    elif kind == FieldType.URL:
        widget = forms.URLInput(attrs)
    elif kind == FieldType.CONSENT:
        # Never ticked in advance: consent must be given by the visitor (GDPR), whatever the default says.
        # An unticked box sends "false", so a default never stands in for it.
        form_class, widget = forms.BooleanField, forms.CheckboxInput(attrs)
        needs_answer = field.required
    elif kind == FieldType.BOOLEAN:
        default = parse_boolean(field.default) if field.default else None
        if field.required and default is None:
            # An unticked box would silently answer "no"; a required question gets an explicit yes or no.
            widget = forms.RadioSelect(choices=[("true", "Yes"), ("false", "No")])
        else:
            form_class, widget, initial = forms.BooleanField, forms.CheckboxInput(attrs), bool(default)
            needs_answer = False
    elif kind == FieldType.PICKLIST:
        choices = picklist_choices(field)
        widget = forms.Select(attrs, choices=[_CHOOSE, *((v, v) for v in choices)])
        initial = field.default if field.default in choices else None
    elif kind == FieldType.MULTI_PICKLIST:
        choices = picklist_choices(field)
        form_class = MultipleValues
        widget = forms.CheckboxSelectMultiple(choices=[(v, v) for v in choices])
        needs_answer = False  # a required attribute on each box would demand every box be ticked
        defaults = [v.strip() for v in field.default.split(field.separator or ";")] if field.default else []
        initial = [v for v in defaults if v in choices] or None
    elif kind == FieldType.COUNTRY:
        widget = forms.Select(attrs, choices=[_CHOOSE, *((n, n) for n in country_names())])
        default_country = resolve_country(field.default) if field.default else None
        initial = default_country.name if default_country else None
    else:  # text, state
        widget = forms.TextInput(attrs)
    if field.max_length and kind in _TYPED_IN:
        widget.attrs["maxlength"] = str(field.max_length)
    if needs_answer:
        widget.attrs["required"] = True
    # Not required for Django: an empty required field is the engine's rejection, stored and shown like
    # any other. The one check Django makes is its refusal of null characters, which no database stores.
    result = form_class(
        label=field.label, required=False, widget=widget, help_text=help_text, initial=initial
    )
    return result, needs_answer or (kind == FieldType.MULTI_PICKLIST and field.required and not field.default)


# --- the form --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One field as the template lays it out."""

    field: forms.BoundField
    layout: str  # "input" (label above), "checkbox" (label beside) or "group" (fieldset and legend)
    required: bool
    anchor: str  # the id the error summary links to


class CaptureForm(forms.Form):
    """A source's fields, in position order, as inputs a visitor fills in."""

    def __init__(self, source_fields: Sequence[Field], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source_fields = {f.key: f for f in source_fields}
        self.marked_required: dict[str, bool] = {}
        has_country = any(f.type == FieldType.COUNTRY for f in source_fields)
        for f in source_fields:
            self.fields[f.key], self.marked_required[f.key] = form_field(f, has_country=has_country)

    def submission(self) -> dict[str, str]:
        """The values to submit as a lead, keyed by field key, as text the engine reads.

        A box that is not ticked answers "false": a visitor who leaves an optional opt-in empty has declined.
        """
        values: dict[str, str] = {}
        for key, field in self.source_fields.items():
            value = self.cleaned_data.get(key)
            if isinstance(value, bool):
                values[key] = "true" if value else "false"
            elif isinstance(value, list):
                values[key] = (field.separator or ";").join(value)
            else:
                values[key] = "" if value is None else str(value)
        return values

    def show_problems(self, problems: Sequence[Mapping[str, Any]], clean: Mapping[str, Any]) -> None:
        """Put a plain sentence next to each field the visitor can correct; other problems are not shown."""
        country = next(
            (
                clean.get(k)
                for k, f in self.source_fields.items()
                if f.type == FieldType.COUNTRY and clean.get(k)
            ),
            None,
        )
        shown: set[tuple[str | None, str]] = set()
        for problem in problems:
            key = problem.get("field")
            field = self.source_fields.get(key) if key else None
            text = visitor_message(problem, field, country=str(country) if country else None)
            if text is None or (key, text) in shown:
                continue
            shown.add((key, text))
            self.add_error(key if field is not None else None, text)

    def rows(self) -> list[Row]:
        """The fields with how to lay each out."""
        rows = []
        for key in self.source_fields:
            bound = self[key]
            widget = bound.field.widget
            if isinstance(widget, forms.CheckboxInput):
                layout, anchor = "checkbox", bound.auto_id
            elif widget.use_fieldset:
                layout, anchor = "group", f"{bound.auto_id}_0"
            else:
                layout, anchor = "input", bound.auto_id
            rows.append(Row(bound, layout, self.marked_required[key], anchor))
        return rows
