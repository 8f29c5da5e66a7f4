"""Shapes of the API's answers, for validation and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class ProblemItem(Schema):
    code: str
    field: str | None = None
    value: str | None = None
    message: str
    suggestion: str | None = None


class LeadOutcome(Schema):
    lead_id: str
    status: str
    disposition_code: str
    custom_reason: str
    problems: list[ProblemItem]
    external_id: str | None = None


class LeadOut(Schema):
    lead_id: str
    source: str
    status: str
    disposition_code: str
    custom_reason: str
    problems: list[ProblemItem]
    values: dict[str, Any]
    clean: dict[str, Any]
    received_via: str
    external_id: str
    submitted_at: dt.datetime
    processed_at: dt.datetime | None
    updated_at: dt.datetime
    first_accepted_at: dt.datetime | None


class LeadEventOut(Schema):
    at: dt.datetime
    kind: str
    actor: str
    user: str | None
    status_before: str
    status_after: str
    code_before: str
    code_after: str
    changes: dict[str, Any]
    note: str


class DeliveryOut(Schema):
    """One lead × one destination (SPEC §1 "Delivery")."""

    message_id: str  # the `webhook-id`; name it to retry this one delivery
    lead_id: str
    source: str
    destination: str
    state: str  # pending | delivered | retrying | dead | rejected
    attempts: int
    next_attempt_at: dt.datetime | None  # only while it waits (pending, retrying)
    external_id: str
    last_status: int | None
    last_error: str
    delivered_at: dt.datetime | None


class LeadDetail(LeadOut):
    history: list[LeadEventOut]
    deliveries: list[DeliveryOut] = []


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class SourceOut(Schema):
    slug: str
    name: str
    kind: str
    status: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    timezone: str
    allocation: int | None
    review: bool
    form_enabled: bool
    form_url: str | None
    callback_url: str
    counts: dict[str, int]


class FieldOut(Schema):
    key: str
    label: str
    type: str
    required: bool
    position: int
    aliases: list[str]
    default: str
    pii: bool
    max_length: int | None
    picklist: str | None
    allowed_values: list[str] | None


class SummaryOut(Schema):
    source: str
    total: int
    status: dict[str, int]
    dispositions: dict[str, int]
    deliveries: dict[str, int]


class ReprocessIn(Schema):
    status: list[str] | None = None
    codes: list[str] | None = None


class ReprocessOut(Schema):
    source: str
    reprocessed: int
    changed: int
    status: dict[str, int]


class LeadEditIn(Schema):
    values: dict[str, str | int | float | bool | None]


class RejectIn(Schema):
    reason: str


class ApplyOut(Schema):
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class DispositionOut(Schema):
    code: str
    status: str
    title: str
    when: str
    action: str


class PicklistOut(Schema):
    key: str
    name: str
    case_sensitive: bool
    values: list[str]
    aliases: dict[str, str]
    mappers: list[str]


class ValuesIn(Schema):
    values: list[str]


class AliasesIn(Schema):
    aliases: dict[str, str]


class MapperOut(Schema):
    key: str
    name: str
    picklist: str
    entries: dict[str, str]
    unmapped: list[str]


class EntriesIn(Schema):
    entries: dict[str, str]


class DomainListOut(Schema):
    key: str
    name: str
    builtin: str
    domains: list[str]


class DomainsIn(Schema):
    domains: list[str]


class SuppressionListOut(Schema):
    key: str
    name: str
    emails: list[str]
    domains: list[str]


class SuppressionIn(Schema):
    emails: list[str] = []
    domains: list[str] = []


class KeyOut(Schema):
    id: int
    kind: str
    name: str
    prefix: str
    source: str | None
    user: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class KeyCreateIn(Schema):
    name: str
    source: str | None = None


class KeyCreatedOut(KeyOut):
    key: str


class DestinationHealth(Schema):
    status: str  # delivering | failing | paused | disabled
    failures_in_a_row: int
    paused_until: dt.datetime | None
    pause_reason: str


class DestinationOut(Schema):
    key: str
    name: str
    kind: str
    url: str  # scheme and host only: paths often carry tokens
    enabled: bool
    health: DestinationHealth
    counts: dict[str, int]  # deliveries by state, every state present
    sources: list[str]


class MappingRowOut(Schema):
    """One output field, as the definition file writes it."""

    from_: str | None = Field(None, alias="from")
    value: str | None = None
    to: str
    mapper: str | None = None


class DestinationDetail(DestinationOut):
    mapping: list[MappingRowOut]
    warnings: list[str]


class ExchangeOut(Schema):
    """One HTTP request and its answer, secrets redacted."""

    at: dt.datetime
    method: str
    url: str
    request_headers: dict[str, Any]
    request_body: str
    status: int | None
    reason: str
    response_body: str
    duration: float
    error: str


class CheckOut(Schema):
    ok: bool
    message: str
    warnings: list[str]
    external_id: str
    exchanges: list[ExchangeOut]


class TestLeadIn(Schema):
    source: str | None = None  # a made-up lead from this source's fields (default: the first source)
    lead_id: str | None = None  # or this real lead


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class RetryIn(Schema):
    message_ids: list[str] | None = None  # none: every dead delivery of the destination


class RetryOut(Schema):
    retried: int


class AttemptOut(Schema):
    number: int
    at: dt.datetime
    verdict: str  # delivered | retry | refused
    reason: str
    external_id: str
    duration: float
    exchanges: list[ExchangeOut]


class LeadDeliveryOut(DeliveryOut):
    attempt_log: list[AttemptOut]
