"""POST /api/v1/sources/{slug}/leads: decisions, idempotency, errors as problem+json."""

from __future__ import annotations

import json

import pytest

from leadgate.leads.models import IdempotencyRecord, Lead, LeadEvent
from tests.conftest import good_lead

URL = "/sources/data-summit-2026/leads"


def test_one_lead_is_decided_and_answered(personas):
    r = personas["owner"].post(URL, good_lead())
    assert r.status_code == 201
    body = r.json()
    assert set(body) >= {"lead_id", "status", "disposition_code", "custom_reason", "problems"}
    assert (body["status"], body["disposition_code"], body["problems"]) == ("accepted", "ACCEPT_LEAD", [])
    lead = Lead.objects.get(lead_id=body["lead_id"])
    assert lead.received_via == "api"
    assert LeadEvent.objects.get(lead=lead).actor == "api key booth app"


def test_a_rejected_lead_is_still_201_with_its_problems(personas):
    r = personas["owner"].post(URL, good_lead(email="not-an-email", job_level="Chief Wizard"))
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "rejected"
    assert body["disposition_code"] == "REJECT_LEAD_INVALID_EMAIL"
    assert {p["code"] for p in body["problems"]} == {
        "REJECT_LEAD_INVALID_EMAIL",
        "REJECT_LEAD_INVALID_LIST_VALUE",
    }


def test_an_array_is_answered_in_order_and_keys_may_be_labels_or_aliases(personas):
    leads = [
        {
            "Email Address": "a@acme-corp.com",
            "First Name": "A",
            "job_level": "VP",
            "country": "DE",
            "opt_in": True,
        },
        good_lead(email="b@acme-corp.com", job_level="nope"),
    ]
    r = personas["owner"].post(URL, leads)
    assert r.status_code == 201
    assert [x["status"] for x in r.json()] == ["accepted", "rejected"]
    assert Lead.objects.count() == 2


