"""Text that every database can store.

JSON can carry lone surrogates (``"\\ud800"``) and NUL characters; PostgreSQL refuses both, in text and in
jsonb. Input is made storable where it enters (the API's parsers) rather than failing at the database.
"""

from __future__ import annotations

from typing import Any


def storable_text(value: str) -> str:
    """``value`` with lone surrogates replaced by U+FFFD and NUL characters dropped."""
    if value.isascii() and "\x00" not in value:
        return value
    value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value.replace("\x00", "")


def storable(data: Any) -> Any:
    """Parsed JSON with every string, keys included, made storable."""
    if isinstance(data, str):
        return storable_text(data)
    if isinstance(data, list):
        return [storable(item) for item in data]
    if isinstance(data, dict):
        return {storable_text(str(k)): storable(v) for k, v in data.items()}
    return data
