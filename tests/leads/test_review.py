"""The review hold: approving held leads and rejecting them by hand, with history and status callbacks."""

from __future__ import annotations

import pytest

from leadgate.accounts.services import create_user
from leadgate.delivery.models import StatusCallback
from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.review import approve_leads, reject_held_leads
from leadgate.leads.services import Actor, process_leads
from leadgate.lib.tokens import new_webhook_secret
from leadgate.rules.catalogue import MANUAL
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from tests.conftest import SPEC_EXAMPLE, good_lead


@pytest.fixture
def held(db):
    """The SPEC example source with ``review: true``: two leads held, one accepted before, one rejected."""
    apply_definition(SPEC_EXAMPLE.replace("review: false", "review: true"))
    source = Source.objects.get(slug="data-summit-2026")
    assert source.review
    leads = process_leads(
        source,
        [
            good_lead(email="a@acme-corp.com"),
            good_lead(email="b@acme-corp.com"),
            good_lead(email="c@gmail.com"),
        ],
    )
    accepted = leads[1]
    Lead.objects.filter(pk=accepted.pk).update(status="accepted")  # as if approved before
    extra = process_leads(source, [good_lead(email="d@acme-corp.com")])
    return {"source": source, "held": [leads[0], extra[0]], "accepted": accepted, "rejected": leads[2]}


def _reload(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


def test_processing_holds_accepted_leads_in_review(held):
    assert [_reload(lead).status for lead in held["held"]] == ["in_review", "in_review"]
    assert _reload(held["rejected"]).status == "rejected"


def test_approving_accepts_only_the_sources_leads_in_review(held):
    user = create_user("rita", "manager", "correct horse battery")
    every = [*held["held"], held["accepted"], held["rejected"], "LD-NO-SUCH-LEAD"]
    before = {lead.pk: _reload(lead).updated_at for lead in (held["accepted"], held["rejected"])}

    outcome = approve_leads(
        held["source"],
        [lead if isinstance(lead, str) else lead.lead_id for lead in every],
        actor=Actor("web rita", user),
    )

    assert (outcome.total, outcome.changed, outcome.by_status) == (2, 2, {"accepted": 2})
    for lead in held["held"]:
        lead = _reload(lead)
        assert (lead.status, lead.disposition_code, lead.custom_reason) == ("accepted", "ACCEPT_LEAD", "")
        assert lead.first_accepted_at is not None and lead.first_accepted_at == lead.updated_at
        event = lead.events.get(kind=LeadEvent.Kind.APPROVED)
        assert (event.status_before, event.code_before) == ("in_review", "ACCEPT_LEAD")
        assert (event.status_after, event.code_after) == ("accepted", "ACCEPT_LEAD")
        assert (event.user, event.actor) == (user, "web rita")
    for lead in (held["accepted"], held["rejected"]):
        fresh = _reload(lead)
        assert fresh.updated_at == before[lead.pk]
        assert not fresh.events.filter(kind=LeadEvent.Kind.APPROVED).exists()
    assert _reload(held["rejected"]).status == "rejected"


def test_approving_twice_changes_nothing_the_second_time(held):
    ids = [lead.lead_id for lead in held["held"]]
    approve_leads(held["source"], ids)
    first = _reload(held["held"][0]).first_accepted_at
    outcome = approve_leads(held["source"], ids)
    assert (outcome.total, outcome.changed) == (0, 0)
    assert _reload(held["held"][0]).first_accepted_at == first
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.APPROVED).count() == 2


def test_approving_keeps_an_earlier_first_accepted_at(held):
    lead = held["held"][0]
    Lead.objects.filter(pk=lead.pk).update(first_accepted_at="2026-01-01T00:00:00Z")
    approve_leads(held["source"], [lead.lead_id])
    assert _reload(lead).first_accepted_at.year == 2026 and _reload(lead).first_accepted_at.month == 1


def test_approving_runs_in_batches(held, settings):
    settings.LEADGATE_PROCESS_BATCH_SIZE = 1
    outcome = approve_leads(held["source"], [lead.lead_id for lead in held["held"]])
    assert outcome.changed == 2
    assert {_reload(lead).status for lead in held["held"]} == {"accepted"}


def test_leads_of_another_source_are_not_approved(held):
    other = Source.objects.create(slug="other", name="Other", kind="event")
    outcome = approve_leads(other, [lead.lead_id for lead in held["held"]])
    assert outcome.total == 0
    assert {_reload(lead).status for lead in held["held"]} == {"in_review"}


def test_approving_queues_a_status_callback_per_approved_lead(held, settings):
    source = held["source"]
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    source.callback_url = "http://127.0.0.1:9/hooks/leadgate"
    source.callback_secret = new_webhook_secret()
    source.save(update_fields=["callback_url", "callback_secret"])

    approve_leads(source, [lead.lead_id for lead in held["held"]] + [held["accepted"].lead_id])

    rows = StatusCallback.objects.order_by("id")
    assert sorted(row.lead_id for row in rows) == sorted(lead.pk for lead in held["held"])
    assert {row.payload["status"] for row in rows} == {"accepted"}


def test_rejecting_held_leads_needs_a_reason_and_touches_only_those_in_review(held):
    ids = [lead.lead_id for lead in held["held"]] + [held["accepted"].lead_id]
    with pytest.raises(ValueError):
        reject_held_leads(held["source"], ids, "  ")
    assert {_reload(lead).status for lead in held["held"]} == {"in_review"}

    outcome = reject_held_leads(held["source"], ids, "Booth staff scans")

    assert outcome.changed == 2
    for lead in held["held"]:
        lead = _reload(lead)
        assert (lead.status, lead.disposition_code, lead.custom_reason) == (
            "rejected",
            MANUAL,
            "Booth staff scans",
        )
        event = lead.events.get(kind=LeadEvent.Kind.REJECTED)
        assert (event.status_before, event.status_after, event.note) == (
            "in_review",
            "rejected",
            "Booth staff scans",
        )
    assert _reload(held["accepted"]).status == "accepted"
