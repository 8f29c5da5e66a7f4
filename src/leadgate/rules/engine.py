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

Speed matters (a million leads in seconds), so the per-field checks are closures built once here, the
context-free ones are memoised per distinct value (a low-cardinality column costs one dict lookup a
cell), and email and phone checks take the fast paths in ``emails`` and ``phones``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from leadgate.rules import catalogue, emails, geo, phones, picklists, values
from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import (
    DedupeKey,
    DomainMode,
    FieldRule,
    FieldType,
    SourceRules,
)
from leadgate.rules.domains import DomainMatcher, domain_forms, suppression_matcher
from leadgate.rules.domains import matcher_for as domain_matcher_for
from leadgate.rules.outcome import DedupeIndex, Decision, LeadInput, MemoryDedupeIndex, Problem
from leadgate.rules.values import Failure, Verdict

#: Offending values longer than this are cut in messages (the full value stays in Problem.value).
MESSAGE_VALUE_LIMIT = 80
#: Memoised verdicts per field before the memo is emptied (bounds memory on high-cardinality columns).
MEMO_LIMIT = 100_000

#: A field's result: clean value, its problems (None when there are none) and, for a country, alpha-2.
Result = tuple[Any, tuple[Problem, ...] | None] | tuple[Any, tuple[Problem, ...] | None, str | None]
#: A field check: (value as text, the lead's country alpha-2 or None) → Result.
Check = Callable[[str, str | None], Result]

