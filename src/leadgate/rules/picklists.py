"""Picklist matching and suggestions (SPEC §1 "Picklist").

``PicklistMatcher.match`` decides: a value is on the list when, after ``leadgate.rules.normalize.fold`` (NFKC,
whitespace collapsed, case folded unless the list is case-sensitive), it equals a canonical value or an alias.
A canonical value wins over an alias with the same key, and the first of two colliding entries wins;
``validate`` reports both situations so the config layer can refuse them.

``PicklistMatcher.suggest`` only advises — on the "closest:" part of a rejection reason and in the review
screen's "map as alias" action — and never changes what ``match`` accepts. It ranks, best first:

1. built-in synonyms for the two picklists every B2B form has: job level ("CEO" -> "C-Level", "SVP" -> "VP")
   and company size (a number or range is put in the list's range that contains it: "5k" -> "1001-5000");
2. fuzzy similarity (rapidfuzz) to the canonical values and aliases, with a cut-off so junk gets nothing.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from leadgate.rules.definitions import Picklist
from leadgate.rules.normalize import fold, loose_key

__all__ = ["PicklistMatcher", "duplicates", "matcher_for", "validate"]

# Job levels: the list values each level may be called, best first. A level suggests the first of these that
# is on the picklist (compared by ``loose_key``, so "C-Level", "c level" and "C Level" are the same).
_LEVEL_VALUES: dict[str, tuple[str, ...]] = {
    "c_level": ("C-Level", "C-Suite", "CXO", "C-Level Executive", "Executive", "Owner"),
    "vp": ("VP", "Vice President", "VP-Level", "VP Level"),
    "director": ("Director", "Director-Level", "Director Level"),
    "manager": ("Manager", "Manager-Level", "Manager Level", "Supervisor"),
    "individual_contributor": ("Individual Contributor", "Staff", "Non-Manager", "Professional"),
    "student": ("Student", "Intern", "Other"),
}

# What people type, as words anywhere in a title -> levels it hints at, best first. The longest phrase found
# wins ("Senior Vice President" is a VP, not a president); on a tie the more senior level comes first.
_LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    phrase: levels
    for phrases, levels in (
        (
            "chief, cxo, c level, c suite, ceo, cfo, cto, cio, cmo, coo, cso, ciso, cro, cpo, cdo, chro, "
            "president, founder, co founder, cofounder, owner, partner, managing partner, managing director, "
            "executive, chairman, chairwoman, board member",
            ("c_level",),
        ),
        (
            "vp, svp, evp, avp, rvp, gvp, vice president, vicepresident, vice pres, senior vice president, "
            "executive vice president, assistant vice president",
            ("vp",),
        ),
        ("head, head of", ("director", "vp")),
        ("director, dir, sr director, senior director, associate director, group director", ("director",)),
        ("manager, mgr, lead, team lead, team leader, supervisor, senior manager, sr manager", ("manager",)),
        (
            "engineer, analyst, specialist, associate, staff, developer, consultant, coordinator, "
            "administrator, representative, designer, accountant, individual contributor, ic, "
            "account executive, executive assistant, assistant, employee",
            ("individual_contributor",),
        ),
        ("intern, student, trainee, apprentice, graduate", ("student",)),
    )
    for phrase in phrases.split(", ")
}
_LEVEL_ORDER = {level: i for i, level in enumerate(_LEVEL_VALUES)}
_LONGEST_LEVEL_WORDS = max(len(words.split()) for words in _LEVEL_WORDS)

# Fuzzy similarity: WRatio handles abbreviations and partial titles ("Vice Pres" ~ "Vice President") but its
# partial matching makes one or two letters look like anything, so short inputs use the plain ratio.
_FUZZY_CUTOFF = 75.0
_SHORT_QUERY = 4

_MEMO_LIMIT = 10_000  # distinct raw inputs remembered per matcher; the key function costs ~0.5 µs


@dataclass(frozen=True)
class _Span:
    """A company-size range; ``high`` is ``math.inf`` for "10,001+"."""

    low: float
    high: float

    @property
    def is_point(self) -> bool:
        return self.low == self.high

    def overlap(self, other: _Span) -> float:
        return min(self.high, other.high) - max(self.low, other.low) + 1


_NUMBER = r"(\d+(?:[.,]\d+)*)\s*(k|m|thousand|million|mio)?"
_FILLER = re.compile(r"\b(?:employees?|people|persons?|staff|headcount|fte|emps?|ees|about|approx)\b|~")
_RANGE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (rf"^(?:between\s+)?{_NUMBER}\s*(?:-|–|—|to|and|until|bis|a)\s*{_NUMBER}$", "range"),
        (rf"^{_NUMBER}\s*(?:\+|or more|and more|and above|and up|plus|or above)$", "from"),
        (rf"^(?:>=?|over|more than|above|at least|min\.?)\s*{_NUMBER}$", "from"),
        (rf"^(?:<=?|under|less than|fewer than|up to|below|max\.?)\s*{_NUMBER}$", "upto"),
        (rf"^{_NUMBER}$", "point"),
    )
)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "mio": 1e6}


def _number(digits: str, unit: str | None) -> float:
    """ "10,001" -> 10001, "1.5" + "k" -> 1500, "1.000" -> 1000 (a separator before 3 digits groups them)."""
    groups = re.split(r"[.,]", digits)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]) and not (unit and len(groups) == 2):
        value = float("".join(groups))
    elif len(groups) == 2:
        value = float(f"{groups[0]}.{groups[1]}")
    else:
        value = float("".join(groups))
    return value * _MULTIPLIERS.get(unit or "", 1)


def _parse_span(text: str) -> _Span | None:
    """A company size as typed ("51 to 200", "1000+", "5k", "100 employees", "<10") or None."""
    cleaned = " ".join(_FILLER.sub(" ", text.casefold()).split())
    for pattern, kind in _RANGE_PATTERNS:
        found = pattern.match(cleaned)
        if found is None:
            continue
        numbers = found.groups()
        first = _number(numbers[0], numbers[1])
        if kind == "range":
            second = _number(numbers[2], numbers[3])
            return _Span(min(first, second), max(first, second))
        if kind == "from":
            return _Span(first, math.inf)
        if kind == "upto":
            return _Span(0, first)
        return _Span(first, first)
    return None


class PicklistMatcher:
    """Matches values against one picklist; build it once per picklist (``matcher_for`` caches it)."""

    def __init__(self, picklist: Picklist) -> None:
        self.picklist = picklist
        self._case_sensitive = picklist.case_sensitive
        on_list = set(picklist.values)
        self._by_key: dict[str, str] = {}
        for value in picklist.values:
            self._by_key.setdefault(fold(value, case_sensitive=self._case_sensitive), value)
        usable_aliases = [(alias, target) for alias, target in picklist.aliases.items() if target in on_list]
        for alias, target in usable_aliases:
            self._by_key.setdefault(fold(alias, case_sensitive=self._case_sensitive), target)
        # Raw input -> answer. The engine sees the same few spellings over and over, so most calls end here.
        self._memo: dict[str, str | None] = {}

        # Suggestions always ignore case: "vp" on a case-sensitive list should still point at "VP".
        choices: dict[str, str] = {}
        for label, target in [*((v, v) for v in picklist.values), *usable_aliases]:
            choices.setdefault(fold(label), target)
        self._choice_keys = list(choices)
        self._choice_targets = list(choices.values())

        by_loose_key: dict[str, str] = {}
        for value in picklist.values:
            by_loose_key.setdefault(loose_key(value), value)
        self._level_values: dict[str, str] = {}
        for level, names in _LEVEL_VALUES.items():
            found = next((by_loose_key[k] for k in map(loose_key, names) if k in by_loose_key), None)
            if found is not None:
                self._level_values[level] = found

        spans = [(span, value) for value in picklist.values if (span := _parse_span(value)) is not None]
        # A size list has ranges; a list of bare numbers ("1", "2", "3") is a rating, not a size.
        self._spans = spans if sum(not span.is_point for span, _ in spans) >= 2 else []

    def match(self, value: str) -> str | None:
        """The canonical value ``value`` stands for (itself or through an alias), or None: not on the list."""
        memo = self._memo
        if value in memo:
            return memo[value]
        result = self._by_key.get(fold(value, case_sensitive=self._case_sensitive))
        if len(memo) < _MEMO_LIMIT:
            memo[value] = result
        return result

    def is_valid(self, value: str) -> bool:
        """Whether ``value`` is on the list (a canonical value or an alias): ``match(value) is not None``."""
        return self.match(value) is not None

    def suggest(self, value: str, limit: int = 3) -> list[str]:
        """Canonical values ``value`` probably meant, best first; empty when nothing is close.

        A value that matches is its own (only) suggestion. Costs tens of microseconds: call it for rejected
        values only.
        """
        if limit <= 0:
            return []
        matched = self.match(value)
        if matched is not None:
            return [matched]
        ranked: list[str] = []
        span = _parse_span(value) if self._spans else None
        if span is not None:
            ranked.extend(self._size_suggestions(span))
        else:
            ranked.extend(self._level_suggestions(value))
            ranked.extend(self._fuzzy_suggestions(value, limit + len(ranked)))
        return list(dict.fromkeys(ranked))[:limit]

    def _level_suggestions(self, value: str) -> list[str]:
        if not self._level_values:
            return []
        words = loose_key(value).split()
        covered: set[int] = set()  # word positions inside a longer phrase already found
        hits: list[tuple[int, int, int, str]] = []  # (-phrase length, preference, level order, level)
        for size in range(min(_LONGEST_LEVEL_WORDS, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                levels = _LEVEL_WORDS.get(" ".join(words[start : start + size]))
                if levels is None or covered.issuperset(range(start, start + size)):
                    continue
                covered.update(range(start, start + size))
                hits.extend((-size, rank, _LEVEL_ORDER[level], level) for rank, level in enumerate(levels))
        return [self._level_values[hit[-1]] for hit in sorted(hits) if hit[-1] in self._level_values]

    def _size_suggestions(self, wanted: _Span) -> list[str]:
        if wanted.is_point:
            return [value for span, value in self._spans if span.low <= wanted.low <= span.high]
        if math.isinf(wanted.high):
            # "10,001+" means the list's open-ended top range when one starts there ("10000+" or "10,001+").
            tops = [
                value
                for span, value in self._spans
                if math.isinf(span.high) and abs(span.low - wanted.low) <= 1
            ]
            if tops:
                return tops
            return self._size_suggestions(_Span(wanted.low, wanted.low))
        overlapping = [(span.overlap(wanted), i, value) for i, (span, value) in enumerate(self._spans)]
        return [
            value for overlap, _, value in sorted(overlapping, key=lambda o: (-o[0], o[1])) if overlap > 0
        ]

    def _fuzzy_suggestions(self, value: str, limit: int) -> list[str]:
        query = fold(value)
        if not query or not self._choice_keys:
            return []
        scorer = fuzz.ratio if len(query) < _SHORT_QUERY else fuzz.WRatio
        hits = process.extract(
            query, self._choice_keys, scorer=scorer, limit=limit * 2, score_cutoff=_FUZZY_CUTOFF
        )
        return [self._choice_targets[index] for _, _, index in hits]


_MATCHERS: OrderedDict[int, tuple[Picklist, PicklistMatcher]] = OrderedDict()
_MATCHERS_LIMIT = 512


def matcher_for(picklist: Picklist) -> PicklistMatcher:
    """The (cached) matcher for ``picklist``.

    Cached by object identity: the entry keeps the picklist alive, so its id cannot be reused while cached,
    and a changed picklist is a new ``Picklist`` object with its own matcher. Least recently used go first.
    """
    key = id(picklist)
    entry = _MATCHERS.get(key)
    if entry is not None and entry[0] is picklist:
        _MATCHERS.move_to_end(key)
        return entry[1]
    matcher = PicklistMatcher(picklist)
    _MATCHERS[key] = (picklist, matcher)
    if len(_MATCHERS) > _MATCHERS_LIMIT:
        _MATCHERS.popitem(last=False)
    return matcher


def _collisions(labels: Iterable[str], case_sensitive: bool) -> list[tuple[str, str]]:
    first_by_key: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for label in labels:
        key = fold(label, case_sensitive=case_sensitive)
        if key in first_by_key:
            pairs.append((first_by_key[key], label))
        else:
            first_by_key[key] = label
    return pairs


def duplicates(picklist: Picklist) -> list[tuple[str, str]]:
    """Pairs of canonical values that match each other ("VP", "vp "), the earlier one first, in list order."""
    return _collisions(picklist.values, picklist.case_sensitive)


def validate(picklist: Picklist) -> list[str]:
    """Human-readable problems with a picklist's configuration; empty when it is sound."""
    case_sensitive = picklist.case_sensitive
    how = "" if case_sensitive else ", ignoring case"
    problems: list[str] = []
    for index, value in enumerate(picklist.values):
        if not fold(value):
            problems.append(f"value #{index + 1} is blank")
    for first, second in duplicates(picklist):
        if first == second:
            problems.append(f'value "{first}" is listed twice')
        else:
            problems.append(f'values "{first}" and "{second}" are the same when matching{how}')

    on_list = set(picklist.values)
    value_by_key = {fold(v, case_sensitive=case_sensitive): v for v in reversed(picklist.values)}
    alias_by_key: dict[str, tuple[str, str]] = {}
    for alias, target in picklist.aliases.items():
        key = fold(alias, case_sensitive=case_sensitive)
        if not key:
            problems.append(f'an alias for "{target}" is blank')
            continue
        if target not in on_list:
            problems.append(f'alias "{alias}" points to "{target}", which is not a value of this picklist')
            continue
        if key in value_by_key:
            value = value_by_key[key]
            if value == target:
                problems.append(f'alias "{alias}" is not needed: it already matches the value "{value}"')
            else:
                problems.append(
                    f'alias "{alias}" (for "{target}") never applies: it matches the value "{value}"{how}'
                )
            continue
        earlier = alias_by_key.get(key)
        if earlier is not None and earlier[1] != target:
            problems.append(
                f'aliases "{earlier[0]}" and "{alias}" are the same when matching{how} '
                f'but point to different values ("{earlier[1]}", "{target}")'
            )
        alias_by_key.setdefault(key, (alias, target))
    return problems
