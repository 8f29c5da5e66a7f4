"""Email syntax (fast path vs email-validator), normalisation and the deliverability check."""

from __future__ import annotations

import dns.resolver
import pytest
from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_domain_name
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadgate.rules import catalogue, emails
from leadgate.rules.values import Failure


def library(email: str) -> emails.ValidEmail | Failure:
    """email-validator's own verdict, straight from validate_email."""
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error)
        what = "is not a valid email address: " + reason[:1].lower() + reason[1:].rstrip(".")
        return Failure(catalogue.INVALID_EMAIL, what)
    return emails.ValidEmail(checked.normalized, checked.domain, checked.ascii_domain)


# --- the fast path agrees with email-validator -----------------------------------------------------

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
TRICKY = ATEXT + '."(),:;<>@[\\] \t\n\x00é猫\u0301\u200b＠'

atoms = st.text(alphabet=ATEXT, min_size=1, max_size=12)
dot_atom = st.lists(atoms, min_size=1, max_size=4).map(".".join)
local_parts = st.one_of(
    dot_atom,
    st.sampled_from(["info", "Info", "POSTMASTER", "sales", "a" * 64, "a" * 65, "b" * 200, ""]),
    dot_atom.map(lambda s: s + "."),
    dot_atom.map(lambda s: "." + s),
    dot_atom.map(lambda s: s.replace(".", "..", 1) if "." in s else s + "..x"),
    dot_atom.map(lambda s: f'"{s}"'),
    st.text(alphabet=TRICKY, max_size=15),
    st.sampled_from(["jürgen", "用户", "josé.garcía", "e\u0301", '"a b"', '"a@b"', "a\\b"]),
    st.text(st.characters(codec="utf-8", exclude_characters='@"<'), min_size=1, max_size=10),
    st.text(st.characters(exclude_characters='@"<'), min_size=1, max_size=10),  # surrogates too
)
labels = st.one_of(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12
    ),
    st.sampled_from(
        ["müller", "例子", "xn--mller-kva", "xn--zz", "bücher", "ab--cd", "-a", "a-", "x" * 63, "y" * 64]
    ),
    st.text(alphabet="abcé猫-_.\u0301\u200b", min_size=1, max_size=6),
)
tlds = st.sampled_from(
    [
        "com",
        "de",
        "COM",
        "co.uk",
        "广告",
        "xn--fiqs8s",
        "local",
        "localhost",
        "test",
        "invalid",
        "arpa",
        "1",
        "c0m",
    ]
)
domains = st.one_of(
    st.builds(lambda ls, tld: ".".join([*ls, tld]), st.lists(labels, min_size=1, max_size=3), tlds),
    st.builds(
        lambda d: d + ".", st.builds(lambda ls, tld: ".".join([*ls, tld]), st.lists(labels, max_size=2), tlds)
    ),
    st.sampled_from(["[192.168.0.1]", "[IPv6:::1]", "[1.2.3]", "localhost", "", ".", "a" * 250 + ".com"]),
    st.text(alphabet=TRICKY, max_size=15),
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains),
    st.text(alphabet=TRICKY, max_size=40),
    st.builds(lambda a, b: f"{a}@{b}@example.com", atoms, atoms),
    st.builds(lambda name, addr: f"{name} <{addr}>", atoms, st.just("ann@example.com")),
)


@settings(max_examples=3000, deadline=None)
@given(addresses)
@example("ann.smith@example.com")
@example("Ann.Smith@EXAMPLE.COM")
@example("ann@example.com.")
@example("INFO@Example.com")
@example("ann@[192.168.0.1]")
@example("ann@xn--mller-kva.de")
@example("ann@müller.de")
@example("ann@\u0301x.com")
@example("\u212aelvin@example.com")  # Kelvin sign: NFC makes the local part ASCII
@example("\u212anfo@example.com")
@example("e\u0301@example.com")
@example("\u0301a@example.com")
@example("a\ud800@example.com")
@example("a\u00a0b@example.com")
@example("jürgen@müller.de")
@example("Jürgen.MÜLLER@Müller.DE")
@example("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com")
@example("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com")
def test_fast_path_agrees_with_email_validator(email: str) -> None:
    answer = emails.fast_validate(email)
    if answer is not None:  # None: not the fast path's shape, the library decides
        assert answer == library(email), email


