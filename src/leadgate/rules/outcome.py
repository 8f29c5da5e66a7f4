"""What the rule engine answers: a Decision per lead, with every Problem it found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from leadgate.rules.catalogue import Status


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed check: a stable code for machines, a sentence for people."""

    code: str
    field: str | None  # the field key, None for lead-level checks (source not live, allocation)
    value: str | None
    message: str
    suggestion: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "field": self.field,
            "value": self.value,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True, slots=True)
class LeadInput:
    """One lead to decide.

    ``values`` are the values as submitted, keyed by field key (the caller maps headers and aliases).
    ``check_live`` is true for a lead that is arriving now (and for one that was rejected because the
    source was not live): leads received while the source was live are re-validated on reprocessing even
    after the source is closed, which is the whole point of the post-event resolve loop.
    """

    lead_id: str
    values: Mapping[str, str | None]
    check_live: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    lead_id: str
    status: Status
    disposition_code: str
    custom_reason: str
    problems: tuple[Problem, ...]
    clean: Mapping[str, Any]
    #: Normalised keys the dedupe rule looks at ("email" → "ann@example.com", "phone" → "+4930…").
    dedupe_keys: Mapping[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status is Status.ACCEPTED


class DedupeIndex(Protocol):
    """Where earlier accepted leads are looked up by dedupe key.

    Keys are strings such as ``"email:ann@example.com"``, ``"phone:+4930123456"`` or
    ``"email+phone:ann@example.com|+4930123456"``. ``find`` answers, for the keys it knows, the lead_id of
    the original lead. ``add`` is called for every lead the engine accepts, so an in-memory index carries
    dedupe across batches; a database-backed index may ignore it (the stored leads answer ``find``).
    """

    def find(self, keys: Iterable[str]) -> Mapping[str, str]: ...

    def add(self, key: str, lead_id: str) -> None: ...


class MemoryDedupeIndex:
    """A dedupe index in memory: for tests, benchmarks and one-off checks of a file."""

    def __init__(self) -> None:
        self._originals: dict[str, str] = {}

    def find(self, keys: Iterable[str]) -> Mapping[str, str]:
        originals = self._originals
        return {k: originals[k] for k in keys if k in originals}

    def add(self, key: str, lead_id: str) -> None:
        self._originals.setdefault(key, lead_id)
