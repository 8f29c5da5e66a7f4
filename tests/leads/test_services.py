"""process_leads / reprocess_leads against a real database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import pytest

from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import Actor, process_leads, reprocess_leads, summary
from leadgate.lib.ids import LEAD_ID_RE
from leadgate.sources.models import Picklist, PicklistAlias, Source
from tests.conftest import good_lead

pytestmark = pytest.mark.django_db


def test_a_good_lead_is_accepted_and_standardised(summit):
    [lead] = process_leads(summit, [good_lead(country="Deutschland", phone="030 1234567")])
    lead.refresh_from_db()
    assert LEAD_ID_RE.match(lead.lead_id)
    assert (lead.status, lead.disposition_code, lead.custom_reason) == ("accepted", "ACCEPT_LEAD", "")
    assert lead.clean["country"] == "Germany"
    assert lead.clean["phone"] == "+49301234567"
    assert lead.values["country"] == "Deutschland"  # values stay as submitted
    assert lead.first_accepted_at is not None
    [event] = lead.events.all()
    assert (event.kind, event.status_after, event.code_after) == ("received", "accepted", "ACCEPT_LEAD")


def test_aliases_and_labels_are_understood_as_keys(summit):
    submission = good_lead()
    submission["Email Address"] = submission.pop("email")
    submission["First Name"] = submission.pop("first_name")
    submission["Badge Colour"] = "blue"
    [lead] = process_leads(summit, [submission])
    assert lead.status == "accepted"
    assert lead.values["email"] == "ann.lee@acme-corp.com"
    assert "Badge Colour" in lead.events.get().note


def test_rejection_names_field_value_and_suggestion(summit):
    [lead] = process_leads(summit, [good_lead(job_level="Chef")])
    assert lead.status == "rejected"
    assert lead.disposition_code == "REJECT_LEAD_INVALID_LIST_VALUE"
    assert 'Job Level: "Chef"' in lead.custom_reason
    assert lead.problems[0]["field"] == "job_level"
    assert lead.problems[0]["suggestion"]


def test_every_problem_is_kept_and_the_code_is_the_first_in_catalogue_order(summit):
    [lead] = process_leads(summit, [good_lead(email="ann@gmail.com", first_name="", job_level="Boss")])
    codes = [p["code"] for p in lead.problems]
    assert lead.disposition_code == "REJECT_LEAD_MISSING_REQUIRED_FIELD"
    assert codes == [
        "REJECT_LEAD_MISSING_REQUIRED_FIELD",
        "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN",
        "REJECT_LEAD_INVALID_LIST_VALUE",
    ]


def test_duplicate_names_the_original_lead_across_calls_and_within_a_batch(summit):
    [first] = process_leads(summit, [good_lead()])
    [second, third] = process_leads(
        summit, [good_lead(email="ANN.LEE@acme-corp.com "), good_lead(email="x@acme.io")]
    )
    assert second.disposition_code == "REJECT_LEAD_DUPLICATE"
    assert first.lead_id in second.custom_reason
    assert third.status == "accepted"
    a, b = process_leads(summit, [good_lead(email="bo@acme.io"), good_lead(email="bo@acme.io")])
    assert (a.status, b.disposition_code) == ("accepted", "REJECT_LEAD_DUPLICATE")
    assert a.lead_id in b.custom_reason


def test_a_rejected_lead_is_never_the_original(summit):
    [rejected] = process_leads(summit, [good_lead(job_level="Boss")])
    [later] = process_leads(summit, [good_lead()])
    assert rejected.status == "rejected" and later.status == "accepted"


def test_suppression_list(summit):
    by_email, by_domain = process_leads(
        summit, [good_lead(email="CEO@example.com"), good_lead(email="a@blocked.example")]
    )
    assert by_email.disposition_code == by_domain.disposition_code == "REJECT_LEAD_SUPPRESSED"


def test_allocation_cap(summit):
    Source.objects.filter(pk=summit.pk).update(allocation=2)
    summit.refresh_from_db()
    leads = process_leads(summit, [good_lead(email=f"p{i}@acme.io") for i in range(3)])
    assert [lead.status for lead in leads] == ["accepted", "accepted", "rejected"]
    assert leads[2].disposition_code == "REJECT_LEAD_ALLOCATION_REACHED"
    [later] = process_leads(summit, [good_lead(email="late@acme.io")])
    assert later.disposition_code == "REJECT_LEAD_ALLOCATION_REACHED"


def test_source_not_live_and_reprocessing_after_it_goes_live(summit):
    Source.objects.filter(pk=summit.pk).update(status="paused")
    summit.refresh_from_db()
    [lead] = process_leads(summit, [good_lead()])
    assert lead.disposition_code == "REJECT_LEAD_SOURCE_NOT_LIVE"
    reprocess_leads(summit, [lead.lead_id])
    lead.refresh_from_db()
    assert lead.disposition_code == "REJECT_LEAD_SOURCE_NOT_LIVE"  # still paused: still rejected
    Source.objects.filter(pk=summit.pk).update(status="live")
    summit.refresh_from_db()
    reprocess_leads(summit, [lead.lead_id])
    lead.refresh_from_db()
    assert lead.status == "accepted"


def test_leads_received_while_live_are_revalidated_after_the_source_closed(summit):
    [lead] = process_leads(summit, [good_lead(job_level="Chef")])
    Source.objects.filter(pk=summit.pk).update(status="closed")
    summit.refresh_from_db()
    reprocess_leads(summit, [lead.lead_id], edits={lead.lead_id: {"job_level": "Manager"}})
    lead.refresh_from_db()
    assert lead.status == "accepted"


def test_review_hold(summit):
    Source.objects.filter(pk=summit.pk).update(review=True)
    summit.refresh_from_db()
    [lead] = process_leads(summit, [good_lead()])
    assert (lead.status, lead.disposition_code) == ("in_review", "ACCEPT_LEAD")


def test_fixing_the_picklist_and_reprocessing_accepts_and_records_history(summit, django_user_model):
    [lead] = process_leads(summit, [good_lead(job_level="Head of Sales")])
    assert lead.disposition_code == "REJECT_LEAD_INVALID_LIST_VALUE"
    picklist = Picklist.objects.get(key="job_level")
    PicklistAlias.objects.create(
        picklist=picklist, alias="Head of Sales", value=picklist.values.get(value="Director")
    )
    user = django_user_model.objects.create(username="maria")
    outcome = reprocess_leads(summit, [lead.lead_id], actor=Actor("web", user), note="alias added")
    assert (outcome.total, outcome.changed, outcome.by_status) == (1, 1, {"accepted": 1})
    lead.refresh_from_db()
    assert lead.clean["job_level"] == "Director"
    event = lead.events.order_by("at", "id").last()
    assert (event.kind, event.user, event.note) == ("reprocessed", user, "alias added")
    assert (event.status_before, event.code_before) == ("rejected", "REJECT_LEAD_INVALID_LIST_VALUE")
    assert (event.status_after, event.code_after) == ("accepted", "ACCEPT_LEAD")


def test_edits_are_recorded_field_by_field(summit):
    [lead] = process_leads(summit, [good_lead(email="bad@@acme")])
    reprocess_leads(
        summit, [lead.lead_id], edits={lead.lead_id: {"email": "good@acme.io"}}, actor=Actor("upload")
    )
    event = lead.events.order_by("id").last()
    assert event.kind == "edited"
    assert event.changes == {"email": ["bad@@acme", "good@acme.io"]}
    lead.refresh_from_db()
    assert lead.status == "accepted" and lead.values["email"] == "good@acme.io"


def test_reprocessing_writes_values_and_dedupe_keys_only_where_they_changed(summit, monkeypatch):
    from leadgate.leads import services

    written = []
    real = services.update_leads

    def update_leads(leads, fields):
        written.append(([lead.lead_id for lead in leads], {"values", "email_key"} & set(fields)))
        return real(leads, fields)

    monkeypatch.setattr(services, "update_leads", update_leads)
    fixed, edited = process_leads(
        summit, [good_lead(job_level="Head of Sales"), good_lead(email="bad@@acme")]
    )
    add = Picklist.objects.get(key="job_level")
    PicklistAlias.objects.create(picklist=add, alias="Head of Sales", value=add.values.get(value="Director"))
    reprocess_leads(
        summit, [fixed.lead_id, edited.lead_id], edits={edited.lead_id: {"email": "good@acme.io"}}
    )
    assert sorted(written) == sorted([([fixed.lead_id], set()), ([edited.lead_id], {"values", "email_key"})])
    fixed.refresh_from_db()
    edited.refresh_from_db()
    assert (fixed.status, fixed.email_key) == ("accepted", "ann.lee@acme-corp.com")
    assert (edited.status, edited.email_key, edited.values["email"]) == (
        "accepted",
        "good@acme.io",
        "good@acme.io",
    )


def test_an_internal_error_fails_only_that_lead(summit, monkeypatch):
    from leadgate.rules.engine import Engine

    real_check = Engine.check

    def flaky(self, leads):
        if any(item.values.get("first_name") == "Boom" for item in leads):
            raise RuntimeError("checker exploded")
        return real_check(self, leads)

    monkeypatch.setattr(Engine, "check", flaky)
    ok, boom, also_ok = process_leads(
        summit, [good_lead(email="a@acme.io"), good_lead(email="b@acme.io", first_name="Boom"), good_lead()]
    )
    assert (ok.status, also_ok.status) == ("accepted", "accepted")
    assert (boom.status, boom.disposition_code) == ("failed", "FAILED_PROCESSING_ERROR")
    assert "checker exploded" in boom.custom_reason
    assert Lead.objects.count() == 3 and LeadEvent.objects.count() == 3


def test_summary_counts(summit):
    process_leads(
        summit, [good_lead(), good_lead(), good_lead(email="x@gmail.com"), good_lead(email="y@acme.io")]
    )
    data = summary(summit)
    assert data["total"] == 4
    assert data["status"]["accepted"] == 2 and data["status"]["rejected"] == 2
    assert data["dispositions"] == {
        "ACCEPT_LEAD": 2,
        "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN": 1,
        "REJECT_LEAD_DUPLICATE": 1,
    }
    assert set(data["deliveries"]) == {"pending", "delivered", "retrying", "dead", "rejected"}


def test_large_batches_are_split_and_all_decided(summit, settings):
    settings.LEADGATE_PROCESS_BATCH_SIZE = 50
    Source.objects.filter(pk=summit.pk).update(allocation=None)
    summit.refresh_from_db()
    leads = process_leads(
        summit, [good_lead(email=f"u{i}@acme.io") for i in range(120)] + [good_lead(email="u7@acme.io")]
    )
    assert Lead.objects.filter(status="accepted").count() == 120
    assert leads[-1].disposition_code == "REJECT_LEAD_DUPLICATE"


def test_a_failing_dedupe_step_fails_the_batch_visibly_and_loses_nothing(summit, monkeypatch):
    from leadgate.rules.engine import Engine

    def broken(self, checked):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(Engine, "settle", broken)
    leads = process_leads(summit, [good_lead(email="a@acme.io"), good_lead(email="b@acme.io")])
    assert {(lead.status, lead.disposition_code) for lead in leads} == {("failed", "FAILED_PROCESSING_ERROR")}
    assert Lead.objects.filter(status="failed").count() == 2
    monkeypatch.undo()
    outcome = reprocess_leads(summit, [lead.lead_id for lead in leads])
    assert outcome.by_status == {"accepted": 2}


def test_rules_changed_between_check_and_lock_are_applied(summit, monkeypatch):
    """Each lead's own checks run before the source's lock; if the rules change meanwhile, they run again."""
    from leadgate.leads import services
    from leadgate.sources.models import Picklist, PicklistAlias

    real = services.compiled_source
    calls = []

    def compiled_then_alias(source):
        calls.append(1)
        if len(calls) == 2:  # under the lock: someone added an alias after the leads were checked
            picklist = Picklist.objects.get(key="job_level")
            PicklistAlias.objects.create(
                picklist=picklist, alias="Head of Sales", value=picklist.values.get(value="Director")
            )
        return real(source)

    monkeypatch.setattr(services, "compiled_source", compiled_then_alias)
    [lead] = process_leads(summit, [good_lead(job_level="Head of Sales")])
    assert (lead.status, lead.clean["job_level"]) == ("accepted", "Director")


def test_stored_dedupe_by_email_and_phone(summit):
    Source.objects.filter(pk=summit.pk).update(dedupe_key="email_and_phone")
    summit.refresh_from_db()
    [first] = process_leads(summit, [good_lead()])
    same, other_phone = process_leads(
        summit, [good_lead(phone="+49 30 1234567"), good_lead(phone="+49 30 7654321")]
    )
    assert first.status == "accepted"
    assert same.disposition_code == "REJECT_LEAD_DUPLICATE" and first.lead_id in same.custom_reason
    assert other_phone.status == "accepted"


def test_stored_dedupe_keeps_to_the_lookback_window(summit):
    import datetime as dt

    from django.utils import timezone

    long_ago = timezone.now() - dt.timedelta(days=400)  # the example's rule looks back 365 days
    [old] = process_leads(summit, [good_lead()], submitted_at=long_ago)
    [again] = process_leads(summit, [good_lead()])
    [third] = process_leads(summit, [good_lead()])
    assert (old.status, again.status) == ("accepted", "accepted")
    assert third.disposition_code == "REJECT_LEAD_DUPLICATE" and again.lead_id in third.custom_reason


def test_stored_dedupe_across_all_sources(summit):
    from leadgate.sources.definition_file import apply_definition

    apply_definition(
        "sources:\n  - slug: roadshow\n    status: live\n    dedupe: {key: email, scope: all}\n"
        "    fields: [{key: email, label: Email, type: email}]\n"
    )
    [original] = process_leads(summit, [good_lead()])
    [elsewhere] = process_leads(Source.objects.get(slug="roadshow"), [{"email": "Ann.Lee@acme-corp.com"}])
    assert elsewhere.disposition_code == "REJECT_LEAD_DUPLICATE"
    assert original.lead_id in elsewhere.custom_reason
