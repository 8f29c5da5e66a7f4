"""The fast insert writes exactly what bulk_create would: values read back through the ORM are equal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.store import insert, lead_pks
from leadgate.sources.models import Source


def test_values_survive_the_round_trip(summit):
    at = timezone.now().replace(microsecond=123456) - dt.timedelta(days=3)
    values = {"email": "ünï@exämple.com", "notes": 'quote " and \\ and \n and 日本語 and 🙂', "n": None}
    leads = [
        Lead(
            source=summit,
            values=values,
            clean={"x": [1, 2.5, True, None]},
            problems=[{"code": "X", "field": None}],
            status="rejected",
            disposition_code="REJECT_LEAD_INVALID_EMAIL",
            custom_reason='Email: "ünï" — bad',
            external_id="ext-1",
            email_key="ünï@exämple.com",
            submitted_at=at,
            processed_at=at,
        ),
        Lead(source=summit, submitted_at=at),
    ]
    insert(Lead, leads)
    for lead, pk in zip(leads, lead_pks([lead.lead_id for lead in leads]), strict=True):
        lead.pk = pk
    stored = Lead.objects.get(pk=leads[0].pk)
    assert stored.lead_id == leads[0].lead_id
    assert (stored.values, stored.clean, stored.problems) == (
        values,
        {"x": [1, 2.5, True, None]},
        [{"code": "X", "field": None}],
    )
    assert (stored.submitted_at, stored.processed_at) == (at, at)
    assert stored.updated_at is not None and stored.first_accepted_at is None  # auto_now ran, null stays null
    assert (stored.custom_reason, stored.external_id) == ('Email: "ünï" — bad', "ext-1")
    assert Lead.objects.get(pk=leads[1].pk).values == {}

    insert(
        LeadEvent, [LeadEvent(lead=stored, at=at, kind="received", changes={"email": ["a", "b"]}, note="n")]
    )
    insert(LeadEvent, [{"lead_id": stored.pk, "at": at, "kind": "edited", "note": "as a mapping"}])
    event, mapped = LeadEvent.objects.filter(lead=stored).order_by("id")
    assert (event.at, event.changes, event.user) == (at, {"email": ["a", "b"]}, None)
    assert (mapped.kind, mapped.changes, mapped.actor, mapped.note) == ("edited", {}, "", "as a mapping")


def test_nothing_to_insert():
    insert(LeadEvent, [])
    assert lead_pks([]) == []


def test_update_leads_writes_the_values_the_caller_set_auto_now_included(summit):
    from leadgate.leads.services import process_leads
    from leadgate.leads.store import update_leads
    from tests.conftest import good_lead

    leads = process_leads(summit, [good_lead(), good_lead(email="bo@acme-corp.com")])
    then = timezone.now() - dt.timedelta(days=3)
    for lead in leads:
        lead.custom_reason, lead.updated_at = "checked by hand", then
    update_leads(leads, ["custom_reason", "updated_at"])
    for stored in Lead.objects.filter(pk__in=[lead.pk for lead in leads]):
        assert (stored.custom_reason, stored.updated_at) == ("checked by hand", then)


@pytest.mark.parametrize("copy_from_rows", [1, 10**9], ids=["copy", "insert"])
@pytest.mark.parametrize("review", [False, True])
def test_leads_stored_column_by_column_are_the_leads_apply_decision_makes(
    summit, review, copy_from_rows, monkeypatch
):
    """Intake writes new leads as columns made before the source's lock (``stored_decision``); each must
    read back as the Lead that the engine's decision, applied the ORM way (``apply_decision``), would be:
    accepted, held, rejected by its own checks, and rejected by dedupe under the lock. On PostgreSQL both
    ways of inserting (COPY for many rows, INSERT for few) are taken."""
    monkeypatch.setattr("leadgate.leads.store.COPY_FROM_ROWS", copy_from_rows)
    from leadgate.leads.services import apply_decision, batch_engine, process_leads
    from leadgate.rules.outcome import LeadInput
    from leadgate.sources.compile import compiled_source
    from tests.conftest import good_lead

    Source.objects.filter(pk=summit.pk).update(review=review)
    summit.refresh_from_db()
    submissions = [
        good_lead(),
        good_lead(email="not an email", job_level="Wizard"),
        good_lead(),  # the same email again: a duplicate, decided under the lock
        {**good_lead(email="bo@acme-corp.com"), "Shoe size": "44"},
    ]
    stored = process_leads(summit, submissions)
    engine = batch_engine(summit, compiled_source(summit))
    decisions = engine.decide(
        [LeadInput(lead.lead_id, {k: v for k, v in lead.values.items()}) for lead in stored]
    )
    assert [d.status.value for d in decisions] == ["accepted", "rejected", "rejected", "accepted"]
    for lead, decision in zip(stored, decisions, strict=True):
        expected = Lead(source=summit, submitted_at=lead.submitted_at)
        apply_decision(expected, decision, summit, lead.processed_at)
        for name in ("status", "disposition_code", "custom_reason", "problems", "clean", "email_key",
                     "phone_key"):  # fmt: skip
            assert getattr(lead, name) == getattr(expected, name), name
        assert lead.first_accepted_at == (lead.processed_at if lead.status == "accepted" else None)
    assert stored[0].status == ("in_review" if review else "accepted")
    events = LeadEvent.objects.filter(lead__in=stored).order_by("lead_id")
    assert [(e.kind, e.status_after, e.code_after) for e in events] == [
        ("received", lead.status, lead.disposition_code) for lead in stored
    ]
    assert events.get(lead=stored[3]).note == "Unknown keys ignored: Shoe size"


def test_columns_given_as_polars_series_arrive_as_given(summit):
    """Uploads pass their columns as polars Series: on PostgreSQL they become COPY text directly, so every
    character COPY treats specially must survive, and constants and lists may sit beside them."""
    import json

    import polars as pl

    from leadgate.leads.store import insert_columns

    at = timezone.now().replace(microsecond=0)
    awkward = 'tab\there, line\nbreak, return\r, back\\slash, "quote", \\N, 日本語 🙂'
    values = [json.dumps({"notes": awkward}, ensure_ascii=False), json.dumps({"notes": None})]
    insert_columns(
        Lead,
        {
            "lead_id": pl.Series(["LD-01JDQ3AAAAAAAAAAAAAAAAAAAA", "LD-01JDQ3AAAAAAAAAAAAAAAAAAAB"]),
            "values": pl.Series(values),
            "custom_reason": pl.Series([awkward, ""]),
            "email_key": ["a@x.com", ""],
            "source_id": summit.pk,
            "submitted_at": at,
            "updated_at": at,
        },
        2,
    )
    first, second = Lead.objects.filter(source=summit).order_by("lead_id")
    assert (first.values, first.custom_reason, first.email_key) == ({"notes": awkward}, awkward, "a@x.com")
    assert (second.values, second.custom_reason, second.submitted_at) == ({"notes": None}, "", at)


def test_every_index_on_leads_is_one_the_model_declares(db):
    """Each index costs each of a million uploaded leads a B-tree insert: none may appear by accident (a
    ``unique=True`` CharField adds a LIKE index on PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Lead._meta.db_table)
    indexes = {name for name, c in found.items() if c["index"] or c["unique"]} - {
        name for name, c in found.items() if c["primary_key"]
    }
    declared = {i.name for i in Lead._meta.indexes} | {c.name for c in Lead._meta.constraints}
    upload_index = {name for name, c in found.items() if c["columns"] == ["upload_id"] and c["index"]}
    assert indexes - upload_index == declared
    foreign = {tuple(c["columns"]) for c in found.values() if c["foreign_key"]}
    assert foreign == {("source_id",)}  # the upload link has no constraint to check per row


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["email", "Email Address", "first_name", "First Name", "job_level", "Shoe", "x"]),
            st.none() | st.text(max_size=5) | st.integers() | st.floats(allow_nan=False) | st.booleans(),
            max_size=6,
        ),
        min_size=1,
        max_size=5,
    )
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_prepared_values_are_map_submission_then_jsonable(summit, submissions):
    """``_prepare`` maps keys and makes values text in one pass when no two keys mean one field; either
    way its values and notes are those of ``map_submission`` then ``jsonable``."""
    import json

    from leadgate.leads.services import jsonable, map_submission, prepare_leads
    from leadgate.sources.compile import compiled_source

    [part] = prepare_leads(summit, submissions)
    matcher = compiled_source(summit).matcher
    for raw, stored, note in zip(submissions, part.values, part.notes, strict=True):
        mapped, unknown = map_submission(matcher, raw)
        assert json.loads(stored) == jsonable(mapped)
        assert note == (f"Unknown keys ignored: {', '.join(unknown)}" if unknown else "")
