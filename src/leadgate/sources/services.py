"""Use cases for sources and the shared lists they are checked against.

Each is one transaction. Bulk writes send no signals, so those that use them bump the rules version
themselves: processes that keep compiled rules must see the change on their next lead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import idna
from django.db import transaction
from django.db.models import Max
from rapidfuzz import fuzz, process

from leadgate.lib.tokens import new_webhook_secret
from leadgate.rules.definitions import DomainMode, FieldType
from leadgate.rules.domains import normalize_domain
from leadgate.rules.normalize import fold, loose_key

from .models import (
    DomainList,
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


# --- picklist upkeep (the global Picklists and List mappers pages) ---------------------------------------


def picklist_value_dependents(picklist: Picklist, value: PicklistValue) -> list[str]:
    """Why ``value`` cannot be removed: aliases pointing at it, sources allowing it, leads holding it."""
    reasons: list[str] = []
    aliases = list(value.aliases.values_list("alias", flat=True))
    if aliases:
        shown = ", ".join(f'"{a}"' for a in aliases[:5]) + (" …" if len(aliases) > 5 else "")
        reasons.append(f"{len(aliases)} alias{'es' if len(aliases) != 1 else ''} point to it ({shown})")
    fields = list(picklist.fields.select_related("source"))
    allowing = [f for f in fields if f.allowed_values and value.value in f.allowed_values]
    if allowing:
        names = ", ".join(f"{f.source.name} ({f.label})" for f in allowing)
        reasons.append(f"sources allow it by name: {names}")
    from leadgate.leads.models import Lead  # leads depend on sources, not the other way round

    leads = 0
    for f in fields:
        holding = Lead.objects.filter(source_id=f.source_id, **{f"clean__{f.key}__icontains": value.value})
        if f.type == "multi_picklist":
            separator = f.separator or ";"
            found = holding.values_list(f"clean__{f.key}", flat=True)
            leads += sum(value.value in [p.strip() for p in str(text).split(separator)] for text in found)
        else:
            leads += holding.filter(**{f"clean__{f.key}": value.value}).count()
    if leads:
        reasons.append(f"{leads:,} lead{'s' if leads != 1 else ''} hold it as their clean value")
    return reasons


@transaction.atomic
def remove_picklist_value(picklist: Picklist, value: str) -> None:
    """Remove a canonical value (and its list-mapper entries); refused while anything depends on it."""
    found = picklist.values.filter(value=value).first()
    if found is None:
        raise ListError(f'"{value}" is not a value of picklist "{picklist.key}"')
    reasons = picklist_value_dependents(picklist, found)
    if reasons:
        raise ListError(
            f'"{value}" cannot be removed: {"; ".join(reasons)}. Make it an alias of another value instead, '
            "so that what it stands for keeps matching."
        )
    found.delete()


@transaction.atomic
def remove_picklist_alias(picklist: Picklist, alias: str) -> None:
    deleted, _ = picklist.aliases.filter(alias=alias).delete()
    if not deleted:
        raise ListError(f'"{alias}" is not an alias on picklist "{picklist.key}"')


@transaction.atomic
def set_picklist_case_sensitive(picklist: Picklist, case_sensitive: bool) -> None:
    """Turn case-sensitive matching on or off; off is refused while two values differ only by case."""
    if not case_sensitive:
        seen: dict[str, str] = {}
        labels = [
            *picklist.values.values_list("value", flat=True),
            *picklist.aliases.values_list("alias", flat=True),
        ]
        for label in labels:
            key = fold(label)
            if key in seen and seen[key] != label:
                raise ListError(
                    f'"{seen[key]}" and "{label}" differ only by case: make one an alias of the other '
                    "(or remove it) before matching ignores case."
                )
            seen.setdefault(key, label)
    picklist.case_sensitive = case_sensitive
    picklist.save(update_fields=["case_sensitive", "updated_at"])


@transaction.atomic
def merge_picklist_value(picklist: Picklist, value: str, into: str) -> None:
    """Make the canonical value ``value`` an alias of ``into``: its aliases follow, and ``into`` takes its
    list-mapper entries where it has none. Leads sending ``value`` match ``into`` from the next one on."""
    values = {v.value: v for v in picklist.values.all()}
    old, new = values.get(value), values.get(into)
    if old is None or new is None:
        missing = value if old is None else into
        raise ListError(f'"{missing}" is not a value of picklist "{picklist.key}"')
    if old.pk == new.pk:
        raise ListError("A value cannot be an alias of itself.")
    old.aliases.update(value=new)
    mapped = set(new.mapper_entries.values_list("mapper_id", flat=True))
    old.mapper_entries.exclude(mapper_id__in=mapped).update(value=new)
    if allowing := [f for f in picklist.fields.all() if f.allowed_values and value in f.allowed_values]:
        for f in allowing:  # a source that allowed the old name now allows what it stands for
            f.allowed_values = list(dict.fromkeys(into if v == value else v for v in f.allowed_values))
            f.save(update_fields=["allowed_values"])
    old.delete()
    if _matching_key(picklist, value) != _matching_key(picklist, into):
        PicklistAlias.objects.update_or_create(picklist=picklist, alias=value, defaults={"value": new})
    RulesVersion.bump()  # the updates above send no signals


@transaction.atomic
def clear_mapper_entries(mapper: ListMapper, values: Iterable[str]) -> int:
    """Remove the mapper's entries for these picklist values (they are posted out as they are again)."""
    deleted, _ = mapper.entries.filter(value__value__in=list(values)).delete()
    return deleted


