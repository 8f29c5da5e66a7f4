"""Use cases for sources and the shared lists they are checked against.

Each is one transaction. Bulk writes send no signals, so those that use them bump the rules version
themselves: processes that keep compiled rules must see the change on their next lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Max

from leadgate.lib.tokens import new_webhook_secret
from leadgate.rules.normalize import fold

from .models import (
    DomainList,
    ListMapper,
    ListMapperEntry,
    Picklist,
    PicklistAlias,
    PicklistValue,
    RulesVersion,
    Source,
    SuppressionList,
)


class ListError(ValueError):
    """A change to a list that cannot be made; the message says why."""


# Lead posts look their source up by slug on every request; the lookup costs more than deciding the lead.
# Every change to a source replaces the rules version, so a copy is good until the version changes.
_by_slug: dict[str, tuple[int, Source]] = {}


def source_by_slug(slug: str) -> Source | None:
    """The source with this slug, from this process's copy while the rules version stands."""
    version = RulesVersion.current()
    cached = _by_slug.get(slug)
    if cached is not None and cached[0] == version:
        return cached[1]
    source = Source.objects.filter(slug=slug).first()
    if source is not None:
        if len(_by_slug) > 1000:
            _by_slug.clear()
        _by_slug[slug] = (version, source)
    return source


def set_source_status(source: Source, status: str) -> Source:
    """Pause, resume, open or close a source (only a live source accepts leads)."""
    source.status = Source.Status(status)
    source.save(update_fields=["status", "updated_at"])
    return source


def rotate_callback_secret(source: Source) -> str:
    """A new signing secret for the source's status callbacks; the old one stops at once."""
    source.callback_secret = new_webhook_secret()
    source.save(update_fields=["callback_secret", "updated_at"])
    return source.callback_secret


def _matching_key(picklist: Picklist, value: str) -> str:
    """How the engine compares values of this picklist (case, whitespace and Unicode forms)."""
    return fold(value, case_sensitive=picklist.case_sensitive)


def _clean(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))


@transaction.atomic
def add_picklist_values(picklist: Picklist, values: Iterable[str]) -> list[str]:
    """Add canonical values (those already there are skipped); returns the values added."""
    existing = {_matching_key(picklist, v) for v in picklist.values.values_list("value", flat=True)}
    new = [v for v in _clean(values) if _matching_key(picklist, v) not in existing]
    start = (picklist.values.aggregate(m=Max("position"))["m"] or 0) + 1
    PicklistValue.objects.bulk_create(
        PicklistValue(picklist=picklist, value=v, position=start + i) for i, v in enumerate(new)
    )
    if new:
        RulesVersion.bump()
    return new


@transaction.atomic
def set_picklist_aliases(picklist: Picklist, aliases: Mapping[str, str]) -> None:
    """Map each alias to a canonical value (creating or moving the alias)."""
    values = {_matching_key(picklist, v.value): v for v in picklist.values.all()}
    for alias, value in aliases.items():
        target = values.get(_matching_key(picklist, value))
        if target is None:
            raise ListError(f'"{value}" is not a value of picklist "{picklist.key}"')
        if _matching_key(picklist, alias) in values:
            raise ListError(f'"{alias}" is a value of picklist "{picklist.key}" already')
        PicklistAlias.objects.update_or_create(
            picklist=picklist, alias=alias.strip(), defaults={"value": target}
        )


@transaction.atomic
def set_mapper_entries(mapper: ListMapper, entries: Mapping[str, str]) -> None:
    """Set the output of each named picklist value in the mapper; other entries stay."""
    picklist = mapper.picklist
    values = {_matching_key(picklist, v.value): v for v in picklist.values.all()}
    for value, output in entries.items():
        target = values.get(_matching_key(picklist, value))
        if target is None:
            raise ListError(f'"{value}" is not a value of picklist "{mapper.picklist.key}"')
        ListMapperEntry.objects.update_or_create(mapper=mapper, value=target, defaults={"output": output})


def unmapped_values(mapper: ListMapper) -> list[str]:
    """Picklist values with no entry in this mapper: posted out as they are, so shown as a warning."""
    mapped = set(mapper.entries.values_list("value_id", flat=True))
    return [v.value for v in mapper.picklist.values.all() if v.pk not in mapped]


@transaction.atomic
def set_domain_list(domain_list: DomainList, domains: Iterable[str]) -> None:
    if domain_list.builtin:
        raise ListError(f'"{domain_list.key}" is a built-in list from maintained data; it cannot be edited')
    domain_list.domains = [d.lower() for d in _clean(domains)]
    domain_list.save()


@transaction.atomic
def set_suppression_list(
    suppression: SuppressionList, emails: Iterable[str], domains: Iterable[str], *, add: bool = False
) -> None:
    """Replace the list's emails and domains, or with ``add`` add to them."""
    if add:
        emails = [*suppression.emails, *emails]
        domains = [*suppression.domains, *domains]
    suppression.emails = [e.lower() for e in _clean(emails)]
    suppression.domains = [d.lower() for d in _clean(domains)]
    suppression.save()