plain_domains = st.one_of(
    domains,
    st.text(alphabet="abcxnXYZ019-.", min_size=1, max_size=30),
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=70),
        min_size=1,
        max_size=5,
    ).map(".".join),
)


@settings(max_examples=3000, deadline=None)
@given(plain_domains)
@example("EXAMPLE.COM")
@example("mail.local")
@example("xn--mller-kva.de")
@example("ab--cd.com")
@example("a--b.com")
@example("example.c0m")
@example("example.com1")
@example("a" * 63 + ".com")
@example("a" * 64 + ".com")
@example(".".join(["a" * 63] * 3) + "." + "b" * 61)  # 253 characters
@example(".".join(["a" * 63] * 3) + "." + "b" * 62)  # 254 characters
def test_plain_domain_verdict_agrees_with_email_validator(domain: str) -> None:
    verdict = emails._plain_domain_verdict(domain)
    if verdict is None:
        return  # not a plain domain the fast path accepts: the library decides
    checked = validate_email_domain_name(domain)  # raises if the library disagrees
    assert (verdict.domain, verdict.ascii_domain) == (checked["domain"], checked["ascii_domain"])


@pytest.mark.parametrize(
    "email",
    [
        "ann.smith@example.com",
        "ann+events@sub.example.co.uk",
        "o'brien@example.ie",
        "ann@müller.de",
        "x@例子.广告",
        "jürgen.müller@müller.de",
        "用户@例子.广告",
    ],
)
def test_fast_path_answers_the_common_shapes(email: str) -> None:
    assert isinstance(emails.fast_validate(email), emails.ValidEmail)


def test_check_syntax_normalises_like_email_validator() -> None:
    checked = emails.check_syntax("Ann.Smith@EXAMPLE.com")
    assert isinstance(checked, emails.ValidEmail)
    assert checked.normalized == "Ann.Smith@example.com"
    role = emails.check_syntax("Info@Example.com")
    assert isinstance(role, emails.ValidEmail) and role.normalized == "info@example.com"


@pytest.mark.parametrize(
    ("email", "normalized", "ascii_domain"),
    [
        ("jürgen@müller.de", "jürgen@müller.de", "xn--mller-kva.de"),
        ("用户@例子.广告", "用户@例子.广告", "xn--fsqu00a.xn--4rr70v"),
        ("ann@xn--mller-kva.de", "ann@müller.de", "xn--mller-kva.de"),
        ("ann@MÜLLER.de", "ann@müller.de", "xn--mller-kva.de"),
    ],
)
def test_internationalised_addresses_are_valid(email: str, normalized: str, ascii_domain: str) -> None:
    checked = emails.check_syntax(email)
    assert isinstance(checked, emails.ValidEmail)
    assert (checked.normalized, checked.ascii_domain) == (normalized, ascii_domain)


@pytest.mark.parametrize(
    "email",
    ["ann", "ann@", "@example.com", "ann@example", "ann@@example.com", "ann..b@example.com", "a b@x.com"],
)
def test_invalid_addresses_fail_with_a_reason(email: str) -> None:
    checked = emails.check_syntax(email)
    assert isinstance(checked, Failure)
    assert checked.code == catalogue.INVALID_EMAIL
    assert checked.what.startswith("is not a valid email address: ")


# --- deliverability, without a network -------------------------------------------------------------


class FakeDns:
    """Just enough of dnspython's Resolver for email-validator's deliverability check."""

    def __init__(self, missing: set[str]) -> None:
        self.missing = missing
        self.asked: list[tuple[str, str]] = []

    def resolve(self, name: str, rdtype: str) -> list[object]:
        self.asked.append((name, rdtype))
        if name in self.missing:
            raise dns.resolver.NXDOMAIN
        if rdtype == "MX":
            return [type("MX", (), {"preference": 10, "exchange": "mx." + name + "."})()]
        raise dns.resolver.NoAnswer


def test_library_resolver_reports_a_missing_domain_and_caches_answers() -> None:
    fake = FakeDns({"nowhere.example"})
    resolver = emails.LibraryDnsResolver(fake)
    assert resolver.undeliverable_reason("example.com", "example.com") is None
    reason = resolver.undeliverable_reason("nowhere.example", "nowhere.example")
    assert reason is not None and "does not exist" in reason
    resolver.undeliverable_reason("nowhere.example", "nowhere.example")
    assert fake.asked.count(("nowhere.example", "MX")) == 1