#: Two labels at least this alike (rapidfuzz ratio, 0–100) are listed as near-duplicates.
NEAR_DUPLICATE = 90


@dataclass(frozen=True)
class Duplicate:
    """Two labels of a picklist that probably mean the same: each a value, or an alias (``*_target`` is the
    value it stands for). ``why`` says how they differ."""

    first: str
    first_target: str | None
    second: str
    second_target: str | None
    why: str


def _squeezed(label: str) -> str:
    return loose_key(label).replace(" ", "")


def picklist_duplicates(picklist: Picklist) -> list[Duplicate]:
    """Values and aliases that differ only by case, whitespace or punctuation, or are near-duplicates.

    Pairs where both sides already mean the same value are left out: they are harmless. Costs one fuzzy
    comparison per pair in C (a few hundred milliseconds for a few thousand labels).
    """
    labels: list[tuple[str, str | None]] = [
        (v, None) for v in picklist.values.values_list("value", flat=True)
    ]
    labels += [(a.alias, a.value.value) for a in picklist.aliases.select_related("value")]
    keys = [fold(label) for label, _ in labels]
    by_squeezed: dict[str, list[int]] = {}
    for i, (label, _) in enumerate(labels):
        by_squeezed.setdefault(_squeezed(label), []).append(i)
    pairs: dict[tuple[int, int], str] = {}
    for group in by_squeezed.values():
        for n, i in enumerate(group):
            for j in group[n + 1 :]:
                same = keys[i] == keys[j]
                pairs[(i, j)] = (
                    "differ only by case or spacing" if same else "differ only by punctuation or accents"
                )
    for i in range(len(labels) - 1):
        later = keys[i + 1 :]
        for _, score, offset in process.extract(
            keys[i], later, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE, limit=len(later)
        ):
            pairs.setdefault((i, i + 1 + offset), f"{score:.0f}% alike")
    found: list[Duplicate] = []
    for (i, j), why in sorted(pairs.items()):
        (label, target), (other, other_target) = labels[i], labels[j]
        if (target or label) != (other_target or other):
            found.append(Duplicate(label, target, other, other_target, why))
    return found


_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


def domain_entry_problem(entry: str, *, wildcards: bool = True) -> str | None:
    """Why ``entry`` is not a domain a list can hold (``*`` standing for whole labels), or None."""
    text = entry.strip().lower().lstrip("@").rstrip(".")
    if not text:
        return "is empty"
    if any(ch.isspace() for ch in text) or any(ch in text for ch in "@/:,;"):
        return "is not a domain (write the part after the @, like example.com)"
    labels = text.split(".")
    if len(labels) < 2:
        return "needs at least two labels, like example.com or *.edu"
    if not wildcards and "*" in text:
        return "may not hold a * here"
    if all(label == "*" for label in labels):
        return "needs at least one label that is not *"
    for label in labels:
        if label == "*":
            continue
        if "*" in label:
            return "uses * inside a label; a * stands for whole labels only (*.edu, competitor.*)"
        if label.isascii():
            if not _LABEL.match(label):
                return f'has "{label}", which is not a valid domain label'
        else:
            try:
                idna.encode(label, uts46=True)
            except (idna.IDNAError, UnicodeError, ValueError):
                return f'has "{label}", which is not a valid internationalised label'
    return None


def email_entry_problem(entry: str) -> str | None:
    """Why ``entry`` is not an email address a suppression list can hold, or None."""
    local, at, domain = entry.strip().rpartition("@")
    if not at or not local or any(ch.isspace() for ch in local):
        return "is not an email address"
    problem = domain_entry_problem(domain, wildcards=False)
    return f"has a domain that {problem}" if problem else None


# --- exceptions to a source's domain rules (Resolve → Allow this domain) -------------------------------


def allowed_list_key(source: Source) -> str:
    """The key of the domain list a source owns for the domains allowed on Resolve (snake_case)."""
    return f"allowed_{source.slug.replace('-', '_')}"[:100]


@transaction.atomic
def allow_domain(source: Source, field_key: str, domain: str) -> DomainList:
    """Let ``domain`` through the email field's allow and exclude lists, for this source only.

    The domain goes on a list the source owns (made on first use), attached to the field in ``exempt``
    mode. A shared list (free mail, an ABM account list) is never edited: other sources keep their rules.
    Saving bumps the rules version, so every process decides with the new list from its next lead.
    """
    email = source.fields.filter(key=field_key, type=FieldType.EMAIL).first()
    if email is None:
        raise ListError(f'Field "{field_key}" is not an email field of this source.')
    domain = normalize_domain(domain)
    if not domain or "@" in domain or "*" in domain:
        raise ListError(f'"{domain}" is not a domain that can be allowed.')
    allowed, _ = DomainList.objects.select_for_update().get_or_create(
        key=allowed_list_key(source), defaults={"name": f"Allowed for {source.name}"[:200]}
    )
    if allowed.builtin:
        raise ListError(f'"{allowed.key}" is a built-in list; it cannot hold exceptions.')
    if domain not in allowed.domains:
        allowed.domains = [*allowed.domains, domain]
        allowed.save()
    FieldDomainList.objects.update_or_create(
        field=email, domain_list=allowed, defaults={"mode": DomainMode.EXEMPT.value}
    )
    return allowed
