"""Which field a submitted key or column header means.

People and systems name columns their own way: ``Email Address``, ``E-mail``, ``first_name``, ``FIRST NAME``.
A header matches a field's key, label or one of its aliases, ignoring case, spaces, ``_``, ``-`` and a BOM.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from leadgate.rules.definitions import FieldRule

_IGNORED = str.maketrans("", "", " _-\t\ufeff\u00a0")
_SEEN_LIMIT = 10_000


def header_key(name: str) -> str:
    """The form in which headers are compared: ``" E-Mail_Address "`` → ``"emailaddress"``."""
    # Normalising, case folding and dropping separators can each expose work for the others (a spacing
    # accent decomposes to a space plus a combining mark), so repeat until nothing changes.
    key = name
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", key).casefold()).translate(
            _IGNORED
        )
        if folded == key:
            break
        key = folded
    return key


class FieldKeyMatcher:
    """Maps headers to field keys; a field's key beats another field's label, which beats an alias."""

    def __init__(self, fields: Iterable[FieldRule]) -> None:
        self._keys: dict[str, str] = {}
        fields = list(fields)
        ranked = [(f.key, f.key) for f in fields] + [(f.label, f.key) for f in fields]
        ranked += [(alias, f.key) for f in fields for alias in f.aliases]
        for name, key in ranked:
            self._keys.setdefault(header_key(name), key)
        # Senders repeat the same few keys on every lead; remember each one's match, and each set's.
        self._seen: dict[str, str | None] = {}
        self._plans: dict[tuple[object, ...], tuple[tuple[str | None, ...], bool]] = {}

    def match(self, name: str) -> str | None:
        if name in self._seen:
            return self._seen[name]
        key = self._keys.get(header_key(name))
        if len(self._seen) < _SEEN_LIMIT:
            self._seen[name] = key
        return key

    def plan(self, names: tuple[object, ...]) -> tuple[tuple[str | None, ...], bool]:
        """Each submitted name's field key (None: unknown), and whether no two names mean one field."""
        plan = self._plans.get(names)
        if plan is None:
            keys = tuple(self.match(str(name)) for name in names)
            known = [k for k in keys if k is not None]
            plan = (keys, len(set(known)) == len(known))
            if len(self._plans) < _SEEN_LIMIT:
                self._plans[names] = plan
        return plan
