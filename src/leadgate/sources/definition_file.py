"""Sources as code: `leadgate apply FILE.yaml` and `leadgate export` (SPEC §6 "Definition file").

Each item kind has three small functions that agree on one canonical dict:

- ``_read_<kind>`` checks an item from the file and returns its canonical form (defaults filled in), adding
  ``path: message`` errors instead of raising, so one run reports every problem in the file;
- ``_dump_<kind>`` gives the canonical form of what the database holds now;
- ``_write_<kind>`` makes the database hold a canonical form.

An item is "unchanged" when its canonical form equals the database's, so applying a file twice, or applying
what `export` wrote, changes nothing. Nothing is written unless the whole file is valid.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction

from leadgate.delivery.destinations import transport_class
from leadgate.delivery.models import Destination, DestinationMapping
from leadgate.rules import definitions as d
from leadgate.rules.picklists import PicklistMatcher
from leadgate.rules.picklists import validate as validate_picklist
from leadgate.sources.models import (
    DomainList,
    Field,
    FieldDomainList,
    ListMapper,
    ListMapperEntry,
    Picklist,
    PicklistAlias,
    PicklistValue,
    RulesVersion,
    Source,
    SuppressionList,
)

KINDS = ("picklists", "list_mappers", "domain_lists", "suppression_lists", "destinations", "sources")
_KIND_NAME = {
    "picklists": "picklist",
    "list_mappers": "list_mapper",
    "domain_lists": "domain_list",
    "suppression_lists": "suppression_list",
    "destinations": "destination",
    "sources": "source",
}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_HTTP_URL_RE = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)


class DefinitionError(Exception):
    """The file is not valid; ``errors`` holds one ``path: message`` line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if len(errors) == 1 else f"{len(errors)} errors, first: {errors[0]}")
        self.errors = errors


@dataclass
class ApplyResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


# --- reading and checking -------------------------------------------------------------------------------


