"""Field mapping: a lead's clean values → the output fields a destination posts (SPEC §1, §6 `mapping`).

Each row fills one output field from a source field (through a list mapper when it names one) or from a
value, which may be a template naming fields in braces (``"{first_name} {last_name}"``). A destination
without rows posts every clean value under its field key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from leadgate.delivery.models import Destination, DestinationMapping
from leadgate.sources.models import ListMapperEntry, Source

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Row:
    to: str
    from_field: str = ""
    value: str = ""
    entries: Mapping[str, str] | None = None  # the list mapper: picklist value → output

    def output(self, clean: Mapping[str, Any]) -> Any:
        if not self.from_field:
            return _PLACEHOLDER.sub(lambda m: _text(clean.get(m.group(1))), self.value)
        value = clean.get(self.from_field)
        if self.entries is None or value is None:
            return value
        if isinstance(value, list):  # a multi-picklist: each value through the mapper
            return [self.entries.get(v, v) for v in value]
        # A value the mapper lacks goes out as it is; the destination page warns about it beforehand.
        return self.entries.get(value, value)


@dataclass(frozen=True)
class FieldMapping:
    rows: tuple[Row, ...]

    def fields(self, clean: Mapping[str, Any]) -> dict[str, Any]:
        if not self.rows:
            return {key: value for key, value in clean.items() if value is not None}
        return {row.to: row.output(clean) for row in self.rows}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def load_mapping(destination: Destination) -> FieldMapping:
    """The destination's rows with their mappers' entries, read once per destination and worker."""
    rows = list(DestinationMapping.objects.filter(destination=destination).select_related("mapper"))
    mapper_ids = {row.mapper_id for row in rows if row.mapper_id}
    entries: dict[int, dict[str, str]] = {mapper_id: {} for mapper_id in mapper_ids}
    for mapper_id, value, output in ListMapperEntry.objects.filter(mapper_id__in=mapper_ids).values_list(
        "mapper_id", "value__value", "output"
    ):
        entries[mapper_id][value] = output
    return FieldMapping(
        tuple(
            Row(
                to=row.to,
                from_field=row.from_field,
                value=row.value,
                entries=entries[row.mapper_id] if row.mapper_id else None,
            )
            for row in rows
        )
    )


def mapping_problems(rows: Iterable[Mapping[str, Any]], sources: Iterable[Source]) -> list[str]:
    """Why a mapping cannot be saved: a row naming a field no posting source has, or a missing mapper.

    ``rows`` are dicts with ``from``/``value``/``to``/``mapper`` (as in the definition file).
    """
    from leadgate.sources.models import ListMapper

    problems = []
    fields = {source.slug: set(source.fields.values_list("key", flat=True)) for source in sources}
    mappers = set(ListMapper.objects.values_list("key", flat=True))
    for i, row in enumerate(rows):
        where = f"mapping[{i}]"
        if not row.get("to"):
            problems.append(f"{where}: no output field (to)")
        if bool(row.get("from")) == bool(row.get("value")):
            problems.append(f"{where}: give either a field (from) or a value")
        if row.get("mapper") and row["mapper"] not in mappers:
            problems.append(f'{where}.mapper: no list mapper "{row["mapper"]}"')
        names = [row["from"]] if row.get("from") else _PLACEHOLDER.findall(row.get("value") or "")
        for slug, keys in fields.items():
            missing = [name for name in names if name not in keys]
            problems += [f'{where}: source "{slug}" has no field "{name}"' for name in missing]
    return problems


def unmapped_values(destination: Destination) -> list[tuple[str, str, list[str]]]:
    """Picklist values that a mapping row's list mapper has no entry for: (output field, mapper, values).

    Shown on the destination before the first post, so nobody learns of them from the CRM.
    """
    from leadgate.sources.services import unmapped_values as missing_entries

    rows = DestinationMapping.objects.filter(destination=destination, mapper__isnull=False)
    found = []
    for row in rows.select_related("mapper__picklist"):
        assert row.mapper is not None
        missing = missing_entries(row.mapper)
        if missing:
            found.append((row.to, row.mapper.key, missing))
    return found
