"""Settings of a HubSpot destination: the API base, the object type and the unique property to upsert by.

The private app token is the destination's secret. ``base_url`` only changes for a proxy or a test server; the
destination's URL field, when set, wins over it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from leadgate.delivery.destinations.base import ConfigError

DEFAULT_BASE_URL = "https://api.hubapi.com"
# HubSpot's internal property names: lower-case letters, digits and underscores, starting with a letter.
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")
# "contacts", "companies", a custom object's "p12345_cars" or its type id "2-123456".
_OBJECT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,99}|\d+-\d+")


@dataclass(frozen=True)
class Config:
    base_url: str = DEFAULT_BASE_URL
    id_property: str = "email"
    object_type: str = "contacts"

    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> Config:
        """The settings from ``Destination.config``; blank ones take their default."""
        raw = dict(raw or {})
        problems: list[str] = []
        unknown = sorted(set(raw) - set(_DEFAULTS))
        if unknown:
            problems.append(f"A HubSpot destination has no setting {', '.join(unknown)}.")
        values = dict(_DEFAULTS)
        for name in _DEFAULTS:
            value = raw.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                problems.append(f"The setting {name} must be text, not {type(value).__name__}.")
            elif value.strip():
                values[name] = value.strip()
        base_url = values["base_url"].rstrip("/")
        problem = _url_problem(base_url)
        if problem:
            problems.append(problem)
        if not _PROPERTY_NAME.fullmatch(values["id_property"]):
            problems.append(
                f'The ID property "{values["id_property"]}" is not a HubSpot property name: use its internal '
                'name (lower-case letters, digits and underscores, starting with a letter), such as "email".'
            )
        if not _OBJECT_TYPE.fullmatch(values["object_type"]):
            problems.append(
                f'The object type "{values["object_type"]}" is not a HubSpot object type such as "contacts" '
                'or "2-123456".'
            )
        if problems:
            raise ConfigError(" ".join(problems))
        return cls(base_url=base_url, id_property=values["id_property"], object_type=values["object_type"])


_DEFAULTS = {"base_url": DEFAULT_BASE_URL, "id_property": "email", "object_type": "contacts"}


def _url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f'The base URL "{url}" is not a URL.'
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f'The base URL "{url}" must be an http:// or https:// URL such as {DEFAULT_BASE_URL}.'
    if parts.query or parts.fragment:
        return f'The base URL "{url}" must not have a query or a fragment.'
    return ""
