"""Picklist matching (SPEC §1 "Picklist"). Work in progress."""

from __future__ import annotations

import unicodedata

from rapidfuzz import fuzz, process

from leadgate.rules.definitions import Picklist


def _key(value: str, case_sensitive: bool) -> str:
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    return text if case_sensitive else text.casefold()


class PicklistMatcher:
    def __init__(self, picklist: Picklist) -> None:
        self.picklist = picklist
        cs = picklist.case_sensitive
        self._index: dict[str, str] = {}
        for value in picklist.values:
            self._index.setdefault(_key(value, cs), value)
        known = set(picklist.values)
        for alias, target in picklist.aliases.items():
            if target in known:
                self._index.setdefault(_key(alias, cs), target)

    def match(self, value: str) -> str | None:
        return self._index.get(_key(value, self.picklist.case_sensitive))

    def is_valid(self, value: str) -> bool:
        return self.match(value) is not None

    def suggest(self, value: str, limit: int = 3) -> list[str]:
        found = self.match(value)
        if found is not None:
            return [found]
        keys = list(self._index)
        hits = process.extract(_key(value, False), keys, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=70)
        out: list[str] = []
        for _, _, i in hits:
            canonical = self._index[keys[i]]
            if canonical not in out:
                out.append(canonical)
        return out[:limit]


_CACHE: dict[int, tuple[Picklist, PicklistMatcher]] = {}


def matcher_for(picklist: Picklist) -> PicklistMatcher:
    entry = _CACHE.get(id(picklist))
    if entry is not None and entry[0] is picklist:
        return entry[1]
    matcher = PicklistMatcher(picklist)
    _CACHE[id(picklist)] = (picklist, matcher)
    return matcher


def duplicates(picklist: Picklist) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for value in picklist.values:
        key = _key(value, picklist.case_sensitive)
        if key in seen:
            pairs.append((seen[key], value))
        else:
            seen[key] = value
    return pairs


def validate(picklist: Picklist) -> list[str]:
    known = set(picklist.values)
    return [f'alias "{a}" points to "{t}", which is not on the list' for a, t in picklist.aliases.items() if t not in known]
