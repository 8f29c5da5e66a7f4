"""Destinations and deliveries over the API, by role, against a real receiver on 127.0.0.1: health and
counts, test connection and test lead with their exchanges, the delivery log with its cursor, retrying the
dead, a lead's deliveries with their attempts, redelivering. No answer ever holds the secret."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from leadgate.delivery.models import Delivery, Destination, Exchange
from leadgate.leads.services import process_leads
from tests.conftest import good_lead
from tests.deliveries import deliver, make_due
from tests.receiver import Reply

SLUG = "data-summit-2026"
HOOK = "/destinations/crm_webhook"


def _leads(summit, n):
    return process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(n)])


def _no_secret(destination, *responses):
    secret = destination.secret()
    assert secret.startswith("whsec_")
    for response in responses:
        text = response.content.decode()
        assert secret not in text and secret.removeprefix("whsec_") not in text
        assert destination.secret_encrypted not in text
        assert "T0K3N" not in text  # the URL's path may carry a token: host only, exchanges included


READS = [
    "/destinations",
    HOOK,
    f"{HOOK}/deliveries",
]


@pytest.mark.parametrize("path", READS)
def test_reads_by_role(personas, hook, path):
    for persona in ("admin", "manager", "viewer"):
        assert personas[persona].get(path).status_code == 200, persona
    for persona in ("owner", "outsider"):
        r = personas[persona].get(path)
        assert (r.status_code, r.json()["code"]) == (403, "ingestion_key_not_allowed"), persona


def test_a_leads_deliveries_are_read_by_every_role(personas, hook, summit):
    [lead] = _leads(summit, 1)
    for persona in ("admin", "manager", "viewer"):
        assert personas[persona].get(f"/leads/{lead.lead_id}/deliveries").status_code == 200
    r = personas["owner"].get(f"/leads/{lead.lead_id}/deliveries")
    assert (r.status_code, r.json()["code"]) == (403, "ingestion_key_not_allowed")


def _writes(lead_id):
    return [
        (f"{HOOK}/test", None),
        (f"{HOOK}/test-lead", {}),
        (f"{HOOK}/retry", {}),
        (f"/leads/{lead_id}/deliveries/crm_webhook/redeliver", None),
    ]


def test_actions_need_the_manager_role(personas, hook, summit):
    [lead] = _leads(summit, 1)
    for path, body in _writes(lead.lead_id):
        r = personas["viewer"].post(path, body)
        assert (r.status_code, r.json()["code"]) == (403, "role_not_allowed"), path
        for persona in ("owner", "outsider"):
            r = personas[persona].post(path, body)
            assert (r.status_code, r.json()["code"]) == (403, "ingestion_key_not_allowed"), path
        for persona in ("manager", "admin"):
            assert personas[persona].post(path, body).status_code == 200, (persona, path)


def test_the_list_shows_health_counts_sources_and_the_host_only(personas, hook, summit, receiver):
    # Two delivered, then one failing on its own (a round with any success resets the breaker).
    _leads(summit, 2)
    deliver()
    process_leads(summit, [good_lead(email="late@acme-corp.com")])
    receiver.default = Reply(503)
    deliver()
    r = personas["viewer"].get("/destinations")
    [item] = r.json()
    assert item == {
        "key": "crm_webhook",
        "name": "",
        "kind": "webhook",
        "url": f"http://127.0.0.1:{receiver.port}/…",
        "enabled": True,
        "health": {"status": "failing", "failures_in_a_row": 1, "paused_until": None, "pause_reason": ""},
        "counts": {"pending": 0, "delivered": 2, "retrying": 1, "dead": 0, "rejected": 0},
        "sources": [SLUG],
    }
    _no_secret(hook, r)


def test_a_paused_or_disabled_destination_says_so(personas, hook):
    until = (timezone.now() + dt.timedelta(minutes=5)).replace(microsecond=0)
    Destination.objects.filter(pk=hook.pk).update(
        failures_in_a_row=10, paused_until=until, pause_reason="HTTP 503 Service Unavailable"
    )
    health = personas["viewer"].get(HOOK).json()["health"]
    assert health["status"] == "paused"
    assert health["pause_reason"] == "HTTP 503 Service Unavailable"
    assert dt.datetime.fromisoformat(health["paused_until"].replace("Z", "+00:00")) == until
    Destination.objects.filter(pk=hook.pk).update(enabled=False)
    assert personas["viewer"].get(HOOK).json()["health"]["status"] == "disabled"
    Destination.objects.filter(pk=hook.pk).update(enabled=True, failures_in_a_row=0, paused_until=None)
    assert personas["viewer"].get(HOOK).json()["health"]["status"] == "delivering"


def test_the_detail_shows_the_mapping_and_the_unmapped_values(personas, hook):
    r = personas["viewer"].get(HOOK)
    body = r.json()
    assert body["mapping"] == [
        {"from": "email", "value": None, "to": "Email", "mapper": None},
        {"from": "job_level", "value": None, "to": "JobLevel", "mapper": "job_level_to_crm"},
        {"from": None, "value": "Data Summit 2026", "to": "LeadSource", "mapper": None},
    ]
    [warning] = body["warnings"]
    assert warning.startswith("JobLevel: list mapper job_level_to_crm has no entry for")
    assert "'Manager'" in warning and "'Other'" in warning
    assert "config" not in body and "secret_env" not in body
    _no_secret(hook, r)
    r = personas["viewer"].get("/destinations/nope")
    assert (r.status_code, r.json()["code"]) == (404, "unknown_destination")


def test_test_connection_answers_with_the_exchange(personas, hook, receiver):
    r = personas["manager"].post(f"{HOOK}/test")
    body = r.json()
    assert body["ok"] is True
    assert "the receiver answers (HTTP 200" in body["message"]
    [exchange] = body["exchanges"]
    assert (exchange["method"], exchange["status"], exchange["error"]) == ("HEAD", 200, "")
    assert exchange["url"] == f"http://127.0.0.1:{receiver.port}/…"
    assert body["warnings"] and body["warnings"][0].startswith("JobLevel:")
    assert [post.method for post in receiver.received] == ["HEAD"]
    assert Exchange.objects.filter(destination=hook, purpose="test").count() == 1
    _no_secret(hook, r)

    receiver.script(Reply(503, b"down for maintenance"))
    body = personas["manager"].post(f"{HOOK}/test").json()
    assert body["ok"] is False and "503" in body["message"]
    assert body["exchanges"][0]["status"] == 503


def test_a_test_connection_that_cannot_start_says_why(personas, hook, settings):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = False  # the receiver is on loopback
    body = personas["manager"].post(f"{HOOK}/test").json()
    assert body["ok"] is False
    assert body["message"]


def test_a_made_up_test_lead_is_posted_signed_and_not_recorded(personas, hook, receiver):
    r = personas["manager"].post(f"{HOOK}/test-lead")
    body = r.json()
    assert body["ok"] is True, body
    [post] = receiver.received
    payload = json.loads(post.body)
    assert payload["lead_id"].startswith("LD-TEST")
    assert payload["source"] == SLUG
    assert payload["fields"]["Email"] == "leadgate.test@example.com"
    assert post.headers["webhook-signature"].startswith("v1,")
    [exchange] = body["exchanges"]
    assert exchange["method"] == "POST" and exchange["status"] == 200
    assert json.loads(exchange["request_body"])["lead_id"] == payload["lead_id"]
    assert payload["lead_id"] in body["message"]
    assert not Delivery.objects.exists()
    _no_secret(hook, r)


def test_a_real_lead_as_the_test_lead(personas, hook, summit, receiver):
    [lead] = _leads(summit, 1)
    body = personas["manager"].post(f"{HOOK}/test-lead", {"source": SLUG, "lead_id": lead.lead_id}).json()
    assert body["ok"] is True
    assert json.loads(receiver.received[0].body)["lead_id"] == lead.lead_id
    assert Delivery.objects.get().state == "pending"  # the real delivery is untouched


def test_a_refused_test_lead_says_so(personas, hook, receiver):
    receiver.script(Reply(422, b'{"error": "Email is not allowed"}'))
    body = personas["manager"].post(f"{HOOK}/test-lead").json()
    assert body["ok"] is False
    assert body["message"].startswith("The destination refused the test lead")
    assert body["exchanges"][0]["response_body"] == '{"error": "Email is not allowed"}'


def test_test_lead_with_an_unknown_source_or_lead(personas, hook):
    r = personas["manager"].post(f"{HOOK}/test-lead", {"source": "nope"})
    assert (r.status_code, r.json()["code"]) == (404, "unknown_source")
    r = personas["manager"].post(f"{HOOK}/test-lead", {"lead_id": "LD-NOPE"})
    assert (r.status_code, r.json()["code"]) == (404, "unknown_lead")
    r = personas["manager"].post("/destinations/nope/test-lead", {})
    assert (r.status_code, r.json()["code"]) == (404, "unknown_destination")


def test_the_delivery_log_filters_and_pages_newest_first(personas, hook, summit, other, receiver):
    other.destinations.add(hook)
    leads = _leads(summit, 3)
    deliver()
    [elsewhere] = process_leads(other, [{"email": "zed@acme-corp.com"}])
    receiver.default = Reply(500)
    deliver()
    viewer = personas["viewer"]

    page = viewer.get(f"{HOOK}/deliveries", limit=2).json()
    assert [item["lead_id"] for item in page["items"]] == [elsewhere.lead_id, leads[2].lead_id]
    rest = viewer.get(f"{HOOK}/deliveries", limit=2, cursor=page["next_cursor"]).json()
    assert [item["lead_id"] for item in rest["items"]] == [leads[1].lead_id, leads[0].lead_id]
    assert rest["next_cursor"] is None

    retrying = viewer.get(f"{HOOK}/deliveries", state="retrying").json()["items"]
    [item] = retrying
    assert item["lead_id"] == elsewhere.lead_id and item["source"] == "other-event"
    assert (item["state"], item["attempts"], item["last_status"]) == ("retrying", 1, 500)
    assert item["next_attempt_at"] is not None and item["delivered_at"] is None
    assert "500" in item["last_error"]
    delivered = viewer.get(f"{HOOK}/deliveries", state="delivered", source=SLUG).json()["items"]
    assert {i["lead_id"] for i in delivered} == {lead.lead_id for lead in leads}
    assert all(i["delivered_at"] and i["next_attempt_at"] is None for i in delivered)

    for params, code in [
        ({"state": "lost"}, "invalid_state"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"limit": 0}, "invalid_limit"),
    ]:
        r = viewer.get(f"{HOOK}/deliveries", **params)
        assert (r.status_code, r.json()["code"]) == (422, code), params
    r = viewer.get(f"{HOOK}/deliveries", source="nope")
    assert (r.status_code, r.json()["code"]) == (404, "unknown_source")


def test_retry_brings_the_dead_back_named_or_all(personas, hook, summit, receiver, settings):
    settings.LEADGATE_DELIVERY_MAX_ATTEMPTS = 1
    receiver.default = Reply(500)
    _leads(summit, 3)
    deliver()
    dead = list(Delivery.objects.filter(state="dead").order_by("id"))
    assert len(dead) == 3
    manager = personas["manager"]

    assert manager.post(f"{HOOK}/retry", {"message_ids": [dead[0].message_id, "msg_unknown"]}).json() == {
        "retried": 1
    }
    dead[0].refresh_from_db()
    assert (dead[0].state, dead[0].attempts) == ("pending", 0)
    assert manager.post(f"{HOOK}/retry").json() == {"retried": 2}
    assert manager.post(f"{HOOK}/retry", {"message_ids": []}).json() == {"retried": 0}
    assert set(Delivery.objects.values_list("state", flat=True)) == {"pending"}

    receiver.default = Reply(200)
    deliver()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    r = manager.post(f"{HOOK}/retry", {"message_ids": ["x"] * 1001})
    assert (r.status_code, r.json()["code"]) == (422, "too_many_ids")


def test_a_leads_deliveries_show_every_attempt_and_its_exchanges(personas, hook, summit, receiver):
    [lead] = _leads(summit, 1)
    receiver.script(Reply(503, b"busy"), Reply(201, b"created"))
    deliver()
    make_due()
    deliver()
    r = personas["viewer"].get(f"/leads/{lead.lead_id}/deliveries")
    [delivery] = r.json()
    message_id = Delivery.objects.get().message_id
    assert delivery["message_id"] == message_id
    assert (delivery["destination"], delivery["state"], delivery["attempts"]) == (
        "crm_webhook",
        "delivered",
        2,
    )
    assert [(a["number"], a["verdict"]) for a in delivery["attempt_log"]] == [(1, "retry"), (2, "delivered")]
    first, second = (a["exchanges"][0] for a in delivery["attempt_log"])
    assert (first["status"], first["response_body"]) == (503, "busy")
    assert (second["status"], second["response_body"]) == (201, "created")
    assert second["request_headers"]["webhook-id"] == message_id
    assert json.loads(second["request_body"])["lead_id"] == lead.lead_id
    _no_secret(hook, r)

    detail = personas["viewer"].get(f"/leads/{lead.lead_id}").json()
    [summary] = detail["deliveries"]
    assert summary["state"] == "delivered" and summary["destination"] == "crm_webhook"
    assert "attempt_log" not in summary
    r = personas["viewer"].get("/leads/LD-NOPE/deliveries")
    assert (r.status_code, r.json()["code"]) == (404, "unknown_lead")


def test_redeliver_posts_an_accepted_lead_again_with_the_same_id(personas, hook, summit, receiver):
    [lead] = _leads(summit, 1)
    deliver()
    delivery = Delivery.objects.get()
    assert delivery.state == "delivered"
    r = personas["manager"].post(f"/leads/{lead.lead_id}/deliveries/crm_webhook/redeliver")
    body = r.json()
    assert (body["state"], body["attempts"], body["message_id"]) == ("pending", 0, delivery.message_id)
    deliver()
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 1)


def test_redeliver_to_a_destination_the_lead_never_had(personas, hook, summit):
    [lead] = _leads(summit, 1)
    Delivery.objects.all().delete()
    r = personas["manager"].post(f"/leads/{lead.lead_id}/deliveries/crm_webhook/redeliver")
    assert r.status_code == 200
    assert Delivery.objects.get().state == "pending"


def test_only_accepted_leads_are_redelivered(personas, hook, summit):
    [rejected] = process_leads(summit, [good_lead(email="ann@gmail.com")])
    assert rejected.status == "rejected"
    r = personas["manager"].post(f"/leads/{rejected.lead_id}/deliveries/crm_webhook/redeliver")
    assert (r.status_code, r.json()["code"]) == (409, "lead_not_accepted")
    assert r["Content-Type"] == "application/problem+json"
    assert not Delivery.objects.exists()
    [lead] = _leads(summit, 1)
    r = personas["manager"].post(f"/leads/{lead.lead_id}/deliveries/nope/redeliver")
    assert (r.status_code, r.json()["code"]) == (404, "unknown_destination")


def test_the_openapi_document_names_the_endpoints(personas):
    paths = personas["viewer"].get("/openapi.json").json()["paths"]
    for path in [
        "/api/v1/destinations",
        "/api/v1/destinations/{key}",
        "/api/v1/destinations/{key}/test",
        "/api/v1/destinations/{key}/test-lead",
        "/api/v1/destinations/{key}/deliveries",
        "/api/v1/destinations/{key}/retry",
        "/api/v1/leads/{lead_id}/deliveries",
        "/api/v1/leads/{lead_id}/deliveries/{destination_key}/redeliver",
    ]:
        assert path in paths, path
