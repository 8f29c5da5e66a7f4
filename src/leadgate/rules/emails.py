"""Email checks: syntax (email-validator is the authority), deliverability and domain lists.

email-validator costs 20 µs (ASCII) to 150 µs (internationalised) an address, more than the engine's
whole budget for a lead. The fast path below answers every address without a quoted local part or a
display name: an ASCII dot-atom local part with one regular expression built from email-validator's
constants, an internationalised one with email-validator's own local-part check, and the domain with
email-validator's verdict, cached per distinct domain. It must agree with ``validate_email`` on every
address it answers (tests/rules/test_emails.py proves that with hypothesis); the rest, and the wording
of every rejection, come from the library itself.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple, Protocol

import email_validator
from email_validator import EmailNotValidError, EmailSyntaxError, EmailUndeliverableError, validate_email
from email_validator.rfc_constants import (
    ATEXT,
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOMAIN_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
)
from email_validator.syntax import validate_email_local_part

from leadgate.rules import catalogue
from leadgate.rules.values import Failure


class ValidEmail(NamedTuple):
    """A syntactically valid address: email-validator's normalised form and the domain in both forms."""

    normalized: str
    domain: str  # Unicode form, lower case ("müller.de")
    ascii_domain: str  # IDNA form ("xn--mller-kva.de")


class _Domain(NamedTuple):
    at_domain: str  # "@" and the normalised domain, ready to append to the local part
    domain: str
    ascii_domain: str
    # UTF-8 lengths of the domain as typed and normalised (the IDNA form is ASCII): email-validator checks
    # the whole address as typed, normalised and with the IDNA domain against its 254-octet limit.
    typed_bytes: int
    normalized_bytes: int
    longest: int


# An unquoted ASCII dot-atom local part (email-validator's DOT_ATOM_TEXT), an @ and anything: whether that
# domain is valid is email-validator's verdict, cached per domain. A local part without a quote or "<"
# makes email-validator split the address at its first "@" too (no character combines with an "@").
_ASCII_ADDRESS = re.compile(rf"([{ATEXT}]+(?:\.[{ATEXT}]+)*)@(.+)", re.DOTALL)
_UNQUOTED_ADDRESS = re.compile(r'([^@"<]+)@(.+)', re.DOTALL)
_CASE_INSENSITIVE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_LONGEST_MAILBOX_NAME = max(map(len, CASE_INSENSITIVE_MAILBOX_NAMES))
# Per domain as typed: its verdict, or for an invalid domain email-validator's reason (None when that
# reason depends on the local part: the address was too long). A plain dict: this is the hot path.
_DOMAINS: dict[str, _Domain | Failure | None] = {}
_DOMAINS_LIMIT = 200_000
_UNSEEN = _Domain("", "", "", 0, 0, 0)


def _invalid(error: Exception) -> Failure:
    return Failure(catalogue.INVALID_EMAIL, f"is not a valid email address: {_sentence(error)}")


# A plain ASCII host name: labels of letters, digits and inner hyphens (at most 63 characters), at least
# two of them, the last ending with a letter (email-validator's rules for a globally deliverable domain).
_PLAIN_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    re.ASCII,
)


