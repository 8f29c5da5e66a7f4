"""Fixtures for the capture form: the SPEC example source with its form on, and a source of every type."""

from __future__ import annotations

import time

import pytest

from leadgate.capture.forms import STAMP_INPUT, render_stamp

EVERY_TYPE = """
picklists:
  - key: levels
    name: Internal Level Codes
    values: [C-Level, VP, Director, Manager]
  - key: topics
    name: Topic Taxonomy 2026
    values: [Analytics, AI, Security, Cloud]
sources:
  - slug: every-type
    name: Every Type Expo
    status: live
    form: true
    fields:
      - {key: full_name, label: Full name, type: text, required: true, max_length: 80}
      - {key: email, label: Work email, type: email, required: true}
      - {key: phone, label: Phone, type: phone}
      - {key: employees, label: Employees, type: number, integer: true, min: 1, max: 100000}
      - {key: revenue, label: Revenue, type: number}
      - {key: visit_date, label: Visit date, type: date}
      - {key: meeting_at, label: Meeting at, type: datetime}
      - {key: customer, label: Existing customer, type: boolean}
      - {key: partner, label: "Are you a partner?", type: boolean, required: true}
      - {key: opt_in, label: Send me news, type: consent, required: true}
      - {key: photo_ok, label: Photos are fine, type: consent}
      - {key: website, label: Website, type: url}
      - {key: country, label: Country, type: country, required: true}
      - {key: state, label: State or province, type: state}
      - {key: job_level, label: Job level, type: picklist, picklist: levels, allowed_values: [VP, Director]}
      - {key: interests, label: Interests, type: multi_picklist, picklist: topics, required: true}
"""


@pytest.fixture
def form_source(summit):
    """The SPEC §6 example source ("data-summit-2026") with its capture form turned on."""
    summit.form_enabled = True
    summit.save()
    return summit


@pytest.fixture
def every_type(db):
    """A live source with a form and one field of every type."""
    from leadgate.sources.definition_file import apply_definition
    from leadgate.sources.models import Source

    apply_definition(EVERY_TYPE)
    return Source.objects.get(slug="every-type")


def form_data(source, *, age: float = 10.0, **values):
    """What a browser posts: the values plus a render stamp ``age`` seconds old (old enough for a person)."""
    return {**values, STAMP_INPUT: render_stamp(source, time.time() - age)}


def visitor(**overrides):
    """A visitor's answers to the summit form, as the browser sends them (a ticked box sends "on")."""
    values = {
        "email": "ann.lee@acme-corp.com",
        "first_name": "Ann",
        "job_level": "VP",
        "country": "Germany",
        "phone": "+49 30 1234567",
        "opt_in": "on",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}
