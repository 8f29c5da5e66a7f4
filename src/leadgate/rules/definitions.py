"""What the rule engine is told: a source's rules as plain, immutable values.

The Django layer compiles a Source and its configuration into a ``SourceRules`` (leadgate.sources.compile);
tests and benchmarks build one by hand. Nothing here knows about a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CONSENT = "consent"
    URL = "url"
    COUNTRY = "country"
    STATE = "state"
    PICKLIST = "picklist"
    MULTI_PICKLIST = "multi_picklist"


class DomainMode(StrEnum):
    """How a domain list applies to an email field.

    ``allow``: only domains on an allow list pass. ``exclude``: domains on the list are blocked. ``exempt``:
    domains on the list pass the field's allow and exclude lists whatever they say: the exceptions one
    source makes (Resolve → "Allow this domain for this source") without editing a shared list or turning
    the field into an allow-only one. Suppression lists still apply: those leads must never be accepted.
    """

    ALLOW = "allow"
    EXCLUDE = "exclude"
    EXEMPT = "exempt"


class DedupeKey(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    EMAIL_OR_PHONE = "email_or_phone"
    EMAIL_AND_PHONE = "email_and_phone"


class DedupeScope(StrEnum):
    SOURCE = "source"
    ALL = "all"


@dataclass(frozen=True)
class Picklist:
    """A shared list of canonical values with aliases (``{"Vice President": "VP"}``)."""

    key: str
    name: str
    values: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    case_sensitive: bool = False


@dataclass(frozen=True)
class DomainList:
    """Email domains with ``*`` wildcards (``*.edu``, ``competitor.*``).

    ``builtin`` names maintained data ("free" or "disposable") that is matched in addition to ``domains``.
    """

    key: str
    domains: tuple[str, ...] = ()
    builtin: str | None = None


@dataclass(frozen=True)
class DomainRule:
    domain_list: DomainList
    mode: DomainMode


@dataclass(frozen=True)
class SuppressionList:
    key: str
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # wildcards as in DomainList


@dataclass(frozen=True)
class FieldRule:
    """One field of a source and its type options (SPEC §1 "Field")."""

    key: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    default: str | None = None
    max_length: int | None = None
    # number
    min_value: float | None = None
    max_value: float | None = None
    integer: bool = False
    # picklist / multi_picklist
    picklist: Picklist | None = None
    allowed_values: tuple[str, ...] | None = None  # a subset of the picklist's canonical values
    separator: str = ";"  # multi_picklist: ";" or ","
    multi_mode: str = "all"  # multi_picklist: "all" values must match, or "any" one must
    # email
    domain_rules: tuple[DomainRule, ...] = ()
    check_deliverability: bool = False
    # country / state: clean value as the canonical English name ("name") or the ISO code ("alpha2")
    country_format: str = "name"


@dataclass(frozen=True)
class DedupeRule:
    key: DedupeKey = DedupeKey.EMAIL
    scope: DedupeScope = DedupeScope.SOURCE
    lookback_days: int | None = None


@dataclass(frozen=True)
class SourceRules:
    """Everything the engine needs to decide leads for one source."""

    slug: str
    fields: tuple[FieldRule, ...]
    live: bool = True
    dedupe: DedupeRule | None = None
    allocation: int | None = None
    suppression_lists: tuple[SuppressionList, ...] = ()
