"""What a visitor of the capture form is told about a rejection, in plain words.

The disposition codes and custom reasons are written for the marketer ("…is not on picklist "Job Level" —
closest: …", "…is on the exclude list free_email"). A visitor needs to know only what to change, and must
not learn about internal lists, suppression or other people's leads. So each code the visitor can fix maps
to a sentence here, and every other code leads to a page that says no more than the visitor needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from leadgate.rules import catalogue
from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import FieldType
from leadgate.sources.models import Field

#: Rejections the visitor can put right by changing what they typed or chose.
FIXABLE_CODES = frozenset(
    {
        catalogue.MISSING_REQUIRED_FIELD,
        catalogue.INVALID_EMAIL,
        catalogue.UNDELIVERABLE_EMAIL,
        catalogue.BLOCKED_EMAIL_DOMAIN,
        catalogue.DOMAIN_NOT_ALLOWED,
        catalogue.INVALID_LIST_VALUE,
        catalogue.DISALLOWED_LIST_VALUE,
        catalogue.INVALID_PHONE,
        catalogue.INVALID_COUNTRY,
        catalogue.INVALID_STATE,
        catalogue.INVALID_VALUE,
        catalogue.FIELD_TOO_LONG,
    }
)

#: Rejections that mean the form takes no more submissions.
CLOSED_CODES = frozenset({catalogue.SOURCE_NOT_LIVE, catalogue.ALLOCATION_REACHED})


class Reply(StrEnum):
    """What the visitor sees after a submission was decided."""

    THANKS = "thanks"
    CORRECT = "correct"  # the form again, with a message next to each field to fix
    CLOSED = "closed"


def reply_for(status: str, disposition_code: str) -> Reply:
    """The page a decided lead leads to.

    Duplicates and suppressed leads get the thank-you page: the visitor is either already registered or must
    never learn they are on a do-not-contact list. A failed lead is stored and will be reprocessed by staff,
    so the visitor is thanked too.
    """
    if status != Status.REJECTED:
        return Reply.THANKS
    if disposition_code in FIXABLE_CODES:
        return Reply.CORRECT
    if disposition_code in CLOSED_CODES:
        return Reply.CLOSED
    return Reply.THANKS


def _number_range(field: Field) -> str:
    what = "a whole number" if field.integer else "a number"
    low, high = field.min_value, field.max_value
    if low is not None and high is not None:
        return f"Please enter {what} from {_plain(low)} to {_plain(high)}."
    if low is not None:
        return f"Please enter {what} of at least {_plain(low)}."
    if high is not None:
        return f"Please enter {what} of at most {_plain(high)}."
    return f"Please enter {what}."


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


_INVALID_VALUE_BY_TYPE: dict[str, str] = {
    FieldType.DATE: "Please enter a real date, for example 2026-03-14.",
    FieldType.DATETIME: "Please enter a date and a time, for example 2026-03-14 09:30.",
    FieldType.BOOLEAN: "Please answer yes or no.",
    FieldType.CONSENT: "Please tick the box or leave it empty.",
    FieldType.URL: "Please enter a web address, for example www.example.com.",
}


def visitor_message(
    problem: Mapping[str, Any], field: Field | None, country: str | None = None
) -> str | None:
    """The sentence shown next to a field for one of the lead's problems; None when it must not be shown.

    ``problem`` is a stored problem ({code, field, value, message, suggestion}); ``field`` the source's field
    it names; ``country`` the country the visitor chose, to say which country a state must belong to.
    """
    code = problem.get("code")
    if code not in FIXABLE_CODES:
        return None
    kind = field.type if field is not None else ""
    if code == catalogue.MISSING_REQUIRED_FIELD:
        if kind == FieldType.CONSENT:
            return "Please tick this box to continue."
        if kind in (FieldType.PICKLIST, FieldType.COUNTRY, FieldType.BOOLEAN):
            return "Please choose an answer."
        if kind == FieldType.MULTI_PICKLIST:
            return "Please choose at least one answer."
        return "Please fill in this field."
    if code == catalogue.INVALID_EMAIL:
        return "Please enter a valid email address, for example name@company.com."
    if code == catalogue.UNDELIVERABLE_EMAIL:
        return "We could not find a mail server for this address. Please check it for typing errors."
    if code in (catalogue.BLOCKED_EMAIL_DOMAIN, catalogue.DOMAIN_NOT_ALLOWED):
        return "Please use your work email address."
    if code in (catalogue.INVALID_LIST_VALUE, catalogue.DISALLOWED_LIST_VALUE):
        if kind == FieldType.MULTI_PICKLIST:
            return "Please choose only from the answers listed."
        return "Please choose one of the answers in the list."
    if code == catalogue.INVALID_PHONE:
        return "Please enter a valid phone number. For a number abroad, start with + and the country code."
    if code == catalogue.INVALID_COUNTRY:
        return "Please choose your country from the list."
    if code == catalogue.INVALID_STATE:
        where = f"of {country}" if country else "of the country you chose"
        return f"Please enter a state, province or region {where}."
    if code == catalogue.FIELD_TOO_LONG:
        limit = field.max_length if field is not None else None
        if limit:
            return f"Please shorten this to {limit} characters or fewer."
        return "Please shorten this."
    # INVALID_VALUE
    if kind == FieldType.NUMBER and field is not None:
        return _number_range(field)
    return _INVALID_VALUE_BY_TYPE.get(kind, "Please check this answer.")
