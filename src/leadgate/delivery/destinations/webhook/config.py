"""Settings of a webhook destination: nothing beyond the URL and the signing secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadgate.delivery.destinations.base import ConfigError


@dataclass(frozen=True)
class Config:
    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> Config:
        unknown = sorted(set(raw or {}))
        if unknown:
            raise ConfigError(f"a webhook destination has no setting {', '.join(unknown)}")
        return cls()
