"""`apply` and `export` of definition files (SPEC §6)."""

from __future__ import annotations

import pytest

from leadgate.delivery.models import Destination
from leadgate.sources.definition_file import DefinitionError, apply_definition, export_definition
from leadgate.sources.models import Field, ListMapper, Picklist, Source
from tests.conftest import SPEC_EXAMPLE

pytestmark = pytest.mark.django_db


def test_spec_example_creates_every_item():
    result = apply_definition(SPEC_EXAMPLE)
    assert result.created == [
        "picklist:job_level",
        "list_mapper:job_level_to_crm",
        "domain_list:free_email",
        "domain_list:competitors",
        "suppression_list:do_not_contact",
        "destination:crm_webhook",
        "source:data-summit-2026",
    ]
    assert result.updated == result.unchanged == []
    source = Source.objects.get(slug="data-summit-2026")
    assert source.status == "live" and source.allocation == 5000 and source.dedupe_key == "email"
    assert [f.key for f in source.fields.all()] == [
        "email",
        "first_name",
        "job_level",
        "country",
        "phone",
        "opt_in",
    ]
    email = source.fields.get(key="email")
    assert email.aliases == ["Email Address", "E-mail"]
    assert [(r.domain_list.key, r.mode) for r in email.domain_rules.all()] == [("free_email", "exclude")]
    job_level = Picklist.objects.get(key="job_level")
    assert {a.alias: a.value.value for a in job_level.aliases.all()} == {
        "Chief": "C-Level",
        "Vice President": "VP",
    }
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    assert {e.value.value: e.output for e in mapper.entries.all()} == {
        "C-Level": "Executive",
        "VP": "Executive",
        "Director": "Director",
    }
    assert list(Destination.objects.get(key="crm_webhook").mapping.values_list("to", flat=True)) == [
        "Email",
        "JobLevel",
        "LeadSource",
    ]


def test_apply_is_idempotent():
    apply_definition(SPEC_EXAMPLE)
    again = apply_definition(SPEC_EXAMPLE)
    assert again.created == again.updated == []
    assert len(again.unchanged) == 7


def test_export_applies_back_unchanged():
    apply_definition(SPEC_EXAMPLE)
    exported = export_definition()
    result = apply_definition(exported)
    assert result.created == result.updated == []
    assert "data-summit-2026" in exported and "job_level_to_crm" in exported


def test_a_change_updates_only_that_item_and_keeps_mapper_entries():
    apply_definition(SPEC_EXAMPLE)
    changed = SPEC_EXAMPLE.replace("values: [C-Level, VP,", "values: [C-Level, SVP, VP,")
    result = apply_definition(changed)
    assert result.updated == ["picklist:job_level"]
    assert result.created == []
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    assert mapper.entries.count() == 3  # entries of values that stayed survive the update


def test_misspelt_picklist_is_reported_with_its_path_and_nothing_changes():
    broken = SPEC_EXAMPLE.replace(
        "type: picklist, picklist: job_level", "type: picklist, picklist: job_levle"
    )
    with pytest.raises(DefinitionError) as err:
        apply_definition(broken)
    assert err.value.errors == ['sources[0].fields[2].picklist: no picklist "job_levle"']
    assert not Source.objects.exists() and not Picklist.objects.exists()


def test_every_error_is_reported_at_once():
    broken = SPEC_EXAMPLE.replace("type: country", "type: contry").replace("kind: event", "kind: expo")
    broken = broken.replace("max_length: 40", "max_length: forty").replace(
        "suppression_lists: [do_not_contact]", "suppression_lists: [dnc]"
    )
    with pytest.raises(DefinitionError) as err:
        apply_definition(broken)
    errors = err.value.errors
    assert any(e.startswith("sources[0].fields[3].type:") for e in errors)
    assert any(e.startswith("sources[0].kind:") for e in errors)
    assert any(e.startswith("sources[0].fields[1].max_length:") for e in errors)
    assert 'sources[0].suppression_lists[0]: no suppression list "dnc"' in errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [", "line"),
        ("- just\n- a list\n", "the file must be a mapping"),
        ("sourcs: []\n", "sourcs: unknown section"),
        ("sources:\n  - {slug: Bad Slug}\n", 'sources[0].slug: "Bad Slug"'),
        ("sources:\n  - {slug: x, requird: true}\n", "sources[0].requird: unknown key"),
        ("sources:\n  - {slug: x}\n  - {slug: x}\n", 'sources[1]: source "x" appears twice'),
        (
            "picklists:\n  - {key: p, values: [A], aliases: {B: C}}\n",
            "picklists[0]",
        ),
        (
            "sources:\n  - slug: x\n    fields: [{key: level, type: picklist}]\n",
            "sources[0].fields[0].picklist: is required",
        ),
        (
            "sources:\n  - slug: x\n    timezone: Mars/Olympus\n",
            'sources[0].timezone: "Mars/Olympus" is not a time zone',
        ),
        (
            "sources:\n  - slug: x\n    dedupe: {key: phone}\n    fields: [{key: email, type: email}]\n",
            "sources[0].dedupe.key: phone needs a field of type phone",
        ),
    ],
)
def test_invalid_files_name_the_problem(text, expected):
    with pytest.raises(DefinitionError) as err:
        apply_definition(text)
    assert any(expected in e for e in err.value.errors), err.value.errors


def test_dry_run_changes_nothing():
    result = apply_definition(SPEC_EXAMPLE, dry_run=True)
    assert len(result.created) == 7
    assert not Source.objects.exists()


def test_allowed_values_must_be_on_the_picklist():
    text = SPEC_EXAMPLE.replace(
        "type: picklist, picklist: job_level, required: true",
        "type: picklist, picklist: job_level, required: true, allowed_values: [VP, Boss]",
    )
    with pytest.raises(DefinitionError) as err:
        apply_definition(text)
    assert err.value.errors == [
        'sources[0].fields[2].allowed_values: "Boss" is not a value of picklist "job_level"'
    ]


def test_removed_field_is_removed():
    apply_definition(SPEC_EXAMPLE)
    apply_definition(SPEC_EXAMPLE.replace("      - {key: phone, label: Phone, type: phone}\n", ""))
    assert not Field.objects.filter(key="phone").exists()