class _Reader:
    """Checks one item's keys and values, collecting errors under the item's path."""

    def __init__(self, raw: object, path: str, errors: list[str], allowed: set[str], required: set[str]):
        self.path = path
        self.errors = errors
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if not isinstance(raw, Mapping):
            self.error("", "must be a mapping of keys to values")
            return
        for key in self.raw:
            if key not in allowed:
                self.error(str(key), f"unknown key (expected one of: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if self.raw.get(key) in (None, ""):
                self.error(key, "is required")

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.path}{'.' + key if key else ''}: {message}")

    def str(self, key: str, default: str = "", pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        value = self.raw.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(key, "must be text")
            return default
        text = str(value).strip()
        if pattern and text and not pattern.match(text):
            self.error(key, f'"{text}" {hint}')
        return text

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.str(key, default)
        if value not in choices:
            self.error(key, f'"{value}" is not one of: {", ".join(choices)}')
            return default
        return value

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, "must be true or false")
            return default
        return value

    def int(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(key, "must be a whole number of 0 or more")
            return None
        return value

    def number(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(key, "must be a number")
            return None
        return float(value)

    def str_list(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            self.error(key, "must be a list of text values")
            return []
        return [str(v).strip() for v in value]

    def str_map(self, key: str) -> dict[str, str]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()
        ):
            self.error(key, "must be a mapping of text to text")
            return {}
        return {str(k).strip(): str(v).strip() for k, v in value.items()}

    def date(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            self.error(key, f'"{value}" is not a date (use YYYY-MM-DD)')
            return None


def _read_picklist(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(raw, path, errors, {"key", "name", "case_sensitive", "values", "aliases"}, {"key"})
    key = r.str("key", pattern=_KEY_RE, hint="must be snake_case")
    item = {
        "key": key,
        "name": r.str("name") or key.replace("_", " ").title(),
        "case_sensitive": r.bool("case_sensitive"),
        "values": r.str_list("values"),
        "aliases": r.str_map("aliases"),
    }
    picklist = d.Picklist(
        key=key,
        name=item["name"],
        values=tuple(item["values"]),
        aliases=item["aliases"],
        case_sensitive=item["case_sensitive"],
    )
    for message in validate_picklist(picklist):
        r.error("", message)
    return item


def _read_list_mapper(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(raw, path, errors, {"key", "name", "picklist", "entries"}, {"key", "picklist"})
    return {
        "key": r.str("key", pattern=_KEY_RE, hint="must be snake_case"),
        "name": r.str("name"),
        "picklist": r.str("picklist"),
        "entries": r.str_map("entries"),
    }


def _read_domain_list(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(raw, path, errors, {"key", "name", "builtin", "domains"}, {"key"})
    item = {
        "key": r.str("key", pattern=_KEY_RE, hint="must be snake_case"),
        "name": r.str("name"),
        "builtin": r.choice("builtin", ("", "free", "disposable"), ""),
        "domains": [dom.lower() for dom in r.str_list("domains")],
    }
    if not item["builtin"] and not item["domains"] and "domains" not in r.raw:
        r.error("", "needs builtin (free or disposable) or a list of domains")
    return item


def _read_suppression_list(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(raw, path, errors, {"key", "name", "emails", "domains"}, {"key"})
    return {
        "key": r.str("key", pattern=_KEY_RE, hint="must be snake_case"),
        "name": r.str("name"),
        "emails": [e.lower() for e in r.str_list("emails")],
        "domains": [dom.lower() for dom in r.str_list("domains")],
    }


def _read_destination(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(
        raw,
        path,
        errors,
        {"key", "name", "kind", "url", "secret_env", "enabled", "config", "mapping"},
        {"key", "kind"},
    )
    config = r.raw.get("config") or {}
    if not isinstance(config, Mapping):
        r.error("config", "must be a mapping")
        config = {}
    mapping = []
    rows = r.raw.get("mapping") or []
    if not isinstance(rows, list):
        r.error("mapping", "must be a list")
        rows = []
    for i, row in enumerate(rows):
        m = _Reader(row, f"{path}.mapping[{i}]", errors, {"from", "value", "to", "mapper"}, {"to"})
        entry = {"from": m.str("from"), "value": m.str("value"), "to": m.str("to"), "mapper": m.str("mapper")}
        if bool(entry["from"]) == bool(entry["value"]):
            m.error("", "needs exactly one of from (a field key) or value (a static value)")
        mapping.append(entry)
    return {
        "key": r.str("key", pattern=_KEY_RE, hint="must be snake_case"),
        "name": r.str("name"),
        "kind": r.choice("kind", tuple(Destination.Kind.values), "webhook"),
        "url": r.str("url"),
        "secret_env": r.str("secret_env"),
        "enabled": r.bool("enabled", True),
        "config": dict(config),
        "mapping": mapping,
    }


#: A field's keys in a definition file, in the order `export` writes them (the web UI names inputs by them).
FIELD_KEYS = (
    "key",
    "label",
    "type",
    "required",
    "aliases",
    "default",
    "pii",
    "max_length",
    "min",
    "max",
    "integer",
    "picklist",
    "allowed_values",
    "separator",
    "mode",
    "domain_lists",
    "check_deliverability",
    "country_format",
)


def _read_field(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(raw, path, errors, set(FIELD_KEYS), {"key"})
    key = r.str("key", pattern=_KEY_RE, hint="must be snake_case")
    field_type = r.choice("type", tuple(t.value for t in d.FieldType), "text")
    domain_lists = []
    for i, rule in enumerate(r.raw.get("domain_lists") or []):
        dr = _Reader(rule, f"{path}.domain_lists[{i}]", errors, {"list", "mode"}, {"list", "mode"})
        domain_lists.append(
            {
                "list": dr.str("list"),
                "mode": dr.choice("mode", tuple(m.value for m in d.DomainMode), "exclude"),
            }
        )
    item = {
        "key": key,
        "label": r.str("label") or key.replace("_", " ").capitalize(),
        "type": field_type,
        "required": r.bool("required"),
        "aliases": r.str_list("aliases"),
        "default": r.str("default"),
        "pii": r.bool("pii", field_type in ("email", "phone")),
        "max_length": r.int("max_length"),
        "min": r.number("min"),
        "max": r.number("max"),
        "integer": r.bool("integer"),
        "picklist": r.str("picklist"),
        "allowed_values": r.str_list("allowed_values") or None,
        "separator": r.choice("separator", (";", ","), ";"),
        "mode": r.choice("mode", ("all", "any"), "all"),
        "domain_lists": domain_lists,
        "check_deliverability": r.bool("check_deliverability"),
        "country_format": r.choice("country_format", ("name", "alpha2"), "name"),
    }
    if field_type in ("picklist", "multi_picklist") and not item["picklist"]:
        r.error("picklist", f"is required for a {field_type} field")
    if item["picklist"] and field_type not in ("picklist", "multi_picklist"):
        r.error("picklist", f"only applies to picklist fields, not {field_type}")
    if domain_lists and field_type != "email":
        r.error("domain_lists", "only applies to email fields")
    return item


_SOURCE_KEYS = {
    "slug",
    "name",
    "kind",
    "status",
    "starts_on",
    "ends_on",
    "timezone",
    "dedupe",
    "allocation",
    "review",
    "form",
    "callback_url",
    "suppression_lists",
    "destinations",
    "fields",
}


def _read_source(raw: object, path: str, errors: list[str]) -> dict[str, Any]:
    r = _Reader(raw, path, errors, _SOURCE_KEYS, {"slug"})
    slug = r.str("slug", pattern=_SLUG_RE, hint="must use lower-case letters, digits and -")
    timezone = r.str("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        r.error("timezone", f'"{timezone}" is not a time zone (e.g. Europe/Berlin)')
    dedupe = None
    if r.raw.get("dedupe") is not None:
        dd = _Reader(r.raw["dedupe"], f"{path}.dedupe", errors, {"key", "scope", "lookback_days"}, {"key"})
        dedupe = {
            "key": dd.choice("key", tuple(k.value for k in d.DedupeKey), "email"),
            "scope": dd.choice("scope", tuple(s.value for s in d.DedupeScope), "source"),
            "lookback_days": dd.int("lookback_days"),
        }
    fields = []
    raw_fields = r.raw.get("fields") or []
    if not isinstance(raw_fields, list):
        r.error("fields", "must be a list")
        raw_fields = []
    for i, raw_field in enumerate(raw_fields):
        fields.append(_read_field(raw_field, f"{path}.fields[{i}]", errors))
    _check_unique([f["key"] for f in fields], f"{path}.fields", "field key", errors)
    item = {
        "slug": slug,
        "name": r.str("name") or slug,
        "kind": r.choice("kind", tuple(Source.Kind.values), "event"),
        "status": r.choice("status", tuple(Source.Status.values), "draft"),
        "starts_on": r.date("starts_on"),
        "ends_on": r.date("ends_on"),
        "timezone": timezone,
        "dedupe": dedupe,
        "allocation": r.int("allocation"),
        "review": r.bool("review"),
        "form": r.bool("form"),
        "callback_url": r.str(
            "callback_url", pattern=_HTTP_URL_RE, hint="must be an http:// or https:// URL"
        ),
        "suppression_lists": sorted(r.str_list("suppression_lists")),
        "destinations": sorted(r.str_list("destinations")),
        "fields": fields,
    }
    if item["starts_on"] and item["ends_on"] and item["ends_on"] < item["starts_on"]:
        r.error("ends_on", "is before starts_on")
    return item


_READERS: dict[str, Callable[[object, str, list[str]], dict[str, Any]]] = {
    "picklists": _read_picklist,
    "list_mappers": _read_list_mapper,
    "domain_lists": _read_domain_list,
    "suppression_lists": _read_suppression_list,
    "destinations": _read_destination,
    "sources": _read_source,
}


def _check_unique(keys: list[str], path: str, what: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key and key in seen:
            errors.append(f'{path}[{i}]: {what} "{key}" appears twice')
        seen.add(key)


def _key_of(kind: str, item: Mapping[str, Any]) -> str:
    return str(item["slug"] if kind == "sources" else item["key"])


def read_definition(text: str) -> dict[str, list[dict[str, Any]]]:
    """Parse and check a definition file; raise DefinitionError listing every problem."""
    try:
        data = yaml.safe_load(text)
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. a date like 2020-13-45
        raise DefinitionError([f"not valid YAML ({exc})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError([f"{where}not valid YAML ({problem})"]) from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise DefinitionError(["the file must be a mapping with lists such as sources: and picklists:"])
    errors: list[str] = []
    for key in data:
        if key not in KINDS:
            errors.append(f"{key}: unknown section (expected one of: {', '.join(KINDS)})")
    items: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        raw_items = data.get(kind) or []
        if not isinstance(raw_items, list):
            errors.append(f"{kind}: must be a list")
            raw_items = []
        items[kind] = [_READERS[kind](raw, f"{kind}[{i}]", errors) for i, raw in enumerate(raw_items)]
        _check_unique([_key_of(kind, it) for it in items[kind]], kind, _KIND_NAME[kind], errors)
    _check_references(items, errors)
    if errors:
        raise DefinitionError(errors)
    return items


def _check_references(items: dict[str, list[dict[str, Any]]], errors: list[str]) -> None:
    """Every name an item refers to must exist, in the file or already in the database."""
    picklists = {p["key"]: p for p in items["picklists"]}
    for p in Picklist.objects.exclude(key__in=picklists).prefetch_related("values", "aliases__value"):
        picklists[p.key] = _dump_picklist(p)
    mappers = {m["key"] for m in items["list_mappers"]} | set(
        ListMapper.objects.values_list("key", flat=True)
    )
    domain_lists = {x["key"] for x in items["domain_lists"]} | set(
        DomainList.objects.values_list("key", flat=True)
    )
    suppressions = {x["key"] for x in items["suppression_lists"]} | set(
        SuppressionList.objects.values_list("key", flat=True)
    )
    destinations = {x["key"]: x for x in items["destinations"]}
    for dest in Destination.objects.exclude(key__in=destinations).prefetch_related("mapping__mapper"):
        destinations[dest.key] = _dump_destination(dest)

    def matcher(key: str) -> PicklistMatcher:
        p = picklists[key]
        return PicklistMatcher(
            d.Picklist(p["key"], p["name"], tuple(p["values"]), p["aliases"], p["case_sensitive"])
        )

    for i, m in enumerate(items["list_mappers"]):
        if m["picklist"] not in picklists:
            errors.append(f'list_mappers[{i}].picklist: no picklist "{m["picklist"]}"')
            continue
        match = matcher(m["picklist"])
        for value in m["entries"]:
            if match.match(value) != value:
                errors.append(
                    f'list_mappers[{i}].entries: "{value}" is not a value of picklist "{m["picklist"]}"'
                )
    for i, dest in enumerate(items["destinations"]):
        try:  # each kind reads its own settings (delivery/destinations/<kind>/config.py)
            transport_class(dest["kind"]).config_class(dest["config"])
        except ValueError as exc:
            errors.append(f"destinations[{i}].config: {exc}")
        for j, row in enumerate(dest["mapping"]):
            if row["mapper"] and row["mapper"] not in mappers:
                errors.append(f'destinations[{i}].mapping[{j}].mapper: no list mapper "{row["mapper"]}"')
    for i, src in enumerate(items["sources"]):
        path = f"sources[{i}]"
        field_keys = {f["key"] for f in src["fields"]}
        for j, key in enumerate(src["suppression_lists"]):
            if key not in suppressions:
                errors.append(f'{path}.suppression_lists[{j}]: no suppression list "{key}"')
        for j, key in enumerate(src["destinations"]):
            if key not in destinations:
                errors.append(f'{path}.destinations[{j}]: no destination "{key}"')
                continue
            for row in destinations[key]["mapping"]:
                if row["from"] and row["from"] not in field_keys:
                    errors.append(
                        f'{path}.destinations[{j}]: destination "{key}" maps field "{row["from"]}",'
                        " which this source does not have"
                    )
        for j, f in enumerate(src["fields"]):
            fpath = f"{path}.fields[{j}]"
            if f["picklist"]:
                if f["picklist"] not in picklists:
                    errors.append(f'{fpath}.picklist: no picklist "{f["picklist"]}"')
                elif f["allowed_values"]:
                    match = matcher(f["picklist"])
                    for value in f["allowed_values"]:
                        if match.match(value) != value:
                            errors.append(
                                f'{fpath}.allowed_values: "{value}" is not a value of '
                                f'picklist "{f["picklist"]}"'
                            )
            for k, rule in enumerate(f["domain_lists"]):
                if rule["list"] not in domain_lists:
                    errors.append(f'{fpath}.domain_lists[{k}].list: no domain list "{rule["list"]}"')
        if src["dedupe"]:
            types = {f["type"] for f in src["fields"]}
            needs = {"email": {"email"}, "phone": {"phone"}}.get(src["dedupe"]["key"], {"email", "phone"})
            if not needs <= types:
                errors.append(
                    f"{path}.dedupe.key: {src['dedupe']['key']} needs a field of type "
                    f"{' and '.join(sorted(needs))}"
                )


# --- the database's canonical form ------------------------------------------------------------------------


def _dump_picklist(p: Picklist) -> dict[str, Any]:
    return {
        "key": p.key,
        "name": p.name,
        "case_sensitive": p.case_sensitive,
        "values": [v.value for v in p.values.all()],
        "aliases": {a.alias: a.value.value for a in p.aliases.all()},
    }


def _dump_list_mapper(m: ListMapper) -> dict[str, Any]:
    return {
        "key": m.key,
        "name": m.name,
        "picklist": m.picklist.key,
        "entries": {e.value.value: e.output for e in m.entries.all()},
    }


def _dump_domain_list(x: DomainList) -> dict[str, Any]:
    return {"key": x.key, "name": x.name, "builtin": x.builtin, "domains": list(x.domains)}


def _dump_suppression_list(x: SuppressionList) -> dict[str, Any]:
    return {"key": x.key, "name": x.name, "emails": list(x.emails), "domains": list(x.domains)}


def _dump_destination(x: Destination) -> dict[str, Any]:
    return {
        "key": x.key,
        "name": x.name,
        "kind": x.kind,
        "url": x.url,
        "secret_env": x.secret_env,
        "enabled": x.enabled,
        "config": dict(x.config),
        "mapping": [
            {"from": m.from_field, "value": m.value, "to": m.to, "mapper": m.mapper.key if m.mapper else ""}
            for m in x.mapping.all()
        ],
    }


def _dump_field(f: Field) -> dict[str, Any]:
    return {
        "key": f.key,
        "label": f.label,
        "type": f.type,
        "required": f.required,
        "aliases": list(f.aliases),
        "default": f.default,
        "pii": f.pii,
        "max_length": f.max_length,
        "min": f.min_value,
        "max": f.max_value,
        "integer": f.integer,
        "picklist": f.picklist.key if f.picklist else "",
        "allowed_values": list(f.allowed_values) if f.allowed_values else None,
        "separator": f.separator,
        "mode": f.multi_mode,
        "domain_lists": [{"list": r.domain_list.key, "mode": r.mode} for r in f.domain_rules.all()],
        "check_deliverability": f.check_deliverability,
        "country_format": f.country_format,
    }


def _dump_source(s: Source) -> dict[str, Any]:
    return {
        "slug": s.slug,
        "name": s.name,
        "kind": s.kind,
        "status": s.status,
        "starts_on": s.starts_on.isoformat() if s.starts_on else None,
        "ends_on": s.ends_on.isoformat() if s.ends_on else None,
        "timezone": s.timezone,
        "dedupe": (
            {"key": s.dedupe_key, "scope": s.dedupe_scope, "lookback_days": s.dedupe_lookback_days}
            if s.dedupe_key
            else None
        ),
        "allocation": s.allocation,
        "review": s.review,
        "form": s.form_enabled,
        "callback_url": s.callback_url,
        "suppression_lists": sorted(x.key for x in s.suppression_lists.all()),
        "destinations": sorted(x.key for x in s.destinations.all()),
        "fields": [_dump_field(f) for f in s.fields.all()],
    }


_QUERIES: dict[str, Callable[[], Any]] = {
    "picklists": lambda: Picklist.objects.prefetch_related("values", "aliases__value"),
    "list_mappers": lambda: ListMapper.objects.select_related("picklist").prefetch_related("entries__value"),
    "domain_lists": lambda: DomainList.objects.all(),
    "suppression_lists": lambda: SuppressionList.objects.all(),
    "destinations": lambda: Destination.objects.prefetch_related("mapping__mapper"),
    "sources": lambda: Source.objects.prefetch_related(
        "suppression_lists", "destinations", "fields__picklist", "fields__domain_rules__domain_list"
    ),
}
_DUMPERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "picklists": _dump_picklist,
    "list_mappers": _dump_list_mapper,
    "domain_lists": _dump_domain_list,
    "suppression_lists": _dump_suppression_list,
    "destinations": _dump_destination,
    "sources": _dump_source,
}


# --- writing ----------------------------------------------------------------------------------------------


def _write_picklist(item: dict[str, Any], obj: Picklist | None) -> None:
    p = obj or Picklist(key=item["key"])
    p.name, p.case_sensitive = item["name"], item["case_sensitive"]
    p.save()
    # Keep the rows of values that stay, so list mapper entries that point at them survive.
    existing = {v.value: v for v in p.values.all()}
    p.values.exclude(value__in=item["values"]).delete()
    rows = {}
    for position, value in enumerate(item["values"]):
        row = existing.get(value) or PicklistValue(picklist=p, value=value)
        row.position = position
        row.save()
        rows[value] = row
    p.aliases.all().delete()
    PicklistAlias.objects.bulk_create(
        PicklistAlias(picklist=p, alias=alias, value=rows[value]) for alias, value in item["aliases"].items()
    )


def _write_list_mapper(item: dict[str, Any], obj: ListMapper | None) -> None:
    m = obj or ListMapper(key=item["key"])
    m.name = item["name"]
    m.picklist = Picklist.objects.get(key=item["picklist"])
    m.save()
    m.entries.all().delete()
    values = {v.value: v for v in m.picklist.values.all()}
    ListMapperEntry.objects.bulk_create(
        ListMapperEntry(mapper=m, value=values[value], output=output)
        for value, output in item["entries"].items()
    )


def _write_domain_list(item: dict[str, Any], obj: DomainList | None) -> None:
    x = obj or DomainList(key=item["key"])
    x.name, x.builtin, x.domains = item["name"], item["builtin"], item["domains"]
    x.save()


def _write_suppression_list(item: dict[str, Any], obj: SuppressionList | None) -> None:
    x = obj or SuppressionList(key=item["key"])
    x.name, x.emails, x.domains = item["name"], item["emails"], item["domains"]
    x.save()


def _write_destination(item: dict[str, Any], obj: Destination | None) -> None:
    x = obj or Destination(key=item["key"])
    for attr in ("name", "kind", "url", "secret_env", "enabled", "config"):
        setattr(x, attr, item[attr])
    x.save()
    x.mapping.all().delete()
    mappers = {m.key: m for m in ListMapper.objects.all()}
    DestinationMapping.objects.bulk_create(
        DestinationMapping(
            destination=x,
            position=i,
            from_field=row["from"],
            value=row["value"],
            to=row["to"],
            mapper=mappers.get(row["mapper"]) if row["mapper"] else None,
        )
        for i, row in enumerate(item["mapping"])
    )


def _write_source(item: dict[str, Any], obj: Source | None) -> None:
    s = obj or Source(slug=item["slug"])
    for attr in ("name", "kind", "status", "timezone", "allocation", "review", "callback_url"):
        setattr(s, attr, item[attr])
    s.form_enabled = item["form"]  # a callback URL gets its secret when saved; secrets never come from files
    s.starts_on = dt.date.fromisoformat(item["starts_on"]) if item["starts_on"] else None
    s.ends_on = dt.date.fromisoformat(item["ends_on"]) if item["ends_on"] else None
    dedupe = item["dedupe"] or {"key": "", "scope": "source", "lookback_days": None}
    s.dedupe_key, s.dedupe_scope, s.dedupe_lookback_days = (
        dedupe["key"],
        dedupe["scope"],
        dedupe["lookback_days"],
    )
    s.save()
    s.suppression_lists.set(SuppressionList.objects.filter(key__in=item["suppression_lists"]))
    s.destinations.set(Destination.objects.filter(key__in=item["destinations"]))
    existing = {f.key: f for f in s.fields.all()}
    s.fields.exclude(key__in=[f["key"] for f in item["fields"]]).delete()
    picklists = {p.key: p for p in Picklist.objects.all()}
    domain_lists = {x.key: x for x in DomainList.objects.all()}
    for position, fi in enumerate(item["fields"]):
        f = existing.get(fi["key"]) or Field(source=s, key=fi["key"])
        f.label, f.type, f.required, f.position = fi["label"], fi["type"], fi["required"], position
        f.aliases, f.default, f.pii, f.max_length = fi["aliases"], fi["default"], fi["pii"], fi["max_length"]
        f.min_value, f.max_value, f.integer = fi["min"], fi["max"], fi["integer"]
        f.picklist = picklists.get(fi["picklist"]) if fi["picklist"] else None
        f.allowed_values, f.separator, f.multi_mode = fi["allowed_values"], fi["separator"], fi["mode"]
        f.check_deliverability, f.country_format = fi["check_deliverability"], fi["country_format"]
        f.save()
        f.domain_rules.all().delete()
        FieldDomainList.objects.bulk_create(
            FieldDomainList(field=f, domain_list=domain_lists[r["list"]], mode=r["mode"])
            for r in fi["domain_lists"]
        )


_WRITERS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "picklists": _write_picklist,
    "list_mappers": _write_list_mapper,
    "domain_lists": _write_domain_list,
    "suppression_lists": _write_suppression_list,
    "destinations": _write_destination,
    "sources": _write_source,
}


def apply_definition(text: str, *, dry_run: bool = False) -> ApplyResult:
    """Create or update every item of the file by its key; all or nothing."""
    items = read_definition(text)
    result = ApplyResult()
    with transaction.atomic():
        # KINDS is in dependency order: picklists before the mappers and fields that name them.
        for kind in KINDS:
            lookup = "slug" if kind == "sources" else "key"
            current = {getattr(obj, lookup): obj for obj in _QUERIES[kind]()}
            for item in items[kind]:
                key = _key_of(kind, item)
                label = f"{_KIND_NAME[kind]}:{key}"
                obj = current.get(key)
                if obj is None:
                    result.created.append(label)
                elif _DUMPERS[kind](obj) == item:
                    result.unchanged.append(label)
                    continue
                else:
                    result.updated.append(label)
                _WRITERS[kind](item, obj)
        if result.created or result.updated:
            RulesVersion.bump()  # the writers use bulk operations, which send no signals
        if dry_run:
            transaction.set_rollback(True)
    return result


# --- export -------------------------------------------------------------------------------------------------

# What `apply` fills in for a field that says nothing, read by the same reader that applies it, so the two
# can never disagree. key, label and type are always written; pii's default depends on the type.
_FIELD_DEFAULTS: dict[str, Any] = {
    k: v for k, v in _read_field({"key": "x"}, "", []).items() if k not in ("key", "label", "type", "pii")
}


def _without_defaults(item: dict[str, Any]) -> dict[str, Any]:
    """Leave out what `apply` would fill in anyway, so exported files stay readable."""
    out = {}
    pii_default = item.get("type") in ("email", "phone")
    for key, value in item.items():
        if key == "fields":
            value = [_without_defaults(f) for f in value]
        is_default = (key in _FIELD_DEFAULTS and _FIELD_DEFAULTS[key] == value) or (
            key == "pii" and value == pii_default
        )
        if is_default or (value in (None, "", [], {}) and key != "values"):
            continue
        out[key] = value
    return out


def export_definition(source_slugs: list[str] | None = None) -> str:
    """Everything (or the named sources and what they use) in the definition-file format."""
    data: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        objs = list(_QUERIES[kind]())
        if kind == "sources" and source_slugs is not None:
            objs = [s for s in objs if s.slug in source_slugs]
        if objs:
            data[kind] = [_without_defaults(_DUMPERS[kind](obj)) for obj in objs]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
