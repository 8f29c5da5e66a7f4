"""Request bodies as the API's endpoints see them: parsed JSON with storable text (leadgate.lib.text)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from leadgate.lib.text import storable, storable_json


class StorableTextParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return storable_json(request.body)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> Any:
        parsed = super().parse_querydict(data, list_fields, request)
        return storable(parsed)


def parse_json(body: bytes) -> Any:
    """What the intake endpoint parses by hand: the same storable JSON."""
    return storable_json(body)
