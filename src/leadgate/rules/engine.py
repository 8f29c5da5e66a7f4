"""The rule engine: decides leads against one source's rules (SPEC §1, §2).

``Engine(rules).decide(leads)`` answers one ``Decision`` per lead, in order. An engine is reused across
consecutive batches of one source: its caches, dedupe index and allocation count carry over.

How a batch is decided:

1. Every field is checked (empty/default/required first, then its type), then the lead-level checks
   that need no other lead: source live, suppression lists. Every failure becomes a ``Problem``.
2. One ``DedupeIndex.find`` for the whole batch, then, in order, each lead without problems is checked
   for duplicates (against the index and the leads accepted earlier in this batch) and against the
   allocation cap; accepted leads are added to the index. Only leads that pass every other check can
   become originals, so deciding leads in one batch or in several gives the same decisions.

Speed matters (a million leads in seconds), so the per-field checks are closures built once here and
run by one generated function per source (``_compile_field_checks``); the context-free checks are
memoised per distinct value (a low-cardinality column costs one dict lookup a cell); email and phone
checks take the fast paths in ``emails`` and ``phones``; and the cyclic garbage collector is paused
while a batch is decided.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

from leadgate.rules import catalogue, emails, geo, phones, picklists, values
from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import (
    DedupeKey,
    DomainMode,
    FieldRule,
    FieldType,
    SourceRules,
)
from leadgate.rules.domains import DomainMatcher, suppression_matcher
from leadgate.rules.domains import matcher_for as domain_matcher_for
from leadgate.rules.outcome import Decision, DedupeIndex, LeadInput, MemoryDedupeIndex, Problem
from leadgate.rules.values import Failure, Verdict

#: Offending values longer than this are cut in messages (the full value stays in Problem.value).
MESSAGE_VALUE_LIMIT = 80
#: Memoised verdicts per field before the memo is emptied (bounds memory on high-cardinality columns).
MEMO_LIMIT = 100_000
#: Values longer than this are checked every time rather than memoised (they are rarely repeated).
MEMO_VALUE_LIMIT = 200

#: A field's result: clean value, its problems (None when there are none) and, for a country, alpha-2.
Result = tuple[Any, tuple[Problem, ...] | None] | tuple[Any, tuple[Problem, ...] | None, str | None]
#: A field check: (value as text, the lead's country alpha-2 or None) → Result.
Check = Callable[[str, str | None], Result]
#: How a field's results are memoised: not at all, per raw value, or per raw value and the lead's country.
Memo = Literal["none", "value", "value and country"]

_NO_RESULT: Result = (None, None)
_NO_KEYS: Mapping[str, str] = MappingProxyType({})
_EMPTY_CLEAN: Mapping[str, Any] = MappingProxyType({})
_ORDER = catalogue.ORDER
_ACCEPTED = Status.ACCEPTED
_ACCEPT_LEAD = catalogue.ACCEPT_LEAD
# These codes name the nearest valid value; the others propose a correction.
_CLOSEST_CODES = frozenset({catalogue.INVALID_LIST_VALUE, catalogue.INVALID_COUNTRY, catalogue.INVALID_STATE})


def _decision_factory() -> Callable[..., Decision]:
    """A Decision constructor that costs half of ``Decision(...)``, which matters a million times over.

    A frozen dataclass's ``__init__`` goes through ``object.__setattr__`` for each field; with slots, the
    slot descriptors can set the fields directly. Used only while Decision is a slots dataclass without
    ``__post_init__`` (tests/rules/test_engine.py checks both make equal Decisions).
    """
    names = [f.name for f in dataclasses.fields(Decision)]
    if not hasattr(Decision, "__slots__") or hasattr(Decision, "__post_init__"):
        return Decision
    setters = [getattr(Decision, name).__set__ for name in names]
    new = object.__new__
    arguments = ", ".join(f"a{i}" for i in range(len(names)))
    body = "".join(f"    s{i}(d, a{i})\n" for i in range(len(names)))
    scope: dict[str, object] = {"new": new, "Decision": Decision}
    scope.update({f"s{i}": setter for i, setter in enumerate(setters)})
    # Generated only from the dataclass's own field count; see _compile_field_checks for why exec.
    exec(f"def decision({arguments}):\n    d = new(Decision)\n{body}    return d\n", scope)  # noqa: S102
    return scope["decision"]  # type: ignore[return-value]


_decision = _decision_factory()


def shown(value: str) -> str:
    """A value as it appears in a message: cut after 80 characters, control characters escaped."""
    if len(value) > MESSAGE_VALUE_LIMIT:
        value = value[:MESSAGE_VALUE_LIMIT] + "…"
    if not value.isprintable():
        value = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value)
    return value


def message(label: str, value: str | None, what: str, code: str = "", suggestion: str | None = None) -> str:
    """``<Label>: "<value>" <what is wrong>[ — closest: "<suggestion>"]`` (SPEC §2)."""
    text = f'{label}: "{shown(value)}" {what}' if value else f"{label}: {what}"
    if suggestion:
        lead_in = "closest" if code in _CLOSEST_CODES else "did you mean"
        text += f' — {lead_in}: "{shown(suggestion)}"'
    return text


def _as_text(raw: object) -> str:
    # JSON gives numbers and booleans; a spreadsheet reader may give anything. None is empty.
    if raw is None:
        return ""
    if raw is True:
        return "true"
    if raw is False:
        return "false"
    return str(raw)


class _FieldChecks:
    """Builds the check closure of one field."""

    def __init__(self, engine: Engine, field: FieldRule) -> None:
        self.engine = engine
        self.field = field
        self._empty: Result | None = None
        self._in_default = False

    def problem(self, value: str | None, failure: Failure) -> Problem:
        f = self.field
        return Problem(
            failure.code,
            f.key,
            value,
            message(f.label, value, failure.what, failure.code, failure.suggestion),
            failure.suggestion,
        )

    def result(self, value: str, verdict: Verdict) -> Result:
        clean, failure = verdict
        return (clean, None) if failure is None else (clean, (self.problem(value, failure),))

    def empty_result(self) -> Result:
        """What an empty value means: nothing, missing-required, or the default checked as a value.

        Worked out once per field. A default that is itself empty to the check (";" for a multi
        picklist) counts as no default.
        """
        if self._empty is None:
            f = self.field
            result = _NO_RESULT
            if f.default is not None and f.default.strip() and not self._in_default:
                self._in_default = True
                try:
                    result = self.check(f.default, None)
                finally:
                    self._in_default = False
            if result is _NO_RESULT and f.required:
                what = (
                    "consent was not given (required)"
                    if f.type is FieldType.CONSENT
                    else "is required but empty"
                )
                result = (
                    None,
                    (Problem(catalogue.MISSING_REQUIRED_FIELD, f.key, None, f"{f.label}: {what}"),),
                )
            if self._in_default:
                return result
            self._empty = result
        return self._empty

    # The check of a non-empty or empty raw value; set up by build().
    check: Check

    def build(self) -> tuple[Check, Memo]:
        """The field's check and how its results may be memoised."""
        kind = self.field.type
        builder: Callable[[], tuple[Check, Memo]] = getattr(self, f"_build_{kind.value}")
        self.check, memo = builder()
        return self.check, memo

    def _context_free(self, verdict_of: Callable[[FieldRule, str], Verdict]) -> tuple[Check, Memo]:
        field = self.field

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            return self.result(text, verdict_of(field, text))

        return check, "value"

    def _build_text(self) -> tuple[Check, Memo]:
        # Text is too cheap to memoise and usually unique (names, notes).
        field = self.field
        limit = field.max_length
        problem = self.problem

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            if limit is not None and len(text) > limit:
                return (None, (problem(text, values.check_text(field, text)[1]),))  # type: ignore[arg-type]
            return (text, None)

        return check, "none"

    def _build_number(self) -> tuple[Check, Memo]:
        return self._context_free(values.check_number)

    def _build_date(self) -> tuple[Check, Memo]:
        return self._context_free(values.check_date)

    def _build_datetime(self) -> tuple[Check, Memo]:
        return self._context_free(values.check_datetime)

    def _build_boolean(self) -> tuple[Check, Memo]:
        return self._context_free(values.check_boolean)

    def _build_consent(self) -> tuple[Check, Memo]:
        return self._context_free(values.check_consent)

    def _build_url(self) -> tuple[Check, Memo]:
        return self._context_free(values.check_url)

    def _build_country(self) -> tuple[Check, Memo]:
        field = self.field
        use_code = field.country_format == "alpha2"

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                found = self.empty_result()  # a default's result already names its country
                return found if len(found) == 3 else (found[0], found[1], None)
            country = geo.resolve_country(text)
            if country is None:
                return (
                    None,
                    (self.problem(text, Failure(catalogue.INVALID_COUNTRY, "is not a known country")),),
                    None,
                )
            return (country.alpha2 if use_code else country.name, None, country.alpha2)

        return check, "value"

    def _build_state(self) -> tuple[Check, Memo]:
        field = self.field
        use_code = field.country_format == "alpha2"

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            if region is None or not geo.has_subdivisions(region):
                # Unknown country, or no subdivision data for it: nothing to check against.
                return (text, None)
            found = geo.resolve_subdivision(region, text)
            if found is None:
                country = geo.resolve_country(region)
                where = country.name if country else region
                failure = Failure(catalogue.INVALID_STATE, f"is not a state or province of {where}")
                return (None, (self.problem(text, failure),))
            return (found.code.split("-", 1)[-1] if use_code else found.name, None)

        return check, "value and country"

    def _build_picklist(self) -> tuple[Check, Memo]:
        field = self.field
        picklist = field.picklist
        if picklist is None:
            raise ValueError(f'field "{field.key}" is a picklist field without a picklist')
        matcher = picklists.matcher_for(picklist)
        allowed = frozenset(field.allowed_values) if field.allowed_values is not None else None

        def verdict_of(_field: FieldRule, text: str) -> Verdict:
            canonical = matcher.match(text)
            if canonical is None:
                return values.fail(*_not_on_picklist(matcher, picklist.name, text))
            if allowed is not None and canonical not in allowed:
                return (canonical, _disallowed(picklist.name))
            return values.ok(canonical)

        return self._context_free(verdict_of)

    def _build_multi_picklist(self) -> tuple[Check, Memo]:
        field = self.field
        picklist = field.picklist
        if picklist is None:
            raise ValueError(f'field "{field.key}" is a multi_picklist field without a picklist')
        matcher = picklists.matcher_for(picklist)
        allowed = frozenset(field.allowed_values) if field.allowed_values is not None else None
        separator = field.separator or ";"
        any_mode = field.multi_mode == "any"

        def check(raw: str, region: str | None) -> Result:
            parts = [p.strip() for p in raw.split(separator)]
            parts = [p for p in parts if p]
            if not parts:
                return self.empty_result()
            text = raw.strip()
            canonical: list[str] = []
            unknown: list[str] = []
            disallowed: list[str] = []
            for part in parts:
                found = matcher.match(part)
                if found is None:
                    unknown.append(part)
                elif allowed is not None and found not in allowed:
                    disallowed.append(found)
                elif found not in canonical:
                    canonical.append(found)
            failures: list[Failure] = []
            if any_mode:
                if not canonical:
                    if disallowed:
                        failures.append(_disallowed(picklist.name))
                    else:
                        failures.append(Failure(*_not_on_picklist(matcher, picklist.name, unknown[0])))
            else:
                if unknown:
                    code, what, suggestion = _not_on_picklist(matcher, picklist.name, unknown[0])
                    what = f'has {values.quoted(unknown)} not on picklist "{picklist.name}"'
                    failures.append(Failure(code, what, suggestion))
                if disallowed:
                    what = f"has {values.quoted(disallowed)}, not allowed for this source"
                    failures.append(Failure(catalogue.DISALLOWED_LIST_VALUE, what))
            clean = (
                separator.join(canonical) if (canonical and not unknown) or (any_mode and canonical) else None
            )
            if not failures:
                return (clean, None)
            return (clean, tuple(self.problem(text, f) for f in failures))

        return check, "value"

    def _build_email(self) -> tuple[Check, Memo]:
        field = self.field
        engine = self.engine
        allow = [domain_matcher_for(r.domain_list) for r in field.domain_rules if r.mode is DomainMode.ALLOW]
        exclude = [
            (r.domain_list.key, domain_matcher_for(r.domain_list))
            for r in field.domain_rules
            if r.mode is DomainMode.EXCLUDE
        ]
        allow_keys = [r.domain_list.key for r in field.domain_rules if r.mode is DomainMode.ALLOW]
        exempt = [
            domain_matcher_for(r.domain_list) for r in field.domain_rules if r.mode is DomainMode.EXEMPT
        ]
        deliverability = field.check_deliverability
        domain_failures: dict[str, tuple[Failure, ...]] = {}
        fast_validate, library_validate = emails.fast_validate, emails.library_validate
        problem = self.problem

        def failures_for(valid: emails.ValidEmail) -> tuple[Failure, ...]:
            found: list[Failure] = []
            if deliverability:
                reason = engine.resolver.undeliverable_reason(valid.ascii_domain, valid.domain)
                if reason is not None:
                    found.append(Failure(catalogue.UNDELIVERABLE_EMAIL, f"is undeliverable: {reason}"))
            if any(_matches(m, valid) for m in exempt):
                return tuple(found)  # an exception the source made: its allow and exclude lists do not apply
            for key, matcher in exclude:
                if _matches(matcher, valid):
                    what = f'has a blocked domain ("{valid.domain}" is on the exclude list "{key}")'
                    found.append(Failure(catalogue.BLOCKED_EMAIL_DOMAIN, what))
            if allow and not any(_matches(m, valid) for m in allow):
                what = f'has a domain that is not allowed ("{valid.domain}" is not on {_lists(allow_keys)})'
                found.append(Failure(catalogue.DOMAIN_NOT_ALLOWED, what))
            return tuple(found)

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            valid = fast_validate(text)
            if valid is None:  # not the fast path's shape: the library decides
                valid = library_validate(text)
            if isinstance(valid, Failure):
                return (None, (problem(text, valid),))
            failures = domain_failures.get(valid.ascii_domain)
            if failures is None:
                if len(domain_failures) >= MEMO_LIMIT:
                    domain_failures.clear()
                failures = domain_failures[valid.ascii_domain] = failures_for(valid)
            if failures:
                return (valid.normalized, tuple(problem(text, f) for f in failures))
            return (valid.normalized, None)

        # Addresses are nearly all distinct: a memo would only cost. The domain verdicts are memoised.
        return check, "none"

    def _build_phone(self) -> tuple[Check, Memo]:
        check_phone = phones.check_phone
        problem = self.problem

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            e164 = check_phone(text, region)
            if isinstance(e164, str):
                return (e164, None)
            return (None, (problem(text, e164),))

        # Memoised with the lead's country: the same numbers recur (switchboards, re-submitted leads),
        # and a miss costs only a tuple and a dict lookup.
        return check, "value and country"


