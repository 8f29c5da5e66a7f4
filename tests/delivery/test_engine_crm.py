"""The engine with a batch destination: a fake Salesforce org over real HTTP.

Batches go out in one request each, every lead's verdict comes back on its own delivery (external record id
included), a record the org refuses turns its lead Rejected while the rest of the batch is delivered, and a
retried batch upserts on the LeadID, so the org never holds two records of one lead.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from leadgate.delivery.engine import Deliverer
from leadgate.delivery.models import Delivery, DeliveryAttempt, Destination, DestinationMapping
from leadgate.leads.services import process_leads
from tests.conftest import good_lead
from tests.delivery.fakes import salesforce as sf


@pytest.fixture
def org():
    fake = sf.FakeSalesforce()
    yield fake
    fake.stop()


@pytest.fixture
def crm(summit, org, settings):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    destination = Destination.objects.create(
        key="salesforce", kind="salesforce", url=org.url, config={"client_id": sf.CLIENT_ID}
    )
    destination.set_secret(sf.CLIENT_SECRET)
    destination.save()
    for position, (from_field, value, to) in enumerate(
        [("email", "", "Email"), ("first_name", "", "FirstName"), ("", "{first_name}", "LastName"),
         ("", "Data Summit 2026", "Company")]
    ):  # fmt: skip
        DestinationMapping.objects.create(
            destination=destination, position=position, from_field=from_field, value=value, to=to
        )
    summit.destinations.set([destination])
    return destination


def _deliver():
    deliverer = Deliverer(threads=4)
    try:
        return deliverer.run_once()
    finally:
        deliverer.close()


@pytest.mark.django_db
def test_a_batch_is_one_request_and_each_lead_gets_its_record_id(summit, crm, org):
    leads = process_leads(
        summit, [good_lead(email=f"l{i}@acme-corp.com", first_name=f"L{i}") for i in range(5)]
    )

    report = _deliver()

    assert report.delivered == 5
    [upsert] = org.api_requests("/composite/sobjects/Lead/")
    assert len(json.loads(upsert.body)["records"]) == 5
    for lead in leads:
        delivery = Delivery.objects.get(lead=lead)
        record = org.lead(lead.lead_id)
        assert record is not None and delivery.external_id == record.id
        assert record.values["Email"] == lead.clean["email"]
    # One exchange for the batch (and one for the token), shared by the five attempts.
    assert {a.exchanges.count() for a in DeliveryAttempt.objects.all()} == {2}


@pytest.mark.django_db
def test_a_refused_record_rejects_only_its_lead(summit, crm, org):
    first, second = process_leads(
        summit, [good_lead(email="ann@acme-corp.com"), good_lead(email="bo@acme-corp.com", first_name="Bo")]
    )
    org.fail_record(second.lead_id, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Company must not be a test company")

    report = _deliver()

    assert (report.delivered, report.refused) == (1, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "accepted"
    assert (second.status, second.disposition_code) == ("rejected", "REJECT_LEAD_DESTINATION")
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION: Company must not be a test company" in second.custom_reason
    assert Delivery.objects.get(lead=second).state == "rejected"


@pytest.mark.django_db
def test_a_retried_batch_updates_the_same_records(summit, crm, org):
    process_leads(summit, [good_lead(email=f"r{i}@acme-corp.com") for i in range(3)])
    org.fault(sf.unavailable())
    assert _deliver().retrying == 3
    Delivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    # The answer was "lost" for the first post too: force a second upsert of the same leads.
    assert _deliver().delivered == 3
    Delivery.objects.update(state="pending", next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert _deliver().delivered == 3
    assert len(org.records["Lead"]) == 3  # upserted on the LeadID: never a second record
