from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadgate.rules.definitions import FieldRule
from leadgate.rules.headers import FieldKeyMatcher, header_key

FIELDS = (
    FieldRule("email", "Email", aliases=("Email Address", "E-mail")),
    FieldRule("first_name", "First Name"),
    FieldRule("company", "Organisation", aliases=("Company Name", "Email")),  # a clashing alias loses
)


def test_keys_labels_and_aliases_match_ignoring_case_spaces_underscores_dashes_and_bom():
    m = FieldKeyMatcher(FIELDS)
    for header in (
        "email",
        "EMAIL",
        " Email ",
        "\ufeffEmail",
        "Email Address",
        "email_address",
        "e-mail",
        "E MAIL",
    ):
        assert m.match(header) == "email", header
    for header in ("first_name", "First Name", "FIRST-NAME", "firstname"):
        assert m.match(header) == "first_name", header
    assert m.match("Company Name") == "company"
    assert m.match("Organisation") == "company"
    assert m.match("Badge Colour") is None


@given(st.text(max_size=30))
def test_header_key_is_idempotent(text):
    assert header_key(header_key(text)) == header_key(text)


def test_a_plan_names_each_submitted_keys_field_and_whether_two_mean_one_field():
    m = FieldKeyMatcher(FIELDS)
    assert m.plan(("EMAIL", "First Name", "Badge")) == (("email", "first_name", None), True)
    assert m.plan(("email", "E-mail")) == (("email", "email"), False)
    assert m.plan(("EMAIL", "First Name", "Badge")) is m.plan(("EMAIL", "First Name", "Badge"))  # remembered
