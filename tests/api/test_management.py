"""Management endpoints by role: admin everything, manager sources/lists/leads, viewer read-only, and an
ingestion key nothing but posting leads."""

from __future__ import annotations

import pytest

from leadgate.accounts.models import ApiKey
from leadgate.leads.models import Lead
from leadgate.leads.services import process_leads
from leadgate.sources.models import PicklistAlias, Source
from tests.conftest import SPEC_EXAMPLE, good_lead

READS = [
    "/sources",
    "/sources/data-summit-2026",
    "/sources/data-summit-2026/fields",
    "/sources/data-summit-2026/summary",
    "/sources/data-summit-2026/leads",
    "/picklists",
    "/picklists/job_level",
    "/list-mappers",
    "/list-mappers/job_level_to_crm",
    "/domain-lists",
    "/domain-lists/competitors",
    "/suppression-lists",
    "/suppression-lists/do_not_contact",
    "/dispositions",
    "/keys",
    "/definitions",
]


@pytest.mark.parametrize("path", READS)
def test_reads_by_role(personas, path):
    for persona in ("admin", "manager", "viewer"):
        assert personas[persona].get(path).status_code == 200, persona
    r = personas["owner"].get(path)
    assert (r.status_code, r.json()["code"]) == (403, "ingestion_key_not_allowed")


