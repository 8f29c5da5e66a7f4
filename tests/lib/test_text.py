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
