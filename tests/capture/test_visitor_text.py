"""What the visitor is told for each disposition code: a page for each, a sentence for each fixable one."""

from __future__ import annotations

import pytest

from leadgate.capture.visitor_text import CLOSED_CODES, FIXABLE_CODES, Reply, reply_for, visitor_message
from leadgate.rules import catalogue
from leadgate.rules.definitions import FieldType
from leadgate.sources.models import Field

EXPECTED_REPLY = {
    "ACCEPT_LEAD": Reply.THANKS,
    "REJECT_LEAD_SOURCE_NOT_LIVE": Reply.CLOSED,
    "REJECT_LEAD_MISSING_REQUIRED_FIELD": Reply.CORRECT,
    "REJECT_LEAD_INVALID_EMAIL": Reply.CORRECT,
    "REJECT_LEAD_UNDELIVERABLE_EMAIL": Reply.CORRECT,
    "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN": Reply.CORRECT,
    "REJECT_LEAD_DOMAIN_NOT_ALLOWED": Reply.CORRECT,
    "REJECT_LEAD_INVALID_LIST_VALUE": Reply.CORRECT,
    "REJECT_LEAD_DISALLOWED_LIST_VALUE": Reply.CORRECT,
    "REJECT_LEAD_INVALID_PHONE": Reply.CORRECT,
    "REJECT_LEAD_INVALID_COUNTRY": Reply.CORRECT,
    "REJECT_LEAD_INVALID_STATE": Reply.CORRECT,
    "REJECT_LEAD_INVALID_VALUE": Reply.CORRECT,
    "REJECT_LEAD_FIELD_TOO_LONG": Reply.CORRECT,
    "REJECT_LEAD_SUPPRESSED": Reply.THANKS,
    "REJECT_LEAD_DUPLICATE": Reply.THANKS,
    "REJECT_LEAD_ALLOCATION_REACHED": Reply.CLOSED,
    "REJECT_LEAD_MANUAL": Reply.THANKS,
    "REJECT_LEAD_DESTINATION": Reply.THANKS,
    "FAILED_PROCESSING_ERROR": Reply.THANKS,
}


def test_every_disposition_code_has_a_decided_reply():
    # A new code in the catalogue must be placed here on purpose.
    assert set(EXPECTED_REPLY) == set(catalogue.BY_CODE)
    for code, expected in EXPECTED_REPLY.items():
        status = catalogue.BY_CODE[code].status
        assert reply_for(status.value, code) is expected, code
    assert FIXABLE_CODES.isdisjoint(CLOSED_CODES)


def test_accepted_and_in_review_leads_are_thanked():
    assert reply_for("accepted", "ACCEPT_LEAD") is Reply.THANKS
    assert reply_for("in_review", "ACCEPT_LEAD") is Reply.THANKS


@pytest.mark.parametrize("code", sorted(FIXABLE_CODES))
@pytest.mark.parametrize("kind", [t.value for t in FieldType])
def test_every_fixable_problem_has_a_plain_sentence_for_every_field_type(code, kind):
    field = Field(key="x", label="X", type=kind, max_length=40, min_value=1, max_value=10, integer=True)
    problem = {"code": code, "field": "x", "value": "v", "message": "X: internal", "suggestion": "Y"}
    text = visitor_message(problem, field, country="Germany")
    assert text and text.endswith(".") and text[0].isupper()
    assert "REJECT_" not in text and "closest" not in text and "picklist" not in text.lower()
    assert "internal" not in text  # the marketer's custom reason is never passed through


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            Field(type="number", integer=True, min_value=1, max_value=10),
            "Please enter a whole number from 1 to 10.",
        ),
        (Field(type="number", min_value=0.5), "Please enter a number of at least 0.5."),
        (Field(type="number", max_value=99), "Please enter a number of at most 99."),
        (Field(type="number"), "Please enter a number."),
        (Field(type="date"), "Please enter a real date, for example 2026-03-14."),
    ],
)
def test_invalid_values_say_what_is_expected(field, expected):
    problem = {"code": catalogue.INVALID_VALUE, "field": "x"}
    assert visitor_message(problem, field) == expected


@pytest.mark.parametrize(
    "code", [catalogue.SUPPRESSED, catalogue.DUPLICATE, catalogue.MANUAL, "SOMETHING_NEW"]
)
def test_problems_the_visitor_cannot_fix_are_never_shown(code):
    assert visitor_message({"code": code, "field": "email"}, Field(type="email")) is None