def _plain_domain_verdict(domain: str) -> _Domain | None:
    """email-validator's verdict on a plain ASCII domain it accepts, or None (then ask the library).

    For such a domain email-validator only lower-cases it (UTS-46 mapping) and rejects: more than 253
    characters, a last label not ending in a letter, a label with "--" in third and fourth place
    (unless Punycode, which is left to the library), and special-use names. Checked here in microseconds
    instead of tens of them: new company domains keep arriving in every batch.
    """
    if len(domain) > DOMAIN_MAX_LENGTH or not _PLAIN_DOMAIN.fullmatch(domain):
        return None
    lower = domain.lower()
    if not lower[-1].isalpha() or "--" in lower:  # "--" anywhere: R-LDH or Punycode, the library decides
        return None
    if any(lower == name or lower.endswith("." + name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES):
        return None
    length = len(lower)
    return _Domain("@" + lower, lower, lower, length, length, length)


def _library_domain_verdict(domain: str) -> _Domain | Failure | None:
    # Whether a domain is valid does not depend on the local part, so ask the library about the shortest
    # address with this domain. If even that is too long, the reason would depend on the local part.
    try:
        checked = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError as error:
        return None if str(error).startswith("The email address is too long") else _invalid(error)
    typed, normalized = len(domain.encode("utf-8")), len(checked.domain.encode("utf-8"))
    longest = max(typed, normalized, len(checked.ascii_domain))
    return _Domain("@" + checked.domain, checked.domain, checked.ascii_domain, typed, normalized, longest)


def _domain_verdict(domain: str) -> _Domain | Failure | None:
    verdict = _plain_domain_verdict(domain) or _library_domain_verdict(domain)
    if len(_DOMAINS) >= _DOMAINS_LIMIT:
        _DOMAINS.clear()
    _DOMAINS[domain] = verdict
    return verdict


def _domain(domain_part: str) -> _Domain | Failure | None:
    domain = _DOMAINS.get(domain_part, _UNSEEN)
    return _domain_verdict(domain_part) if domain is _UNSEEN else domain


def _role_mailbox(local: str) -> str:
    # RFC 2142 role mailboxes are case-insensitive; email-validator lower-cases them.
    if len(local) <= _LONGEST_MAILBOX_NAME and local.lower() in _CASE_INSENSITIVE_MAILBOXES:
        return local.lower()
    return local


def fast_validate(email: str) -> ValidEmail | Failure | None:
    """email-validator's verdict (as ``library_validate`` gives it) on an address without a quoted local
    part or a display name, or None for what this fast path leaves to the library.

    The common ASCII local part is checked by one regular expression; an internationalised one by
    email-validator's own local-part check (with its Unicode normalisation); the domain by email-validator,
    once per distinct domain. email-validator checks the local part, then the domain, then the length:
    the first failure is its reason, and so it is here. An address that is too long goes to the library.
    """
    match = _ASCII_ADDRESS.fullmatch(email)
    if match is not None:
        local, domain_part = match.groups()
        domain = _domain(domain_part)
        if not isinstance(domain, _Domain):
            return domain
        local = _role_mailbox(local)
        if len(local) + 1 + domain.longest > EMAIL_MAX_LENGTH:
            return None
        return ValidEmail(local + domain.at_domain, domain.domain, domain.ascii_domain)

    match = _UNQUOTED_ADDRESS.fullmatch(email)
    if match is None:
        return None
    local, domain_part = match.groups()
    try:
        checked = validate_email_local_part(local)
    except EmailSyntaxError as error:
        return _invalid(error)
    normalized = unicodedata.normalize("NFC", local)
    if normalized != local:
        try:
            checked = validate_email_local_part(normalized)
        except EmailSyntaxError as error:
            return _invalid(EmailSyntaxError("After Unicode normalization: " + str(error)))
    domain = _domain(domain_part)
    if not isinstance(domain, _Domain):
        return domain
    normalized = checked["local_part"]
    if checked["ascii_local_part"] is not None:
        normalized = _role_mailbox(normalized)
    normalized_bytes = len(normalized.encode("utf-8"))
    if (
        len(local.encode("utf-8")) + 1 + domain.typed_bytes > EMAIL_MAX_LENGTH
        or normalized_bytes + 1 + domain.normalized_bytes > EMAIL_MAX_LENGTH
        or normalized_bytes + 1 + len(domain.ascii_domain) > EMAIL_MAX_LENGTH
    ):
        return None
    return ValidEmail(normalized + domain.at_domain, domain.domain, domain.ascii_domain)


def library_validate(email: str) -> ValidEmail | Failure:
    """email-validator's verdict, without a deliverability check."""
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return _invalid(error)
    return ValidEmail(checked.normalized, checked.domain, checked.ascii_domain)


def check_syntax(email: str) -> ValidEmail | Failure:
    """The address's syntax verdict: the fast path when it knows, email-validator otherwise."""
    fast = fast_validate(email)
    return library_validate(email) if fast is None else fast


def _sentence(error: Exception) -> str:
    text = str(error).strip()
    text = text[:1].lower() + text[1:]
    return text.rstrip(".")


# --- deliverability ------------------------------------------------------------------------------


class DnsResolver(Protocol):
    """Answers whether a domain accepts mail; injectable so that tests need no network."""

    def undeliverable_reason(self, ascii_domain: str, domain: str) -> str | None:
        """None when the domain can receive mail (or the answer is unknown), else why it cannot."""
        ...


class LibraryDnsResolver:
    """The deliverability check of email-validator (MX, then A/AAAA, null MX and SPF ``-all``).

    ``dns_resolver`` is a dnspython ``Resolver`` (or anything with its ``resolve`` method); by default
    email-validator's caching resolver with ``timeout`` seconds. Timeouts and unreachable name servers
    count as deliverable, as in email-validator: a lead is not rejected because DNS was slow.
    """

    def __init__(self, dns_resolver: object | None = None, timeout: int = 5) -> None:
        if dns_resolver is None:
            from email_validator import caching_resolver

            dns_resolver = caching_resolver(timeout=timeout)
        self._dns_resolver = dns_resolver
        self._answers: dict[str, str | None] = {}

    def undeliverable_reason(self, ascii_domain: str, domain: str) -> str | None:
        if ascii_domain in self._answers:
            return self._answers[ascii_domain]
        # Imported here: dns.resolver is slow to import and most sources never check deliverability.
        from email_validator.deliverability import validate_email_deliverability

        reason: str | None = None
        try:
            validate_email_deliverability(ascii_domain, domain, dns_resolver=self._dns_resolver)  # type: ignore[arg-type]
        except EmailUndeliverableError as error:
            reason = _sentence(error)
        self._answers[ascii_domain] = reason
        return reason