def test_form_encoded_single_lead(personas):
    from urllib.parse import urlencode

    r = personas["owner"].post(URL, urlencode(good_lead()), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 201 and r.json()["status"] == "accepted"


def test_idempotency_key_replays_the_first_answer(personas):
    first = personas["owner"].post(URL, good_lead(), headers={"Idempotency-Key": "k-1"})
    again = personas["owner"].post(URL, good_lead(), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    other = personas["owner"].post(URL, good_lead(first_name="Bo"), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Lead.objects.count() == 1


def test_external_id_makes_retries_safe_per_lead(personas):
    batch = [good_lead(external_id="crm-1"), good_lead(email="b@acme-corp.com", external_id=2)]
    first = personas["owner"].post(URL, batch).json()
    retry = personas["owner"].post(URL, [*batch, good_lead(email="c@acme-corp.com", external_id="crm-3")])
    assert [x["lead_id"] for x in retry.json()[:2]] == [x["lead_id"] for x in first]
    assert [x["external_id"] for x in retry.json()] == ["crm-1", "2", "crm-3"]
    assert Lead.objects.count() == 3
    # The same external_id twice in one request is one lead.
    twice = personas["owner"].post(URL, [good_lead(external_id="x"), good_lead(external_id="x")]).json()
    assert twice[0]["lead_id"] == twice[1]["lead_id"]
    assert Lead.objects.count() == 4


def test_idempotency_records_are_purged_after_two_days(personas):
    import datetime as dt

    from django.utils import timezone

    from leadgate.leads.intake import purge_idempotency_records

    personas["owner"].post(URL, good_lead(), headers={"Idempotency-Key": "old"})
    assert purge_idempotency_records() == 0
    assert purge_idempotency_records(timezone.now() + dt.timedelta(hours=49)) == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 422, "malformed_json"),
        ("[" * 100_000, "application/json", 422, "malformed_json"),
        ("[]", "application/json", 422, "no_leads"),
        ("42", "application/json", 422, "not_a_lead"),
        ('[1, "x"]', "application/json", 422, "invalid_lead"),
        ('{"email": {"nested": 1}}', "application/json", 422, "invalid_lead"),
        ('{"email": "a@b.com", "external_id": true}', "application/json", 422, "invalid_lead"),
        ("email=a@b.com", "text/plain", 415, "unsupported_media_type"),
        (b"\xff\xfe\x00garbage", "application/json", 422, "malformed_json"),
    ],
)
def test_malformed_bodies_are_clear_problems_and_store_nothing(personas, body, content_type, status, code):
    r = personas["owner"].post(URL, body, content_type=content_type)
    assert r.status_code == status
    assert r["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]
    assert Lead.objects.count() == 0


def test_more_than_1000_leads_is_refused(personas):
    r = personas["owner"].post(URL, [good_lead()] * 1001)
    assert (r.status_code, r.json()["code"]) == (422, "too_many_leads")
    assert Lead.objects.count() == 0


def test_body_over_the_limit_is_413(personas, settings):
    settings.LEADGATE_API_MAX_BODY = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = personas["owner"].post(URL, [good_lead()] * 20)
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")
    assert Lead.objects.count() == 0


def test_a_key_never_reaches_another_source(personas):
    r = personas["outsider"].post(URL, good_lead())
    assert (r.status_code, r.json()["code"]) == (404, "unknown_source")
    r = personas["owner"].post("/sources/other-event/leads", {"email": "a@b.com"})
    assert r.status_code == 404
    assert personas["viewer"].post(URL, good_lead()).status_code == 403
    assert personas["manager"].post(URL, good_lead()).status_code == 201
    assert Lead.objects.count() == 1


def test_no_key_or_a_revoked_key_is_401(personas, summit):
    from leadgate.accounts.models import ApiKey
    from leadgate.accounts.services import revoke_api_key
    from tests.api.conftest import Api

    assert Api(None).post(URL, good_lead()).status_code == 401
    assert Api("lgk_made-up").post(URL, good_lead()).status_code == 401
    revoke_api_key(ApiKey.objects.get(name="booth app"))
    r = personas["owner"].post(URL, good_lead())
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert Lead.objects.count() == 0


def test_rate_limit_answers_429_with_retry_after(personas, settings):
    settings.LEADGATE_API_RATE_LIMIT = 3
    answers = [personas["owner"].post(URL, good_lead(email=f"r{i}@acme-corp.com")) for i in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    assert int(answers[3]["Retry-After"]) >= 1
    assert answers[3].json()["code"] == "rate_limited"
    assert Lead.objects.count() == 3


def test_status_callback_rows_are_written_with_the_lead(personas, summit):
    from leadgate.delivery.models import StatusCallback

    summit.callback_url = "https://crm.example.com/leadgate"
    summit.save()
    body = personas["owner"].post(URL, good_lead()).json()
    row = StatusCallback.objects.get()
    assert row.payload["lead_id"] == body["lead_id"]
    assert set(row.payload) == {"lead_id", "status", "disposition_code", "custom_reason", "timestamp"}


def test_a_paused_source_still_answers_201_with_not_live(personas, summit):
    personas["manager"].post("/sources/data-summit-2026/pause")
    body = personas["owner"].post(URL, good_lead()).json()
    assert body["disposition_code"] == "REJECT_LEAD_SOURCE_NOT_LIVE"
    personas["manager"].post("/sources/data-summit-2026/resume")
    assert personas["owner"].post(URL, good_lead(email="n@acme-corp.com")).json()["status"] == "accepted"


def test_openapi_document_and_docs_page(personas):
    r = personas["owner"].client.get("/api/v1/openapi.json")
    doc = json.loads(r.content)
    post = doc["paths"]["/api/v1/sources/{slug}/leads"]["post"]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]
    page = personas["owner"].client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"swagger-ui" in page.content and b"cdn" not in page.content.lower()


def test_lone_surrogates_and_nuls_are_stored_safely(personas):
    body = (
        '{"email": "a@acme-corp.com", "first_name": "Ann\\ud800\\u0000", "job_level": "VP", "country": "DE", '
        '"opt_in": "yes", "company\\udc00": "x"}'
    )
    r = personas["owner"].post(URL, body)
    assert r.status_code == 201
    lead = Lead.objects.get(lead_id=r.json()["lead_id"])
    assert lead.values["first_name"] == "Ann\ufffd"


def test_a_deactivated_users_token_stops_working(personas, django_user_model):
    assert personas["manager"].get("/sources").status_code == 200
    django_user_model.objects.filter(username="manager-user").update(is_active=False)
    from leadgate.accounts.services import forget_authenticated_keys

    forget_authenticated_keys()  # what AUTH_CACHE_SECONDS does by itself in a running server
    assert personas["manager"].get("/sources").status_code == 401


def test_nul_characters_anywhere_are_clear_errors_or_dropped(personas):
    r = personas["admin"].get("/sources/data%00summit")
    assert (r.status_code, r.json()["code"]) == (400, "nul_character")
    r = personas["admin"].get("/sources/data-summit-2026/leads", q="a\x00b")
    assert (r.status_code, r.json()["code"]) == (400, "nul_character")
    r = personas["admin"].post("/keys", {"name": "bad\x00name"})
    assert r.status_code == 201 and r.json()["name"] == "badname"
    r = personas["manager"].post("/suppression-lists/do_not_contact/add", {"emails": ["x\x00@y.com"]})
    assert "x@y.com" in r.json()["emails"]
