"""Turn a Source and its configuration into the rule engine's ``SourceRules``."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from leadgate.rules import definitions as d
from leadgate.rules.engine import Engine
from leadgate.rules.headers import FieldKeyMatcher
from leadgate.sources.models import DomainList, Field, Picklist, RulesVersion, Source, SuppressionList


def compile_picklist(picklist: Picklist) -> d.Picklist:
    values = tuple(v.value for v in picklist.values.all())
    aliases = {a.alias: a.value.value for a in picklist.aliases.select_related("value")}
    return d.Picklist(
        key=picklist.key,
        name=picklist.name,
        values=values,
        aliases=aliases,
        case_sensitive=picklist.case_sensitive,
    )


def compile_domain_list(domain_list: DomainList) -> d.DomainList:
    return d.DomainList(
        key=domain_list.key, domains=tuple(domain_list.domains), builtin=domain_list.builtin or None
    )


def compile_suppression_list(suppression: SuppressionList) -> d.SuppressionList:
    return d.SuppressionList(
        key=suppression.key, emails=tuple(suppression.emails), domains=tuple(suppression.domains)
    )


def compile_field(field: Field, picklists: dict[int, d.Picklist]) -> d.FieldRule:
    picklist = None
    if field.picklist_id is not None:
        if field.picklist_id not in picklists:
            picklists[field.picklist_id] = compile_picklist(field.picklist)  # type: ignore[arg-type]
        picklist = picklists[field.picklist_id]
    return d.FieldRule(
        key=field.key,
        label=field.label,
        type=d.FieldType(field.type),
        required=field.required,
        aliases=tuple(field.aliases or ()),
        default=field.default or None,
        max_length=field.max_length,
        min_value=field.min_value,
        max_value=field.max_value,
        integer=field.integer,
        picklist=picklist,
        allowed_values=tuple(field.allowed_values) if field.allowed_values else None,
        separator=field.separator or ";",
        multi_mode=field.multi_mode,
        domain_rules=tuple(
            d.DomainRule(compile_domain_list(rule.domain_list), d.DomainMode(rule.mode))
            for rule in field.domain_rules.select_related("domain_list")
        ),
        check_deliverability=field.check_deliverability,
        country_format=field.country_format,
    )


def compile_source(source: Source) -> d.SourceRules:
    """The rules of ``source`` as they are in the database now."""
    picklists: dict[int, d.Picklist] = {}
    fields = tuple(
        compile_field(f, picklists)
        for f in source.fields.select_related("picklist").order_by("position", "id")
    )
    dedupe = None
    if source.dedupe_key:
        dedupe = d.DedupeRule(
            key=d.DedupeKey(source.dedupe_key),
            scope=d.DedupeScope(source.dedupe_scope),
            lookback_days=source.dedupe_lookback_days,
        )
    return d.SourceRules(
        slug=source.slug,
        fields=fields,
        live=source.is_live,
        dedupe=dedupe,
        allocation=source.allocation,
        suppression_lists=tuple(compile_suppression_list(s) for s in source.suppression_lists.all()),
    )


@dataclass(frozen=True)
class CompiledSource:
    """A source's rules with what is built from them: the engine and the matcher of submitted keys."""

    version: tuple[object, ...]
    rules: d.SourceRules
    engine: Engine
    matcher: FieldKeyMatcher
    destinations: tuple[int, ...] = ()  # pks of the destinations the source's accepted leads go to


_compiled: dict[int, CompiledSource] = {}
_compiled_lock = threading.Lock()


def compiled_source(source: Source) -> CompiledSource:
    """The source's rules, an engine and a key matcher, compiled once per change of configuration.

    Take ``.engine.for_batch(...)`` before deciding: the cached engine is shared by the process's threads.
    Call inside the transaction that decides, so the version read matches the rules the batch sees.
    """
    # The source's own columns are on the instance already; they count too, for changes made with
    # QuerySet.update(), which sends no signal.
    version = (
        RulesVersion.current(),
        source.status,
        source.allocation,
        source.dedupe_key,
        source.dedupe_scope,
        source.dedupe_lookback_days,
    )
    cached = _compiled.get(source.pk)
    if cached is not None and cached.version == version:
        return cached
    rules = compile_source(source)
    destinations = tuple(source.destinations.order_by("pk").values_list("pk", flat=True))
    compiled = CompiledSource(version, rules, Engine(rules), FieldKeyMatcher(rules.fields), destinations)
    with _compiled_lock:
        _compiled[source.pk] = compiled
    return compiled
