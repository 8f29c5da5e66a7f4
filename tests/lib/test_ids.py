from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from leadgate.lib.ids import LEAD_ID_RE, new_lead_id, normalize_lead_id, ulid


def test_lead_ids_are_unique_prefixed_and_time_ordered():
    ids = [new_lead_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(LEAD_ID_RE.match(i) for i in ids)
    assert ulid(1_000)[:10] < ulid(2_000)[:10]


def test_lead_ids_cannot_be_read_as_numbers_or_dates():
    for lead_id in (new_lead_id() for _ in range(200)):
        assert not lead_id.replace("-", "").isdigit()
        assert not re.match(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", lead_id)
        assert lead_id.startswith("LD-")


@given(st.sampled_from(["", " ", "  "]), st.booleans())
def test_normalize_accepts_what_spreadsheets_and_people_do_to_an_id(space, lower):
    lead_id = new_lead_id()
    typed = space + (lead_id.lower() if lower else lead_id) + space
    assert normalize_lead_id(typed) == lead_id


def test_normalize_refuses_non_ids():
    assert normalize_lead_id("12345") is None
    assert normalize_lead_id("LD-123") is None
    assert normalize_lead_id("") is None


def test_lead_ids_made_in_a_batch_are_valid_distinct_and_time_ordered_by_batch():
    from leadgate.lib.ids import LEAD_ID_RE, new_lead_id, new_lead_ids

    before = new_lead_id()
    ids = new_lead_ids(10_000)
    assert len(set(ids)) == 10_000
    assert all(LEAD_ID_RE.match(i) for i in ids)
    assert all(i[:13] >= before[:13] for i in ids)  # the time part
    assert new_lead_ids(0) == []