_NO_RESULT: Result = (None, None)
_NO_KEYS: Mapping[str, str] = MappingProxyType({})
_EMPTY_CLEAN: Mapping[str, Any] = MappingProxyType({})
_ORDER = catalogue.ORDER
# These codes name the nearest valid value; the others propose a correction.
_CLOSEST_CODES = frozenset({catalogue.INVALID_LIST_VALUE, catalogue.INVALID_COUNTRY, catalogue.INVALID_STATE})


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
        """What an empty value means: nothing, missing-required, or the default checked as a value."""
        f = self.field
        if f.default is not None and f.default.strip():
            return self.check(f.default, None)
        if not f.required:
            return _NO_RESULT
        what = "consent was not given (required)" if f.type is FieldType.CONSENT else "is required but empty"
        return (None, (Problem(catalogue.MISSING_REQUIRED_FIELD, f.key, None, f"{f.label}: {what}"),))

    # The check of a non-empty or empty raw value; set up by build().
    check: Check

    def build(self) -> tuple[Check, bool]:
        """The field's check and whether its results may be memoised per raw value."""
        kind = self.field.type
        builder: Callable[[], tuple[Check, bool]] = getattr(self, f"_build_{kind.value}")
        self.check, memoisable = builder()
        return self.check, memoisable

    def _context_free(self, verdict_of: Callable[[FieldRule, str], Verdict]) -> tuple[Check, bool]:
        field = self.field
        empty: list[Result] = []

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                if not empty:
                    empty.append(self.empty_result())
                return empty[0]
            return self.result(text, verdict_of(field, text))

        return check, True

    def _build_text(self) -> tuple[Check, bool]:
        # Text is too cheap to memoise and usually unique (names, notes).
        field = self.field
        limit = field.max_length
        empty = self.empty_result() if not field.default else None
        problem = self.problem

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return empty if empty is not None else self.empty_result()
            if limit is not None and len(text) > limit:
                return (None, (problem(text, values.check_text(field, text)[1]),))  # type: ignore[arg-type]
            return (text, None)

        return check, False

    def _build_number(self) -> tuple[Check, bool]:
        return self._context_free(values.check_number)

    def _build_date(self) -> tuple[Check, bool]:
        return self._context_free(values.check_date)

    def _build_datetime(self) -> tuple[Check, bool]:
        return self._context_free(values.check_datetime)

    def _build_boolean(self) -> tuple[Check, bool]:
        return self._context_free(values.check_boolean)

    def _build_consent(self) -> tuple[Check, bool]:
        return self._context_free(values.check_consent)

    def _build_url(self) -> tuple[Check, bool]:
        return self._context_free(values.check_url)

    def _build_country(self) -> tuple[Check, bool]:
        field = self.field
        use_code = field.country_format == "alpha2"
        empty: list[Result] = []

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                if not empty:
                    found = self.empty_result()
                    country = geo.resolve_country(field.default) if field.default and found[0] else None
                    empty.append((found[0], found[1], country.alpha2 if country else None))
                return empty[0]
            country = geo.resolve_country(text)
            if country is None:
                return (None, (self.problem(text, Failure(catalogue.INVALID_COUNTRY, "is not a known country")),), None)
            return (country.alpha2 if use_code else country.name, None, country.alpha2)

        return check, True

    def _build_state(self) -> tuple[Check, bool]:
        field = self.field
        use_code = field.country_format == "alpha2"
        memo: dict[tuple[str | None, str], Result] = {}

        def verdict(text: str, region: str | None) -> Result:
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

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            key = (region, text)
            result = memo.get(key)
            if result is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                result = memo[key] = verdict(text, region)
            return result

        return check, False

    def _build_picklist(self) -> tuple[Check, bool]:
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

    def _build_multi_picklist(self) -> tuple[Check, bool]:
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
                    what = f"has {values.quoted(unknown)} not on picklist \"{picklist.name}\""
                    failures.append(Failure(code, what, suggestion))
                if disallowed:
                    what = f"has {values.quoted(disallowed)}, not allowed for this source"
                    failures.append(Failure(catalogue.DISALLOWED_LIST_VALUE, what))
            clean = separator.join(canonical) if canonical and not unknown or any_mode and canonical else None
            if not failures:
                return (clean, None)
            return (clean, tuple(self.problem(text, f) for f in failures))

        return check, True

    def _build_email(self) -> tuple[Check, bool]:
        field = self.field
        engine = self.engine
        allow = [domain_matcher_for(r.domain_list) for r in field.domain_rules if r.mode is DomainMode.ALLOW]
        exclude = [
            (r.domain_list.key, domain_matcher_for(r.domain_list))
            for r in field.domain_rules
            if r.mode is DomainMode.EXCLUDE
        ]
        allow_keys = [r.domain_list.key for r in field.domain_rules if r.mode is DomainMode.ALLOW]
        deliverability = field.check_deliverability
        domain_failures: dict[str, tuple[Failure, ...]] = {}
        fast_validate, invalid, library_validate = emails.fast_validate, emails.INVALID, emails.library_validate
        problem = self.problem

        def failures_for(valid: emails.ValidEmail) -> tuple[Failure, ...]:
            found: list[Failure] = []
            if deliverability:
                reason = engine.resolver.undeliverable_reason(valid.ascii_domain, valid.domain)
                if reason is not None:
                    found.append(Failure(catalogue.UNDELIVERABLE_EMAIL, f"is undeliverable: {reason}"))
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
            if valid is None or valid is invalid:
                valid = library_validate(text)
                if valid.__class__ is Failure:
                    return (None, (problem(text, valid),))  # type: ignore[arg-type]
            assert isinstance(valid, emails.ValidEmail)
            failures = domain_failures.get(valid.ascii_domain)
            if failures is None:
                if len(domain_failures) >= MEMO_LIMIT:
                    domain_failures.clear()
                failures = domain_failures[valid.ascii_domain] = failures_for(valid)
            if failures:
                return (valid.normalized, tuple(problem(text, f) for f in failures))
            return (valid.normalized, None)

        return check, False

    def _build_phone(self) -> tuple[Check, bool]:
        check_phone = phones.check_phone
        problem = self.problem

        def check(raw: str, region: str | None) -> Result:
            text = raw.strip()
            if not text:
                return self.empty_result()
            e164 = check_phone(text, region)
            if e164.__class__ is str:
                return (e164, None)
            return (None, (problem(text, e164),))  # type: ignore[arg-type]

        return check, False


def _not_on_picklist(matcher: picklists.PicklistMatcher, name: str, value: str) -> tuple[str, str, str | None]:
    suggestions = matcher.suggest(value)
    return (catalogue.INVALID_LIST_VALUE, f'is not on picklist "{name}"', suggestions[0] if suggestions else None)


def _disallowed(name: str) -> Failure:
    return Failure(catalogue.DISALLOWED_LIST_VALUE, f'is on picklist "{name}" but not allowed for this source')


def _matches(matcher: DomainMatcher, valid: emails.ValidEmail) -> bool:
    return matcher.matches(valid.ascii_domain) or (
        valid.domain != valid.ascii_domain and matcher.matches(valid.domain)
    )