def _not_on_picklist(
    matcher: picklists.PicklistMatcher, name: str, value: str
) -> tuple[str, str, str | None]:
    suggestions = matcher.suggest(value)
    return (
        catalogue.INVALID_LIST_VALUE,
        f'is not on picklist "{name}"',
        suggestions[0] if suggestions else None,
    )


def _disallowed(name: str) -> Failure:
    return Failure(
        catalogue.DISALLOWED_LIST_VALUE, f'is on picklist "{name}" but not allowed for this source'
    )


def _matches(matcher: DomainMatcher, valid: emails.ValidEmail) -> bool:
    # email-validator's two forms of the domain are normalised already: no need to convert them again.
    return matcher.matches_normalized(valid.ascii_domain) or (
        valid.domain != valid.ascii_domain and matcher.matches_normalized(valid.domain)
    )


def _lists(keys: list[str]) -> str:
    return (
        f'the allow list "{keys[0]}"'
        if len(keys) == 1
        else "any of the allow lists " + ", ".join(f'"{k}"' for k in keys)
    )


def _compile_field_checks(
    checks: list[tuple[FieldRule, Check, Memo]],
) -> tuple[Callable[[Callable[[str], object]], tuple[dict[str, Any], tuple[Problem, ...] | None]], str]:
    """One function that runs every field check of a source, and its source code.

    The function takes a lead's ``values.get`` and answers the clean values (in field order) and the
    problems found. It is generated because it runs for every lead: unrolled, with each field's key,
    check and memo bound to local names, a field costs about half of what a loop over the fields costs,
    and the engine's whole budget is a few microseconds a lead. Only keys (as ``repr``), numbers and
    names chosen here go into the code; the checks themselves are the closures built above.

    Per field: a text field is stripped and length-checked inline and only calls its check when it is
    too long, or empty and required or defaulted; a memoised field costs one dict lookup for a value
    (or value and country) seen before; email calls its check. The lead's country is checked first: it
    is the default region of phones and states.
    """
    names: dict[str, object] = {
        "as_text": _as_text,
        "str": str,
        "len": len,
        "MEMO_LIMIT": MEMO_LIMIT,
        "MEMO_VALUE_LIMIT": MEMO_VALUE_LIMIT,
    }
    lines = ["def check_fields(get):", "    problems = None", "    region = None"]
    blocks: list[list[str]] = []
    country_done = False
    for i, (field, check, memo) in enumerate(checks):
        names[f"check_{i}"] = check
        read = [
            f"    raw = get({field.key!r})",
            "    if raw.__class__ is not str:",
            "        raw = as_text(raw)",
        ]
        collect = [
            f"    v{i} = r[0]",
            "    if r[1] is not None:",
            "        problems = r[1] if problems is None else problems + r[1]",
        ]
        if field.type is FieldType.TEXT:
            limit = f" and len(text) <= {int(field.max_length)}" if field.max_length is not None else ""
            block = [
                f"    raw = get({field.key!r})",
                f"    if raw.__class__ is str and (text := raw.strip()){limit}:",
                f"        v{i} = text",
            ]
            if not field.required and not (field.default and field.default.strip()):
                block += [
                    "    elif raw is None or raw.__class__ is str and not text:",
                    f"        v{i} = None",
                ]
            block += [
                "    else:",
                f"        r = check_{i}(raw if raw.__class__ is str else as_text(raw), region)",
                *("    " + line for line in collect),
            ]
        elif memo == "none":
            block = [*read, f"    r = check_{i}(raw, region)", *collect]
        else:
            table: dict[object, Result] = {}
            names[f"memo_{i}"] = table
            names[f"memo_get_{i}"] = table.get
            key = "raw" if memo == "value" else "(raw, region)"
            block = [
                *read,
                f"    r = memo_get_{i}({key})",
                "    if r is None:",
                f"        r = check_{i}(raw, region)",
                "        if len(raw) <= MEMO_VALUE_LIMIT:",  # long values rarely repeat: not worth memory
                f"            if len(memo_{i}) >= MEMO_LIMIT:",
                f"                memo_{i}.clear()",
                f"            memo_{i}[{key}] = r",
                *collect,
            ]
            if field.type is FieldType.COUNTRY and not country_done:
                country_done = True
                lines.extend(block)
                lines.append("    region = r[2]")
                continue
        blocks.append(block)
    for block in blocks:
        lines.extend(block)
    clean = ", ".join(f"{field.key!r}: v{i}" for i, (field, _, _) in enumerate(checks))
    lines.append(f"    return {{{clean}}}, problems")
    source = "\n".join(lines) + "\n"
    # The code is built above from fixed templates, ints and repr() of field keys: nothing untrusted.
    exec(compile(source, f"<field checks of {len(checks)} fields>", "exec"), names)  # noqa: S102
    return names["check_fields"], source  # type: ignore[return-value]


