"""Settings of a Salesforce destination.

The destination's URL is the org's My Domain login URL (``https://acme.my.salesforce.com``), where the token
endpoint lives; the secret is the connected app's client secret. Everything else is here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadgate.delivery.destinations.base import ConfigError

# sObject Collections upsert exists from API version 46.0 on.
MIN_API_VERSION = 46
_API_VERSION = re.compile(r"v(\d{2,3})\.\d")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CUSTOM_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*__c")


@dataclass(frozen=True)
class Config:
    client_id: str  # the connected app's consumer key
    api_version: str = "v62.0"
    object: str = "Lead"
    # A custom text field marked External ID (and Unique) that holds the LeadID: upserting by it means a retry
    # updates the record the first attempt created instead of creating a second one.
    external_id_field: str = "LeadGate_Lead_ID__c"

    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> Config:
        raw = dict(raw or {})
        unknown = sorted(set(raw) - {"client_id", "api_version", "object", "external_id_field"})
        if unknown:
            raise ConfigError(f"a Salesforce destination has no setting {', '.join(unknown)}")
        values = {"client_id": ""}  # missing: said below in a sentence, not a TypeError
        for name, value in raw.items():
            if not isinstance(value, str):
                raise ConfigError(f"the Salesforce setting {name} must be text")
            values[name] = value.strip()
        config = cls(**values)
        config._check()
        return config

    def _check(self) -> None:
        if not self.client_id:
            raise ConfigError("a Salesforce destination needs the connected app's consumer key (client_id)")
        version = _API_VERSION.fullmatch(self.api_version)
        if not version:
            raise ConfigError(f'the API version "{self.api_version}" should look like v62.0')
        if int(version.group(1)) < MIN_API_VERSION:
            raise ConfigError(
                f"API version {self.api_version} is too old: upserting collections needs "
                f"v{MIN_API_VERSION}.0 or later"
            )
        if not _API_NAME.fullmatch(self.object):
            raise ConfigError(
                f'"{self.object}" is not a Salesforce object API name (such as Lead or Prospect__c)'
            )
        if self.external_id_field.lower() == "id":
            raise ConfigError(
                "the external-id field cannot be the record Id: use a custom field that holds the LeadID"
            )
        if not _CUSTOM_FIELD.fullmatch(self.external_id_field):
            raise ConfigError(
                f'"{self.external_id_field}" is not a custom field API name ending in __c; the LeadID needs '
                "a custom text field marked External ID, such as LeadGate_Lead_ID__c"
            )
