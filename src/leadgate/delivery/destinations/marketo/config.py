"""Settings of a Marketo destination.

The destination URL is the instance's REST base (``https://123-ABC-456.mktorest.com``: identity at
``{url}/identity``, REST at ``{url}/rest``) and the secret is the custom service's client secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadgate.delivery.destinations.base import ConfigError

SETTINGS = ("client_id", "lookup_field", "partition_name", "program_id", "program_status")
# A REST API field name as Describe Leads lists it: "email", "externalId__c", "Custom_Score".
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Config:
    client_id: str
    lookup_field: str = "email"  # the field Sync Leads deduplicates on (Marketo's default is email too)
    partition_name: str = ""  # the lead partition new leads go to; empty: the default partition
    program_id: int | None = None  # add each delivered lead to this program…
    program_status: str = ""  # …with this status ("Registered"), one of the program channel's statuses

    @classmethod
    def load(cls, raw: Mapping[str, Any] | None) -> Config:
        """Read ``Destination.config``; raises `ConfigError` with one sentence per problem."""
        raw = dict(raw or {})
        problems: list[str] = []
        unknown = sorted(set(raw) - set(SETTINGS))
        if unknown:
            problems.append(f"A Marketo destination has no setting {', '.join(unknown)}.")

        client_id = _text(raw.get("client_id"))
        if not client_id:
            problems.append(
                "The client_id is required: the Client ID of the Marketo custom service (LaunchPoint)."
            )

        lookup_field = _text(raw.get("lookup_field")) or "email"
        if not _FIELD_NAME.fullmatch(lookup_field):
            problems.append(f'The lookup_field "{lookup_field}" is not a Marketo field name (like email).')
        elif lookup_field.lower() == "id":
            # Sync Leads accepts the Marketo id only with updateOnly; leadgate creates or updates.
            problems.append(
                "The lookup_field cannot be id: Marketo matches on id only to update, never to create."
            )

        program_id: int | None = None
        if raw.get("program_id") not in (None, ""):
            program_id = _positive_int(raw["program_id"])
            if program_id is None:
                problems.append(
                    "The program_id must be a positive whole number (the program's id in Marketo)."
                )
        program_status = _text(raw.get("program_status"))
        if program_id is not None and not program_status:
            problems.append('The program_status is required with a program_id, e.g. "Registered".')
        if program_status and raw.get("program_id") in (None, ""):
            problems.append("The program_status needs a program_id: the program to add the leads to.")

        if problems:
            raise ConfigError(" ".join(problems))
        return cls(
            client_id=client_id,
            lookup_field=lookup_field,
            partition_name=_text(raw.get("partition_name")),
            program_id=program_id,
            program_status=program_status,
        )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _positive_int(value: Any) -> int | None:
    """The value as a positive int (an int or a string of digits), or None."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
