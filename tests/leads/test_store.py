"""The fast insert writes exactly what bulk_create would: values read back through the ORM are equal."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.store import insert, insert_leads


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
    insert_leads(leads)
    assert all(lead.pk for lead in leads)
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
    insert_leads([])


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


def test_an_arriving_lead_is_the_lead_the_keyword_constructor_makes(summit):
    at = timezone.now()
    values = {"email": "ann@acme-corp.com"}
    fast = Lead.arriving(summit, "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ", values, "api", "ext-9", at)
    slow = Lead(
        lead_id="LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ",
        source=summit,
        values=values,
        received_via="api",
        external_id="ext-9",
        submitted_at=at,
    )
    names = [f.attname for f in Lead._meta.concrete_fields]
    assert [getattr(fast, n) for n in names] == [getattr(slow, n) for n in names]
    assert fast.source is summit and fast._state.adding
    other = Lead.arriving(summit, "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZY", {}, "api", "", at)
    assert other.problems is not fast.problems and other.clean is not fast.clean  # never shared


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
