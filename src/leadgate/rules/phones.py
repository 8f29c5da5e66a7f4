"""Phone checks: phonenumbers is the authority; E.164 is the clean form.

``phonenumbers.parse`` plus ``is_valid_number`` costs about 20 µs a number, most of the engine's budget
for a whole lead. The fast path below answers the common shapes — ``+CC`` followed by digits and the
usual separators, or a national number with a default region — from phonenumbers' own metadata
(country calling codes, national-prefix rules, per-region number patterns), compiled once per region.
It mirrors the steps of ``parse``/``is_valid_number`` that apply to those shapes and answers "don't know"
whenever a rarer step would apply (IDD prefixes, numbers starting with the country code, prefix
transform rules, unusual lengths); tests/rules/test_phones.py proves with hypothesis that whenever it
answers, it agrees with the library.

Spreadsheets damage phone numbers in tell-tale ways (``4.41632E+11``, a trailing ``.0``, a lost leading
``+`` or ``0``); the reason then says so, because "not a valid phone number" alone sends people to the
wrong fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc

from leadgate.rules import catalogue
from leadgate.rules.values import Failure

# phonenumbers.parse limits (phonenumberutil._MIN_LENGTH_FOR_NSN / _MAX_LENGTH_FOR_NSN).
_MIN_NSN = 2
_MAX_NSN = 17
_NON_GEO_REGION = "001"

# Digits with the separators people use; a "+" only in front. Letters (extensions, vanity numbers),
# other plus signs and non-ASCII digits all go to the library.
_FAST_SHAPE = re.compile(r"\+?[0-9 ().\-/]*[0-9][0-9 ().\-/]*", re.ASCII)
_DROP_SEPARATORS = str.maketrans("", "", "+ ().-/")

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE]\+?\d+", re.ASCII)
_TRAILING_POINT_ZERO = re.compile(r"(\+?\d{5,})[.,]0+", re.ASCII)
_DIGITS_ONLY = re.compile(r"\d{5,}", re.ASCII)


# --- compiled metadata ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RegionPlan:
    """What parse/is_valid_number need from one region's metadata, compiled once."""

    region: str
    country_code: int
    country_code_str: str
    idd: re.Pattern[str] | None  # international dialling prefix
    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing
    has_transform_rule: bool
    general: re.Pattern[str] | None
    general_lengths: frozenset[int]
    # Lengths for which stripping a national prefix is kept (parse's _test_number_length check).
    strip_keeps: frozenset[int]
    leading_digits: re.Pattern[str] | None
    # For each length, one alternation of the number-type patterns that admit it (None: no type does).
    type_by_length: dict[int, re.Pattern[str] | None]

    def general_matches(self, national: str) -> bool:
        # phonenumbers' _match_national_number: the pattern only, no length check.
        return self.general is not None and self.general.fullmatch(national) is not None

    def has_known_type(self, national: str) -> bool:
        """phonenumbers' ``_number_type_helper(national, metadata) != UNKNOWN``."""
        length = len(national)
        if self.general_lengths and length not in self.general_lengths:
            return False
        if self.general is None or self.general.fullmatch(national) is None:
            return False
        types = self.type_by_length.get(length)
        return types is not None and types.fullmatch(national) is not None


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


def _type_descs(metadata: PhoneMetadata) -> list[PhoneNumberDesc | None]:
    # The order of phonenumbers' _number_type_helper; mobile is only looked at when its pattern differs.
    descs = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    return descs


def _build_plan(region: str, metadata: PhoneMetadata) -> _RegionPlan:
    general = metadata.general_desc or PhoneNumberDesc()
    lengths = tuple(general.possible_length or ())
    local_only = frozenset(general.possible_length_local_only or ())
    # parse() keeps a stripped national prefix unless _test_number_length says TOO_SHORT,
    # IS_POSSIBLE_LOCAL_ONLY or INVALID_LENGTH: i.e. for possible lengths and for anything too long.
    strip_keeps = frozenset(
        n
        for n in range(_MAX_NSN + 2)
        if n not in local_only and (n in lengths or (lengths and n > max(lengths)))
    )
    type_by_length: dict[int, re.Pattern[str] | None] = {}
    for length in range(1, _MAX_NSN + 1):
        patterns = [
            desc.national_number_pattern
            for desc in _type_descs(metadata)
            if desc is not None
            and desc.national_number_pattern
            and (not desc.possible_length or length in desc.possible_length)
        ]
        type_by_length[length] = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    return _RegionPlan(
        region=region,
        country_code=metadata.country_code or 0,
        country_code_str=str(metadata.country_code or 0),
        idd=_compile(metadata.international_prefix),
        national_prefix=_compile(metadata.national_prefix_for_parsing),
        has_transform_rule=bool(metadata.national_prefix_transform_rule),
        general=_compile(general.national_number_pattern),
        general_lengths=frozenset(lengths),
        strip_keeps=strip_keeps,
        leading_digits=_compile(metadata.leading_digits),
        type_by_length=type_by_length,
    )


