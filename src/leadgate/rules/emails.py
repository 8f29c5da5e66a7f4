"""Email checks: syntax (email-validator is the authority), deliverability and domain lists.

email-validator costs about 20 µs an address, which is most of the engine's budget for a whole lead. The
fast path below answers the common case — an ASCII dot-atom local part and an ASCII domain — with one
regular expression and a per-domain cache of email-validator's own verdict on the domain. It is built
from email-validator's constants and must agree with ``validate_email`` on every address it answers
(tests/rules/test_emails.py proves that with hypothesis); everything else goes to the library itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email
from email_validator.rfc_constants import ATEXT, CASE_INSENSITIVE_MAILBOX_NAMES, EMAIL_MAX_LENGTH

from leadgate.rules import catalogue
from leadgate.rules.values import Failure


@dataclass(frozen=True, slots=True)
class ValidEmail:
    """A syntactically valid address: email-validator's normalised form and the domain in both forms."""

    normalized: str
    domain: str  # Unicode form, lower case ("müller.de")
    ascii_domain: str  # IDNA form ("xn--mller-kva.de")


@dataclass(frozen=True, slots=True)
class _Domain:
    ascii_domain: str
    domain: str
    domain_bytes: int  # length of the Unicode form in UTF-8, for the address length checks


# An unquoted ASCII dot-atom local part (email-validator's DOT_ATOM_TEXT) and a domain of host-name
# characters; whether that domain is valid is email-validator's verdict, cached per domain.
_FAST_ADDRESS = re.compile(rf"([{ATEXT}]+(?:\.[{ATEXT}]+)*)@([A-Za-z0-9.-]+)", re.ASCII)
_CASE_INSENSITIVE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
#: fast_validate() answers this for an address email-validator rejects.
INVALID = "invalid"


@lru_cache(maxsize=65536)
def _domain_verdict(domain: str) -> _Domain | None:
    # Whether a domain is valid does not depend on the local part, so ask the library about the shortest
    # address with this domain. If even that is too long, every address with the domain is too long.
    try:
        checked = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    return _Domain(checked.ascii_domain, checked.domain, len(checked.domain.encode("utf-8")))


def fast_validate(email: str) -> ValidEmail | str | None:
    """email-validator's verdict for a common-shaped address: ``ValidEmail``, ``INVALID``, or None
    when the address is not of the shape this fast path understands (then ask the library)."""
    match = _FAST_ADDRESS.fullmatch(email)
    if match is None:
        return None
    local, domain_part = match.groups()
    domain = _domain_verdict(domain_part)
    if domain is None:
        return INVALID
    # RFC 2142 role mailboxes are case-insensitive; email-validator lower-cases them.
    if local.lower() in _CASE_INSENSITIVE_MAILBOXES:
        local = local.lower()
    # email-validator checks the length of the address as given, normalised and with the IDNA domain.
    if (
        len(email) > EMAIL_MAX_LENGTH
        or len(local) + 1 + domain.domain_bytes > EMAIL_MAX_LENGTH
        or len(local) + 1 + len(domain.ascii_domain) > EMAIL_MAX_LENGTH
    ):
        return INVALID
    return ValidEmail(local + "@" + domain.domain, domain.domain, domain.ascii_domain)


def library_validate(email: str) -> ValidEmail | Failure:
    """email-validator's verdict, without a deliverability check."""
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return Failure(catalogue.INVALID_EMAIL, f"is not a valid email address: {_sentence(error)}")
    return ValidEmail(checked.normalized, checked.domain, checked.ascii_domain)


def check_syntax(email: str) -> ValidEmail | Failure:
    """The address's syntax verdict: the fast path when it knows, email-validator otherwise."""
    fast = fast_validate(email)
    if fast is None or fast is INVALID:
        # An invalid address goes to the library too: its error message says what is wrong.
        return library_validate(email)
    assert isinstance(fast, ValidEmail)
    return fast


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
        from email_validator.deliverability import validate_email_deliverability

        reason: str | None = None
        try:
            validate_email_deliverability(ascii_domain, domain, dns_resolver=self._dns_resolver)  # type: ignore[arg-type]
        except EmailUndeliverableError as error:
            reason = _sentence(error)
        self._answers[ascii_domain] = reason
        return reason
