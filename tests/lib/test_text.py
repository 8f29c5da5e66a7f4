"""Storable text: whatever JSON a client sends, what is parsed can be stored by every database."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from leadgate.lib.text import storable, storable_json

# Any code point, lone surrogates and NUL included: what JSON's \u escapes can carry.
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None))


def unstorable(value):
    return any(0xD800 <= ord(c) <= 0xDFFF or c == "\x00" for c in value)


@given(
    st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=4),
    st.booleans(),
    st.sampled_from(["utf-8", "utf-16", "utf-32"]),
)
def test_the_fast_path_parses_exactly_what_the_full_walk_does(lead, ascii_only, encoding):
    text = json.dumps(lead, ensure_ascii=ascii_only)
    try:
        body = text.encode(encoding, "surrogatepass")
    except UnicodeEncodeError:
        return
    assert storable_json(body) == storable(json.loads(body))


@given(st.lists(ANY_TEXT, max_size=6))
def test_no_parsed_string_holds_a_nul_or_a_lone_surrogate(values):
    for body in (
        json.dumps(values).encode(),
        json.dumps(values, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ):
        parsed = storable_json(body)
        assert not any(unstorable(v) for v in parsed)


def test_a_utf8_encoded_surrogate_and_an_escaped_nul_are_made_storable():
    assert storable_json(b'{"a": "x\xed\xa0\x80y"}') == {"a": "x\ufffdy"}
    assert storable_json(b'["a\\u0000b", "\\ud83d\\ude00"]') == ["ab", "\U0001f600"]


def test_surrogate_pairs_pass_and_lone_halves_are_replaced():
    assert storable_json(
        b'["\\ud83d\\ude00", "\\ud83d", "\\ude00", "\\ude00\\ud83d", "\\ud83d\\ud83d\\ude00"]'
    ) == [
        "\U0001f600",
        "\ufffd",
        "\ufffd",
        "\ufffd\ufffd",
        "\ufffd\U0001f600",
    ]


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | ANY_TEXT,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
        max_leaves=12,
    ),
    st.booleans(),
)
def test_any_json_parses_as_json_loads_parses_it(document, ascii_only):
    # Big integers, floats, escapes and every code point: the fast parser never changes a value.
    body = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    expected = storable(json.loads(body))
    parsed = storable_json(body)
    assert parsed == expected
    assert json.dumps(parsed) == json.dumps(expected)  # 1 and 1.0, True and 1 told apart


def test_what_the_fast_parser_refuses_is_parsed_as_json_parses_it():
    assert storable_json(b'{"phone": 4930123456789012345678}') == {"phone": 4930123456789012345678}
    assert storable_json(b"\xef\xbb\xbf[1]") == [1]
    assert storable_json("[1, 2]".encode("utf-16")) == [1, 2]
    assert storable_json(b"[NaN]")[0] != storable_json(b"[NaN]")[0]  # NaN, as json reads it
    try:
        storable_json(b'{"a": 1,}')
    except json.JSONDecodeError as exc:
        assert str(exc) == "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"
    else:
        raise AssertionError("malformed JSON was parsed")