WRITES = [
    ("post", "/sources/data-summit-2026/pause", None),
    ("post", "/sources/data-summit-2026/reprocess", {}),
    ("post", "/picklists/job_level/values", {"values": ["Founder"]}),
    ("post", "/picklists/job_level/aliases", {"aliases": {"Head of": "Director"}}),
    ("post", "/list-mappers/job_level_to_crm/entries", {"entries": {"Manager": "Manager"}}),
    ("put", "/domain-lists/competitors", {"domains": ["rival.com"]}),
    ("put", "/suppression-lists/do_not_contact", {"emails": ["x@y.com"], "domains": []}),
    ("post", "/suppression-lists/do_not_contact/add", {"emails": ["z@y.com"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_writes_need_manager(personas, method, path, body):
    assert personas["viewer"].send(method, path, body).status_code == 403
    assert personas["owner"].send(method, path, body).status_code == 403
    assert personas["manager"].send(method, path, body).status_code == 200
    assert personas["admin"].send(method, path, body).status_code == 200


def test_source_detail_counts(personas, summit):
    process_leads(summit, [good_lead(), good_lead(email="bad")])
    body = personas["viewer"].get("/sources/data-summit-2026").json()
    assert body["counts"] == {
        "received": 2,
        "processing": 0,
        "accepted": 1,
        "rejected": 1,
        "in_review": 0,
        "failed": 0,
    }
    assert personas["viewer"].get("/sources/nope").json()["code"] == "unknown_source"


def test_alias_then_reprocess_turns_leads_accepted(personas, summit):
    [lead] = process_leads(summit, [good_lead(job_level="Head of Sales")])
    assert lead.status == "rejected"
    manager = personas["manager"]
    r = manager.post("/picklists/job_level/aliases", {"aliases": {"Head of Sales": "Director"}})
    assert r.json()["aliases"]["Head of Sales"] == "Director"
    assert PicklistAlias.objects.filter(alias="Head of Sales").exists()
    bad = manager.post("/picklists/job_level/aliases", {"aliases": {"X": "Not a value"}})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_alias")
    out = manager.post("/sources/data-summit-2026/reprocess", {"codes": ["REJECT_LEAD_INVALID_LIST_VALUE"]})
    assert out.json() == {
        "source": "data-summit-2026",
        "reprocessed": 1,
        "changed": 1,
        "status": {"accepted": 1},
    }
    lead.refresh_from_db()
    assert lead.status == "accepted"
    assert lead.events.last().actor == "api token manager token"


def test_leads_list_filters_and_cursor(personas, summit):
    process_leads(
        summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(5)] + [good_lead(email="bad")]
    )
    viewer = personas["viewer"]
    page = viewer.get("/sources/data-summit-2026/leads", limit=2).json()
    seen = [x["lead_id"] for x in page["items"]]
    while page["next_cursor"]:
        page = viewer.get("/sources/data-summit-2026/leads", limit=2, cursor=page["next_cursor"]).json()
        seen += [x["lead_id"] for x in page["items"]]
    assert len(seen) == len(set(seen)) == 6
    rejected = viewer.get("/sources/data-summit-2026/leads", status="rejected").json()["items"]
    assert [x["values"]["email"] for x in rejected] == ["bad"]
    by_code = viewer.get("/sources/data-summit-2026/leads", code="REJECT_LEAD_INVALID_EMAIL").json()
    assert len(by_code["items"]) == 1
    found = viewer.get("/sources/data-summit-2026/leads", q="p3@acme").json()["items"]
    assert [x["values"]["email"] for x in found] == ["p3@acme-corp.com"]
    assert viewer.get("/sources/data-summit-2026/leads", cursor="garbage!").json()["code"] == "invalid_cursor"
    assert viewer.get("/sources/data-summit-2026/leads", status="nope").status_code == 422
    assert viewer.get("/sources/data-summit-2026/leads", limit=0).status_code == 422


def test_edit_and_reject_a_lead_with_history(personas, summit):
    [lead] = process_leads(summit, [good_lead(email="bad")])
    manager = personas["manager"]
    r = manager.send("patch", f"/leads/{lead.lead_id}", {"values": {"Email Address": "fixed@acme-corp.com"}})
    body = r.json()
    assert (body["status"], body["values"]["email"]) == ("accepted", "fixed@acme-corp.com")
    assert body["history"][-1]["changes"] == {"email": ["bad", "fixed@acme-corp.com"]}
    unknown = manager.send("patch", f"/leads/{lead.lead_id}", {"values": {"shoe_size": "9"}})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_field")
    assert manager.post(f"/leads/{lead.lead_id}/reject", {"reason": "  "}).status_code == 422
    r = manager.post(f"/leads/{lead.lead_id}/reject", {"reason": "Competitor, per sales"})
    body = r.json()
    assert (body["status"], body["disposition_code"], body["custom_reason"]) == (
        "rejected",
        "REJECT_LEAD_MANUAL",
        "Competitor, per sales",
    )
    assert body["history"][-1]["kind"] == "rejected"
    # A reviewer's rejection stands when the rules are run again.
    manager.post("/sources/data-summit-2026/reprocess", {})
    assert Lead.objects.get(pk=lead.pk).disposition_code == "REJECT_LEAD_MANUAL"
    assert personas["viewer"].post(f"/leads/{lead.lead_id}/reject", {"reason": "x"}).status_code == 403
    assert personas["viewer"].get("/leads/LD-NOPE").status_code == 404


def test_apply_definition_by_api(personas):
    manager = personas["manager"]
    changed = SPEC_EXAMPLE.replace("name: Data Summit 2026", "name: Data Summit 2026 (Berlin)")
    dry = manager.post("/definitions?dry_run=true", changed, content_type="application/yaml")
    assert dry.json()["updated"] == ["source:data-summit-2026"]
    assert Source.objects.get(slug="data-summit-2026").name == "Data Summit 2026"
    manager.post("/definitions", changed, content_type="application/yaml")
    assert Source.objects.get(slug="data-summit-2026").name == "Data Summit 2026 (Berlin)"
    bad = manager.post("/definitions", "sources: [{slug: BAD SLUG}]", content_type="application/yaml")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_definition")
    assert "sources[0].slug" in bad.json()["detail"]
    exported = personas["viewer"].get("/definitions")
    assert exported["Content-Type"].startswith("application/yaml")
    assert b"data-summit-2026" in exported.content


def test_keys_created_listed_and_revoked(personas):
    manager = personas["manager"]
    r = manager.post("/keys", {"name": "badge scanner", "source": "data-summit-2026"})
    assert r.status_code == 201
    created = r.json()
    assert created["key"].startswith("lgk_") and created["prefix"] == created["key"][:10]
    assert ApiKey.objects.get(pk=created["id"]).digest != created["key"]  # only a digest is stored
    listed = {k["name"]: k for k in manager.get("/keys").json()}
    assert "key" not in listed["badge scanner"] and listed["badge scanner"]["source"] == "data-summit-2026"
    assert personas["viewer"].post("/keys", {"name": "x", "source": "data-summit-2026"}).status_code == 403
    token = personas["viewer"].post("/keys", {"name": "my script"}).json()
    assert token["key"].startswith("lgt_") and token["user"] == "viewer-user"
    # A viewer sees only their own tokens; the admin sees them all.
    assert {k["name"] for k in personas["viewer"].get("/keys").json()} == {"viewer token", "my script"}
    assert len(personas["admin"].get("/keys").json()) == 7
    assert personas["viewer"].send("delete", f"/keys/{created['id']}").status_code == 404
    revoked = manager.send("delete", f"/keys/{created['id']}").json()
    assert revoked["revoked_at"]
    from tests.api.conftest import Api

    r = Api(created["key"]).post("/sources/data-summit-2026/leads", good_lead())
    assert r.status_code == 401


def test_callback_secret_by_api(personas, summit):
    assert personas["manager"].post("/sources/data-summit-2026/callback/rotate").status_code == 422
    summit.callback_url = "https://crm.example.com/hook"
    summit.save()
    before = personas["manager"].get("/sources/data-summit-2026/callback").json()["secret"]
    assert before.startswith("whsec_")  # a source given a callback URL always gets a secret
    assert personas["viewer"].post("/sources/data-summit-2026/callback/rotate").status_code == 403
    after = personas["manager"].post("/sources/data-summit-2026/callback/rotate").json()
    assert after["secret"].startswith("whsec_") and after["secret"] != before


def test_list_entries_that_are_not_domains_or_emails_are_refused(personas):
    manager = personas["manager"]
    bad = manager.send("put", "/domain-lists/competitors", {"domains": ["rival.com", "not a domain"]})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_domain"
    assert 'domains[1]: "not a domain"' in bad.json()["detail"]
    assert (
        manager.send(
            "put", "/domain-lists/competitors", {"domains": ["*.rival.com", "competitor.*"]}
        ).status_code
        == 200
    )
    bad = manager.send("post", "/suppression-lists/do_not_contact/add", {"emails": ["nobody"]})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_email")
    listed = manager.send("get", "/suppression-lists/do_not_contact").json()
    assert "nobody" not in listed["emails"]  # nothing changed