@cache
def _plan_for_region(region: str) -> _RegionPlan | None:
    metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
    return None if metadata is None else _build_plan(region.upper(), metadata)


@cache
def _plan_for_country_code(country_code: int, region: str) -> _RegionPlan | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    return None if metadata is None else _build_plan(region.upper(), metadata)


@lru_cache(maxsize=1)
def _country_code_prefixes() -> dict[str, tuple[int, tuple[str, ...]]]:
    """ "49" → (49, ("DE",)): every country calling code by its digits (they are prefix-free)."""
    return {str(cc): (cc, tuple(regions)) for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()}


def _main_plan(country_code: int, regions: Sequence[str]) -> _RegionPlan | None:
    # parse() takes the metadata of the calling code's main region (or of the non-geographic entity).
    return _plan_for_country_code(country_code, regions[0])


def _strip_national_prefix(national: str, plan: _RegionPlan) -> str | None:
    """parse()'s national-prefix step (None: a transform rule applies, so ask the library)."""
    prefix = plan.national_prefix
    if prefix is None or not national:
        return national
    match = prefix.match(national)
    if match is None:
        return national
    groups = match.groups()
    if plan.has_transform_rule and (not groups or groups[-1] is not None):
        return None
    stripped = national[match.end() :]
    if plan.general_matches(national) and not plan.general_matches(stripped):
        return national
    return stripped if len(stripped) in plan.strip_keeps else national


def _is_valid(country_code: int, regions: Sequence[str], national: str) -> bool:
    """phonenumbers' is_valid_number for a parsed (country code, national significant number)."""
    if len(regions) == 1:
        region: str | None = regions[0]
    else:
        region = None
        for candidate in regions:
            plan = _plan_for_region(candidate)
            if plan is None:
                continue
            if plan.leading_digits is not None:
                if plan.leading_digits.match(national):
                    region = candidate
                    break
            elif plan.has_known_type(national):
                region = candidate
                break
    if region is None:
        return False
    plan = _plan_for_country_code(country_code, region)
    if plan is None or (region != _NON_GEO_REGION and plan.country_code != country_code):
        return False
    return plan.has_known_type(national)


def fast_parse(value: str, region: str | None) -> tuple[int, str] | None:
    """parse()'s (country code, national significant number) for a common-shaped number, or None."""
    if _FAST_SHAPE.fullmatch(value) is None:
        return None
    return _parse_digits(value.translate(_DROP_SEPARATORS), value[0] == "+", region)


def _parse_digits(digits: str, plus: bool, region: str | None) -> tuple[int, str] | None:
    if len(digits) < 3:
        return None
    if plus:
        if digits[0] == "0":
            return None
        prefixes = _country_code_prefixes()
        found = prefixes.get(digits[:1]) or prefixes.get(digits[:2]) or prefixes.get(digits[:3])
        if found is None:
            return None
        country_code, regions = found
        national = digits[len(str(country_code)) :]
        plan = _main_plan(country_code, regions)
    else:
        if region is None:
            return None
        plan = _plan_for_region(region)
        if plan is None:
            return None
        idd = plan.idd.match(digits) if plan.idd is not None else None
        if idd is not None:
            # "0049 30 …": the region's international prefix, then a country code, as after a "+".
            rest = digits[idd.end() :]
            if len(rest) <= _MIN_NSN or rest[0] == "0":
                return None
            prefixes = _country_code_prefixes()
            found = prefixes.get(rest[:1]) or prefixes.get(rest[:2]) or prefixes.get(rest[:3])
            if found is None:
                return None
            country_code, regions = found
            national = rest[len(str(country_code)) :]
            plan = _main_plan(country_code, regions)
        elif digits.startswith(plan.country_code_str):
            return None
        else:
            country_code = plan.country_code
            national = digits
    if plan is None or len(national) < _MIN_NSN:
        return None
    stripped = _strip_national_prefix(national, plan)
    if stripped is None or not _MIN_NSN <= len(stripped) <= _MAX_NSN:
        return None
    return country_code, stripped