def _lists(keys: list[str]) -> str:
    return (
        f'the allow list "{keys[0]}"'
        if len(keys) == 1
        else "any of the allow lists " + ", ".join(f'"{k}"' for k in keys)
    )


class Engine:
    """Decides leads for one source; reuse it for consecutive batches of that source."""

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

        # (key, memo or None, check) per field, in field order.
        self._plan: list[tuple[str, dict[str, Result] | None, Check]] = []
        self._country: tuple[str, dict[str, Result], Check] | None = None
        for field in rules.fields:
            check, memoisable = _FieldChecks(self, field).build()
            memo: dict[str, Result] | None = {} if memoisable else None
            self._plan.append((field.key, memo, check))
            if field.type is FieldType.COUNTRY and self._country is None:
                assert memo is not None
                self._country = (field.key, memo, check)

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

    @property
    def resolver(self) -> emails.DnsResolver:
        """The DNS resolver of the deliverability check (email-validator's, unless one was given)."""
        if self._resolver is None:
            self._resolver = emails.LibraryDnsResolver()
        return self._resolver

    # --- deciding --------------------------------------------------------------------------------

    def decide(self, leads: Sequence[LeadInput]) -> list[Decision]:
        """One Decision per lead, in order. An error while checking a lead fails that lead only."""
        checked: list[tuple[LeadInput, dict[str, Any], list[Problem] | None, Mapping[str, str]] | Decision] = []
        check_lead = self._check_lead
        for lead in leads:
            try:
                checked.append(check_lead(lead))
            except Exception as error:
                checked.append(_failed(lead, error))
        return self._finish(checked)

    def _check_lead(
        self, lead: LeadInput
    ) -> tuple[LeadInput, dict[str, Any], list[Problem] | None, Mapping[str, str]]:
        values_ = lead.values
        get = values_.get
        clean: dict[str, Any] = {}
        problems: list[Problem] | None = None

        region: str | None = None
        if self._country is not None:
            key, memo, check = self._country
            raw = get(key)
            if raw.__class__ is not str:
                raw = _as_text(raw)
            result = memo.get(raw)
            if result is None:
                result = check(raw, None)
            region = result[2]  # type: ignore[misc]

        for key, memo, check in self._plan:
            raw = get(key)
            if raw.__class__ is not str:
                raw = _as_text(raw)
            if memo is not None:
                result = memo.get(raw)
                if result is None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    result = memo[raw] = check(raw, region)
            else:
                result = check(raw, region)
            clean[key] = result[0]
            if result[1] is not None:
                if problems is None:
                    problems = list(result[1])
                else:
                    problems.extend(result[1])

        if lead.check_live and not self.rules.live:
            problem = Problem(
                catalogue.SOURCE_NOT_LIVE, None, None, "The source is not live, so it does not accept leads"
            )
            problems = [problem] if problems is None else [*problems, problem]
        if self._has_suppression:
            for key in self._email_fields:
                email = clean.get(key)
                if email:
                    problem_ = self._suppression(key, email)
                    if problem_ is not None:
                        problems = [problem_] if problems is None else [*problems, problem_]

        dedupe_keys = _NO_KEYS
        email = clean.get(self._email_key) if self._email_key else None
        phone = clean.get(self._phone_key) if self._phone_key else None
        if email or phone:
            dedupe_keys = {}
            if email:
                dedupe_keys["email"] = email.lower()
            if phone:
                dedupe_keys["phone"] = phone
        return (lead, clean, problems, dedupe_keys)

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
            memo[domain] = list_key
        if list_key is None:
            return None
        what = f'has a domain ("{domain}") on the suppression list "{list_key}"'
        return Problem(catalogue.SUPPRESSED, key, email, message(self._label[key], email, what))

    def _dedupe_index_keys(self, dedupe_keys: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The index keys of a lead under the source's dedupe rule, with the kind each names."""
        rule = self.rules.dedupe
        if rule is None or not dedupe_keys:
            return ()
        email = dedupe_keys.get("email")
        phone = dedupe_keys.get("phone")
        kind = rule.key
        if kind is DedupeKey.EMAIL:
            return (("email:" + email, "email " + email),) if email else ()
        if kind is DedupeKey.PHONE:
            return (("phone:" + phone, "phone " + phone),) if phone else ()
        if kind is DedupeKey.EMAIL_AND_PHONE:
            if email and phone:
                return ((f"email+phone:{email}|{phone}", f"email and phone {email}, {phone}"),)
            return ()
        keys: list[tuple[str, str]] = []
        if email:
            keys.append(("email:" + email, "email " + email))
        if phone:
            keys.append(("phone:" + phone, "phone " + phone))
        return tuple(keys)

    def _finish(
        self, checked: list[tuple[LeadInput, dict[str, Any], list[Problem] | None, Mapping[str, str]] | Decision]
    ) -> list[Decision]:
        index = self.dedupe_index
        dedupe = self.rules.dedupe is not None and index is not None
        # One look-up for the whole batch: a database-backed index answers it in one query.
        originals: Mapping[str, str] | None = {}
        lead_keys: dict[int, tuple[tuple[str, str], ...]] = {}
        if dedupe:
            wanted: list[str] = []
            for i, item in enumerate(checked):
                if item.__class__ is tuple and item[2] is None:  # type: ignore[index]
                    keys = self._dedupe_index_keys(item[3])  # type: ignore[index]
                    if keys:
                        lead_keys[i] = keys
                        wanted.extend(k for k, _ in keys)
            try:
                originals = index.find(wanted) if wanted else {}  # type: ignore[union-attr]
            except Exception:
                originals = None  # look each lead up on its own below, failing only the leads it fails for

        allocation = self.rules.allocation
        taken: dict[str, str] = {}  # key → lead_id, for leads accepted earlier in this batch
        decisions: list[Decision] = []
        for i, item in enumerate(checked):
            if item.__class__ is not tuple:
                decisions.append(item)  # type: ignore[arg-type]
                continue
            lead, clean, problems, dedupe_keys = item  # type: ignore[misc]
            try:
                if problems is None and dedupe:
                    keys = lead_keys.get(i, ())
                    found = originals if originals is not None else index.find([k for k, _ in keys])  # type: ignore[union-attr]
                    problems = self._duplicate(lead, keys, found, taken)
                if problems is None and allocation is not None and self.allocation_used >= allocation:
                    problems = [
                        Problem(
                            catalogue.ALLOCATION_REACHED,
                            None,
                            None,
                            f"The source's allocation of {allocation} leads is reached",
                        )
                    ]
                if problems is None:
                    if dedupe:
                        for key, _ in lead_keys.get(i, ()):
                            taken.setdefault(key, lead.lead_id)
                            index.add(key, lead.lead_id)  # type: ignore[union-attr]
                    self.allocation_used += 1
                    decisions.append(
                        Decision(lead.lead_id, Status.ACCEPTED, catalogue.ACCEPT_LEAD, "", (), clean, dedupe_keys)
                    )
                else:
                    decisions.append(self._rejected(lead, clean, problems, dedupe_keys))
            except Exception as error:
                decisions.append(_failed(lead, error))
        return decisions

    def _duplicate(
        self,
        lead: LeadInput,
        keys: tuple[tuple[str, str], ...],
        found: Mapping[str, str],
        taken: Mapping[str, str],
    ) -> list[Problem] | None:
        for key, described in keys:
            original = found.get(key)
            if original is None or original == lead.lead_id:
                original = taken.get(key)
            if original is not None and original != lead.lead_id:
                kind = key.partition(":")[0]
                field = self._email_key if kind.startswith("email") else self._phone_key
                value = key.partition(":")[2]
                text = f"Duplicate of {original} (same {described})"
                return [Problem(catalogue.DUPLICATE, field, value, text, original)]
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


def _failed(lead: LeadInput, error: Exception) -> Decision:
    reason = f"Internal error while checking this lead: {type(error).__name__}: {shown(str(error))}"
    problem = Problem(catalogue.FAILED_PROCESSING_ERROR, None, None, reason)
    return Decision(
        lead.lead_id, Status.FAILED, catalogue.FAILED_PROCESSING_ERROR, reason, (problem,), _EMPTY_CLEAN, _NO_KEYS
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


__all__ = ["Check", "Engine", "Result", "decide", "domain_forms", "message", "shown"]


def _unused(_: Iterable[object]) -> None:  # pragma: no cover - keeps imports explicit for readers
    return None