#: What the first pass knows of a lead: the lead, clean values, problems, dedupe keys and index keys.
_Checked = tuple[LeadInput, dict[str, Any], list[Problem] | None, Mapping[str, str], tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Checked:
    """Leads after ``Engine.check``, waiting for ``Engine.settle``."""

    items: list[_Checked | Decision]

    def decided(self, i: int) -> Decision | None:
        """The i-th lead's decision if its own checks made it (rejected or failed; ``settle`` keeps it),
        else None: dedupe and allocation decide."""
        item = self.items[i]
        return None if item.__class__ is tuple else item  # type: ignore[return-value]

    def accepted(self, i: int) -> Decision:
        """The decision the i-th lead gets if ``settle`` accepts it (call when ``decided(i)`` is None)."""
        lead, clean, _problems, dedupe_keys, _keys = self.items[i]  # type: ignore[misc]
        return _decision(lead.lead_id, _ACCEPTED, _ACCEPT_LEAD, "", (), clean, dedupe_keys)


class Engine:
    """Decides leads for one source; reuse it for consecutive batches of that source.

    ``dedupe_index``: where earlier accepted leads are found (a fresh ``MemoryDedupeIndex`` when the
    source has a dedupe rule and none is given); ``allocation_used``: leads already accepted towards the
    source's allocation, counted up as this engine accepts more; ``resolver``: the DNS check of fields
    with ``check_deliverability`` (email-validator's by default). ``field_checks_source`` is the
    generated code of the field checks, for reading when debugging.

    Raises ValueError for rules it cannot check (a picklist field without a picklist, an unknown
    built-in domain list): that is a configuration error, not a lead's.
    """

    def __init__(
        self,
        rules: SourceRules,
        *,
        dedupe_index: DedupeIndex | None = None,
        allocation_used: int = 0,
        resolver: emails.DnsResolver | None = None,
    ) -> None:
        self.rules = rules
        self.dedupe_index: DedupeIndex | None = dedupe_index
        if dedupe_index is None and rules.dedupe is not None:
            self.dedupe_index = MemoryDedupeIndex()
        self.allocation_used = allocation_used
        self._resolver = resolver
        self._position = {f.key: i for i, f in enumerate(rules.fields)}
        self._label = {f.key: f.label for f in rules.fields}

        checks = [(field, *_FieldChecks(self, field).build()) for field in rules.fields]
        self._check_fields, self.field_checks_source = _compile_field_checks(checks)

        self._dedupe_kind = rules.dedupe.key if rules.dedupe is not None else None
        self._email_key = _dedupe_field(rules, FieldType.EMAIL)
        self._phone_key = _dedupe_field(rules, FieldType.PHONE)
        self._email_fields = [f.key for f in rules.fields if f.type is FieldType.EMAIL]
        self._suppressed_emails: dict[str, str] = {}
        self._suppressed_domains: list[tuple[str, DomainMatcher]] = []
        for suppression in rules.suppression_lists:
            for email in suppression.emails:
                self._suppressed_emails.setdefault(_normalized_email(email), suppression.key)
            if suppression.domains:
                self._suppressed_domains.append((suppression.key, suppression_matcher(suppression.domains)))
        self._suppressed_domain_memo: dict[str, str | None] = {}
        self._has_suppression = bool(self._email_fields) and bool(
            self._suppressed_emails or self._suppressed_domains
        )
        self._not_live = (
            None
            if rules.live
            else Problem(
                catalogue.SOURCE_NOT_LIVE, None, None, "The source is not live, so it does not accept leads"
            )
        )

    def for_batch(self, *, dedupe_index: DedupeIndex | None = None, allocation_used: int = 0) -> Engine:
        """A copy sharing this engine's compiled checks and memos, with its own dedupe index and count.

        Building the checks costs about a millisecond, more than deciding one lead: the API decides one
        lead per request, so a web process keeps one engine per source's rules and copies it per batch.
        """
        twin = copy.copy(self)
        twin.dedupe_index = dedupe_index
        if dedupe_index is None and self.rules.dedupe is not None:
            twin.dedupe_index = MemoryDedupeIndex()
        twin.allocation_used = allocation_used
        return twin

    @property
    def resolver(self) -> emails.DnsResolver:
        """The DNS resolver of the deliverability check (email-validator's, unless one was given)."""
        if self._resolver is None:
            self._resolver = emails.LibraryDnsResolver()
        return self._resolver

    # --- deciding --------------------------------------------------------------------------------

    def decide(self, leads: Sequence[LeadInput]) -> list[Decision]:
        """One Decision per lead, in order. An error while checking a lead fails that lead only."""
        return self.settle(self.check(leads))

    def check(self, leads: Sequence[LeadInput]) -> Checked:
        """Every check of each lead on its own: the first half of ``decide``.

        It needs no other lead and no stored state, so a caller can run it before taking the source's
        lock and keep only ``settle`` (dedupe and allocation) under it. A lead its own checks reject (or
        that fails) is decided here already: ``Checked.decided``, which ``settle`` answers unchanged.
        """
        with without_cyclic_gc():
            checked: list[_Checked | Decision] = []
            append = checked.append
            check_lead = self._check_lead
            rejected = self._rejected
            for lead in leads:
                try:
                    item = check_lead(lead)
                    problems = item[2]
                    append(item if problems is None else rejected(lead, item[1], problems, item[3]))
                except Exception as error:
                    append(_failed(lead, error))
            return Checked(checked)

    def settle(self, checked: Checked) -> list[Decision]:
        """Dedupe and allocation, in order, then one Decision per lead: the second half of ``decide``."""
        with without_cyclic_gc():
            return self._finish(checked.items)

    def _check_lead(self, lead: LeadInput) -> _Checked:
        """Every field check and the lead-level checks that need no other lead."""
        clean, found = self._check_fields(lead.values.get)
        return self._lead_checks(lead, clean, found)

    def _lead_checks(
        self, lead: LeadInput, clean: dict[str, Any], found: tuple[Problem, ...] | None
    ) -> _Checked:
        """The checks after the fields' own (source live, suppression) and the lead's dedupe keys.

        Shared with the columnar path (``leadgate.rules.columnar``), which checks the fields column by column.
        """
        problems: list[Problem] | None = list(found) if found is not None else None

        if lead.check_live and self._not_live is not None:
            problems = [*problems, self._not_live] if problems else [self._not_live]
        if self._has_suppression:
            for key in self._email_fields:
                email = clean[key]
                if email:
                    suppressed = self._suppression(key, email)
                    if suppressed is not None:
                        problems = [*problems, suppressed] if problems else [suppressed]

        dedupe_keys = _NO_KEYS
        email = clean[self._email_key] if self._email_key else None
        phone = clean[self._phone_key] if self._phone_key else None
        if email or phone:
            dedupe_keys = {}
            if email:
                email = dedupe_keys["email"] = email.lower()
            if phone:
                dedupe_keys["phone"] = phone
        index_keys: tuple[str, ...] = ()
        if problems is None and self._dedupe_kind is not None:
            if self._dedupe_kind is DedupeKey.EMAIL:  # the common rule, inline
                index_keys = ("email:" + email,) if email else ()
            else:
                index_keys = self._index_keys(email, phone)
        return (lead, clean, problems, dedupe_keys, index_keys)

    def _suppression(self, key: str, email: str) -> Problem | None:
        lower = email.lower()
        list_key = self._suppressed_emails.get(lower)
        if list_key is not None:
            what = f'is on the suppression list "{list_key}"'
            return Problem(catalogue.SUPPRESSED, key, email, message(self._label[key], email, what))
        domain = lower.rpartition("@")[2]
        memo = self._suppressed_domain_memo
        if domain in memo:
            list_key = memo[domain]
        else:
            list_key = next((k for k, m in self._suppressed_domains if m.matches(domain)), None)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[domain] = list_key
        if list_key is None:
            return None
        what = f'has a domain ("{domain}") on the suppression list "{list_key}"'
        return Problem(catalogue.SUPPRESSED, key, email, message(self._label[key], email, what))

    def _index_keys(self, email: str | None, phone: str | None) -> tuple[str, ...]:
        """The dedupe index keys of a lead under the source's dedupe rule (none: no dedupe check)."""
        rule = self.rules.dedupe
        if rule is None:
            return ()
        kind = rule.key
        if kind is DedupeKey.EMAIL:
            return ("email:" + email,) if email else ()
        if kind is DedupeKey.PHONE:
            return ("phone:" + phone,) if phone else ()
        if kind is DedupeKey.EMAIL_AND_PHONE:
            return (f"email+phone:{email}|{phone}",) if email and phone else ()
        if email and phone:
            return ("email:" + email, "phone:" + phone)
        return ("email:" + email,) if email else ("phone:" + phone,) if phone else ()

    def _finish(self, checked: list[_Checked | Decision]) -> list[Decision]:
        """Dedupe and allocation for the leads ``check`` left undecided (``_settle``); then the decisions."""
        pending = [(item[0].lead_id, item[4]) for item in checked if item.__class__ is tuple]  # type: ignore[index]
        verdicts = iter(self._settle(pending))
        decisions: list[Decision] = []
        append = decisions.append
        for item in checked:
            if item.__class__ is not tuple:
                append(item)  # type: ignore[arg-type]
                continue
            lead, clean, _problems, dedupe_keys, _keys = item  # type: ignore[misc]
            verdict = next(verdicts)
            try:
                if verdict is None:
                    append(_decision(lead.lead_id, _ACCEPTED, _ACCEPT_LEAD, "", (), clean, dedupe_keys))
                elif isinstance(verdict, Exception):
                    append(_failed(lead, verdict))
                else:
                    append(self._rejected(lead, clean, verdict, dedupe_keys))
            except Exception as error:
                append(_failed(lead, error))
        return decisions

    def _settle(
        self, pending: Sequence[tuple[str, tuple[str, ...]]], taken: dict[str, str] | None = None
    ) -> list[list[Problem] | Exception | None]:
        """Dedupe and allocation, in order, for leads that passed every other check: (lead_id, index keys).

        Per lead: None when it is accepted (its keys join the index, the allocation counts it), else the
        problems that reject it, or the error that fails it. ``taken`` carries the keys of the leads accepted
        so far when one batch is settled in parts.
        """
        index = self.dedupe_index if self.rules.dedupe is not None else None
        # One look-up for the whole batch: a database-backed index answers it in one query.
        originals: Mapping[str, str] | None = {}
        if index is not None:
            wanted = [key for _lead_id, keys in pending for key in keys]
            try:
                originals = index.find(wanted) if wanted else {}
            except Exception:
                originals = None  # then each lead looks itself up, and only a failing look-up fails a lead
        allocation = self.rules.allocation
        if taken is None:
            taken = {}  # key → lead_id of a lead accepted earlier in this batch
        verdicts: list[list[Problem] | Exception | None] = []
        for lead_id, keys in pending:
            try:
                problems = None
                if keys:
                    found = originals if originals is not None else index.find(keys)  # type: ignore[union-attr]
                    for key in keys:
                        if key in found or key in taken:
                            problems = self._duplicate(lead_id, keys, found, taken)
                            break
                if problems is None and allocation is not None and self.allocation_used >= allocation:
                    what = f"The source's allocation of {allocation} leads is reached"
                    problems = [Problem(catalogue.ALLOCATION_REACHED, None, None, what)]
                if problems is None:
                    for key in keys:
                        taken.setdefault(key, lead_id)
                        index.add(key, lead_id)  # type: ignore[union-attr]
                    self.allocation_used += 1
                verdicts.append(problems)
            except Exception as error:
                verdicts.append(error)
        return verdicts

    def _duplicate(
        self, lead_id: str, keys: tuple[str, ...], found: Mapping[str, str], taken: Mapping[str, str]
    ) -> list[Problem] | None:
        """The duplicate problem if a key belongs to another lead (the index first: it is older)."""
        for key in keys:
            original = found.get(key)
            if original is None or original == lead_id:
                original = taken.get(key)
            if original is None or original == lead_id:
                continue
            kind, _, value = key.partition(":")
            if kind == "email+phone":
                described = "email and phone " + value.replace("|", ", ")
            else:
                described = f"{kind} {value}"
            field = self._phone_key if kind == "phone" else self._email_key
            text = f"Duplicate of {original} (same {described})"
            return [Problem(catalogue.DUPLICATE, field, value, text)]
        return None

    def _rejected(
        self, lead: LeadInput, clean: dict[str, Any], problems: list[Problem], dedupe_keys: Mapping[str, str]
    ) -> Decision:
        if len(problems) > 1:
            position = self._position
            problems.sort(key=lambda p: (_ORDER[p.code], position.get(p.field, -1) if p.field else -1))
        first = problems[0].code
        return Decision(
            lead.lead_id,
            catalogue.BY_CODE[first].status,
            first,
            "; ".join(p.message for p in problems),
            tuple(problems),
            clean,
            dedupe_keys,
        )


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while deciding a batch.

    A batch allocates many small objects and creates no reference cycles; the collector would still scan
    them (and everything the caller holds) again and again, which cost up to a quarter of the time in
    benchmarks. Reference counting frees everything as usual.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _failed(lead: LeadInput, error: Exception) -> Decision:
    reason = f"Internal error while checking this lead: {type(error).__name__}: {shown(str(error))}"
    problem = Problem(catalogue.FAILED_PROCESSING_ERROR, None, None, reason)
    return Decision(
        lead.lead_id,
        Status.FAILED,
        catalogue.FAILED_PROCESSING_ERROR,
        reason,
        (problem,),
        _EMPTY_CLEAN,
        _NO_KEYS,
    )


def _dedupe_field(rules: SourceRules, kind: FieldType) -> str | None:
    # The field named like its type ("email", "phone") if there is one, else the first of that type.
    candidates = [f.key for f in rules.fields if f.type is kind]
    if kind.value in candidates:
        return kind.value
    return candidates[0] if candidates else None


def _normalized_email(email: str) -> str:
    checked = emails.check_syntax(email.strip())
    if isinstance(checked, emails.ValidEmail):
        return checked.normalized.lower()
    return email.strip().lower()


def decide(rules: SourceRules, leads: Sequence[LeadInput], **kwargs: Any) -> list[Decision]:
    """Decide one batch with a fresh ``Engine`` (keyword arguments as for ``Engine``)."""
    return Engine(rules, **kwargs).decide(leads)


__all__ = ["Check", "Engine", "Result", "decide", "message", "shown"]