# Verdicts per normalised number: the same number arrives written in many ways ("+49 30 1234567",
# "+49-30-1234567", "+49301234567"), and for these shapes the verdict depends only on the digits, on
# whether a "+" leads, and (without one) on the default region. Bounded like the engine's memos.
_VERDICTS: dict[tuple[str, str | None], str | bool | None] = {}
_VERDICTS_LIMIT = 200_000
_PLUS = "+"  # the "region" of a number with a leading "+": its own country code decides


def fast_e164(value: str, region: str | None) -> str | bool | None:
    """The fast path's verdict: the E.164 form of a valid number, False for an invalid one, or None
    when the fast path does not know (then ask ``library_e164``)."""
    if _FAST_SHAPE.fullmatch(value) is None:
        return None
    digits = value.translate(_DROP_SEPARATORS)
    plus = value[0] == "+"
    key = (digits, _PLUS if plus else region)
    if key in _VERDICTS:
        return _VERDICTS[key]
    verdict: str | bool | None
    parsed = _parse_digits(digits, plus, region)
    if parsed is None:
        verdict = None
    else:
        country_code, national = parsed
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
        verdict = f"+{country_code}{national}" if _is_valid(country_code, regions, national) else False
    if len(_VERDICTS) >= _VERDICTS_LIMIT:
        _VERDICTS.clear()
    _VERDICTS[key] = verdict
    return verdict


def library_e164(value: str, region: str | None) -> str | None:
    """phonenumbers' verdict: the E.164 form of a valid number, else None."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def to_e164(value: str, region: str | None) -> str | None:
    """The E.164 form of ``value`` if it is a valid phone number (``region``: the default region)."""
    fast = fast_e164(value, region)
    if fast is None:
        return library_e164(value, region)
    return fast if isinstance(fast, str) else None


# --- the check -----------------------------------------------------------------------------------


def check_phone(value: str, region: str | None) -> str | Failure:
    """The E.164 form of a valid number, or the failure, with a hint when a spreadsheet damaged it.

    ``value`` is stripped and non-empty; ``region`` is the lead's country (ISO alpha-2) or None, in
    which case the number must be written internationally (``+`` and the country code).
    """
    if value[-1] == "0" and (damaged := _TRAILING_POINT_ZERO.fullmatch(value)):
        # "4930123456.0": a spreadsheet stored the phone as a number. Digits survive, but say so.
        fixed = to_e164(damaged.group(1), region) or to_e164("+" + damaged.group(1).lstrip("+"), None)
        return _invalid('a spreadsheet stored it as a number and added ".0"; re-enter it as text', fixed)
    fast = fast_e164(value, region)
    if fast:
        return str(fast)
    if _SCIENTIFIC.fullmatch(value):
        return _invalid(
            "a spreadsheet turned it into a number in scientific notation and digits were lost;"
            " re-enter it as text"
        )
    if fast is None:
        e164 = library_e164(value, region)
        if e164 is not None:
            return e164
    return _explain_invalid(value, region)


def _invalid(hint: str | None = None, suggestion: str | None = None) -> Failure:
    what = "is not a valid phone number" + (f": {hint}" if hint else "")
    return Failure(catalogue.INVALID_PHONE, what, suggestion)


def _explain_invalid(value: str, region: str | None) -> Failure:
    compact = value.replace(" ", "")
    if _DIGITS_ONLY.fullmatch(compact):
        # A phone stored as a number loses its leading "+" (and a national number its leading 0).
        with_plus = to_e164("+" + compact, None)
        if with_plus is not None:
            return _invalid(
                'the leading "+" seems to be lost (a spreadsheet drops it when it stores the phone as'
                " a number); re-enter it as text",
                with_plus,
            )
        if region is not None and not compact.startswith("0"):
            with_zero = to_e164("0" + compact, region)
            if with_zero is not None:
                return _invalid(
                    "the leading 0 seems to be lost (a spreadsheet drops it when it stores the phone as"
                    " a number); re-enter it as text",
                    with_zero,
                )
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException as error:
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            if value.lstrip().startswith(("+", "00")):
                return _invalid("its country calling code is unknown")
            return _invalid(
                "it has no country code (write it as + and the country code, or give the country)"
            )
        if error.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
            return _invalid("it is too short")
        if error.error_type == NumberParseException.TOO_LONG:
            return _invalid("it is too long")
        return _invalid()
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.TOO_SHORT:
        return _invalid("it is too short")
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        return _invalid("it is too long")
    where = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return _invalid(f"it does not fit the numbering plan of +{number.country_code} ({where})")
