"""Download/Upload Leads as dialogs on the Summary; Resolve's allow-a-domain, kept groups and background
reprocessing; the 403 page; the limit on failed sign-ins."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadgate.files.models import Upload
from leadgate.files.tasks import process_upload_task
from leadgate.leads.models import KeptRejection, Lead, LeadEvent, ReprocessRun
from leadgate.leads.services import Actor, process_leads
from leadgate.leads.tasks import queue_reprocess, reprocess_task, run_reprocess
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import DomainList, FieldDomainList, Source
from leadgate.sources.services import allowed_list_key
from leadgate.web import signin
from tests.conftest import SPEC_EXAMPLE, good_lead

from .conftest import PASSWORD, signed_in

SLUG = "data-summit-2026"
SUMMARY = f"/sources/{SLUG}/"
URL = f"/sources/{SLUG}/resolve/"
ACT = f"/sources/{SLUG}/resolve/act"
BLOCKED = "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"
NOT_ALLOWED = "REJECT_LEAD_DOMAIN_NOT_ALLOWED"
GMAIL = {"code": BLOCKED, "field": "email", "value": "gmail.com"}
CEO = {"code": "REJECT_LEAD_INVALID_LIST_VALUE", "field": "job_level", "value": "Chief Executive"}
HTMX = {"HX-Request": "true"}


def run_queued():
    """What `leadgate worker` does with the run the Reprocess button queued."""
    return reprocess_task.call(ReprocessRun.objects.latest("id").pk)


def statuses(source, **values):
    leads = Lead.objects.filter(source=source, **{f"values__{k}": v for k, v in values.items()})
    return sorted(leads.values_list("status", flat=True))


@pytest.fixture
def free_mail(summit):
    """Three leads rejected for gmail.com, one for yahoo.com, three for a value not on the picklist."""
    process_leads(
        summit,
        [good_lead(email=f"p{i}@gmail.com") for i in range(3)]
        + [good_lead(email="kim@yahoo.com")]
        + [good_lead(email=f"ceo{i}@acme-corp.com", job_level="Chief Executive") for i in range(3)],
    )
    return summit


# --- Resolve: allow a domain for this source -------------------------------------------------------------


def test_allowing_a_free_mail_domain_then_reprocessing_accepts_its_leads(manager, people, free_mail):
    response = manager.post(ACT, {**GMAIL, "action": "allow_domain"})
    assert response.status_code == 302
    allowed = DomainList.objects.get(key=allowed_list_key(free_mail))
    assert allowed.domains == ["gmail.com"]
    rule = FieldDomainList.objects.get(domain_list=allowed)
    assert (rule.field.key, rule.mode) == ("email", "exempt")
    assert DomainList.objects.get(key="free_email").domains == []  # the shared list is left alone
    page = manager.get(URL)
    assert "gmail.com is allowed for this source now" in page.content.decode()
    row = next(r for r in page.context["rows"] if r.group.value == "gmail.com")
    assert row.domain_allowed

    manager.post(ACT, {**GMAIL, "action": "reprocess"})
    assert run_queued() == "done"
    gmail = Lead.objects.filter(source=free_mail, values__email__endswith="@gmail.com")
    assert {lead.status for lead in gmail} == {"accepted"}
    assert Lead.objects.get(values__email="kim@yahoo.com").disposition_code == BLOCKED  # only gmail.com
    event = LeadEvent.objects.filter(lead__in=gmail, kind="reprocessed").first()
    assert event.user == people["manager"]
    assert event.note == f'Resolve: "gmail.com" was allowed for this source (domain list "{allowed.key}")'
    assert "Reprocessed 3 leads: 3 accepted." in manager.get(URL).content.decode()


def test_allowing_a_domain_changes_nothing_for_another_source(manager, free_mail):
    other = SPEC_EXAMPLE.replace("slug: data-summit-2026", "slug: other-fair").replace(
        "name: Data Summit 2026", "name: Other Fair"
    )
    apply_definition(other)
    other_source = Source.objects.get(slug="other-fair")
    manager.post(ACT, {**GMAIL, "action": "allow_domain"})
    decided = process_leads(other_source, [good_lead(email="new@gmail.com")])
    assert decided[0].disposition_code == BLOCKED
    decided = process_leads(free_mail, [good_lead(email="new@gmail.com")])
    assert decided[0].status == "accepted"  # new leads of this source pass at once


def test_allowing_a_domain_on_an_allow_list_field(manager, summit):
    abm = DomainList.objects.create(key="abm", domains=["acme-corp.com"])
    FieldDomainList.objects.create(field=summit.fields.get(key="email"), domain_list=abm, mode="allow")
    process_leads(summit, [good_lead(email=f"x{i}@globex.com") for i in range(2)] + [good_lead()])
    assert statuses(summit) == ["accepted", "rejected", "rejected"]
    group = {"code": NOT_ALLOWED, "field": "email", "value": "globex.com"}
    manager.post(ACT, {**group, "action": "allow_domain"})
    manager.post(ACT, {**group, "action": "reprocess"})
    run_queued()
    assert statuses(summit) == ["accepted"] * 3
    assert process_leads(summit, [good_lead(email="z@initech.com")])[0].disposition_code == NOT_ALLOWED


def test_allow_domain_is_refused_for_other_groups_and_for_viewers(manager, viewer, free_mail):
    assert viewer.post(ACT, {**GMAIL, "action": "allow_domain"}).status_code == 403
    manager.post(ACT, {**CEO, "action": "allow_domain"})
    page = manager.get(URL).content.decode()
    assert "Only a group rejected for its email domain can have the domain allowed." in page
    assert not DomainList.objects.filter(key=allowed_list_key(free_mail)).exists()


def test_the_domain_group_offers_the_allow_button_to_managers_only(manager, viewer, free_mail):
    assert "Allow gmail.com for this source" in manager.get(URL).content.decode()
    assert "Allow gmail.com for this source" not in viewer.get(URL).content.decode()


# --- Resolve: keep rejected, stored ----------------------------------------------------------------------


def test_kept_groups_are_shared_by_the_team_and_outlive_the_session(people, manager, free_mail):
    manager.post(ACT, {**CEO, "action": "keep"})
    kept = KeptRejection.objects.get()
    assert (kept.source, kept.code, kept.value, kept.user) == (
        free_mail,
        CEO["code"],
        "Chief Executive",
        people["manager"],
    )

    manager.post("/signout/")
    again = signed_in(people["manager"])
    colleague = signed_in(people["admin"])
    for client in (again, colleague):
        response = client.get(URL)
        assert "Chief Executive" not in [row.group.value for row in response.context["rows"]]
        assert response.context["hidden"] == 3
    shown = colleague.get(URL, {"kept": "1"})
    row = next(r for r in shown.context["rows"] if r.group.value == "Chief Executive")
    assert row.kept and row.kept_mark.user == people["manager"]
    assert "by manager" in shown.content.decode()

    colleague.post(ACT, {**CEO, "action": "unkeep", "show_kept": "1"})
    assert not KeptRejection.objects.exists()
    assert again.get(URL).context["hidden"] == 0
    assert statuses(free_mail, job_level="Chief Executive") == ["rejected"] * 3  # leads untouched throughout


def test_keeping_twice_is_one_mark_and_viewers_may_not(manager, viewer, free_mail):
    manager.post(ACT, {**CEO, "action": "keep"})
    manager.post(ACT, {**CEO, "action": "keep"})
    assert KeptRejection.objects.count() == 1
    assert viewer.post(ACT, {**CEO, "action": "unkeep"}).status_code == 403
    assert KeptRejection.objects.count() == 1


# --- Resolve: reprocess in the background ----------------------------------------------------------------


def test_the_reprocess_button_queues_a_run_and_the_page_follows_it(manager, people, free_mail):
    manager.post(ACT, {**CEO, "action": "alias", "target": "C-Level"})
    response = manager.post(ACT, {**CEO, "action": "reprocess"}, headers=HTMX)
    run = ReprocessRun.objects.get()
    assert (run.state, run.total, run.done, run.user) == ("queued", 3, 0, people["manager"])
    assert statuses(free_mail, job_level="Chief Executive") == ["rejected"] * 3  # not in the request
    body = response.content.decode()
    assert 'id="groups"' in body
    status_url = f"/sources/{SLUG}/resolve/runs/{run.pk}"
    assert f'hx-get="{status_url}" hx-trigger="every 1s"' in body
    assert "waiting for a worker" in body
    assert 'hx-trigger="reprocessed from:body"' in body  # the list fetches itself when the run is over

    polled = manager.get(status_url, headers=HTMX)
    assert "HX-Trigger" not in polled and 'hx-trigger="every 1s"' in polled.content.decode()

    run_queued()
    done = manager.get(status_url, headers=HTMX)
    assert done["HX-Trigger"] == "reprocessed"
    assert "every 1s" not in done.content.decode()  # the polling stops
    assert "Reprocessed 3 leads: 3 accepted." in done.content.decode()
    groups = manager.get(URL, headers=HTMX)
    assert next(t.name for t in groups.templates) == "web/resolve/groups.html"
    assert "Chief Executive" not in [row.group.value for row in groups.context["rows"]]


def test_a_run_records_its_progress_batch_by_batch(manager, summit, monkeypatch):
    process_leads(summit, [good_lead(email=f"p{i}@gmail.com") for i in range(5)])
    from leadgate.sources.services import allow_domain

    allow_domain(summit, "email", "gmail.com")
    ids = list(Lead.objects.filter(source=summit).values_list("lead_id", flat=True))
    run = queue_reprocess(summit, ids, actor=Actor("test"), note="Resolve: test")
    seen = []
    from leadgate.leads import tasks

    real = tasks.reprocess_leads

    def watched(*args, **kwargs):
        seen.append(ReprocessRun.objects.get(pk=run.pk).done)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "reprocess_leads", watched)
    run = run_reprocess(run, batch_size=2)
    assert seen == [0, 2, 4]  # three batches, progress written after each
    assert (run.state, run.done, run.total) == ("done", 5, 5)
    assert run.outcome == {"reprocessed": 5, "changed": 5, "status": {"accepted": 5}}
    assert run.started_at and run.finished_at
    assert run_reprocess(run).done == 5  # a finished run is not done again


def test_a_failing_run_says_so(manager, free_mail, monkeypatch):
    from leadgate.leads import tasks

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "reprocess_leads", broken)
    manager.post(ACT, {**CEO, "action": "reprocess"})
    assert run_queued() == "failed"
    run = ReprocessRun.objects.get()
    assert "database went away" in run.error
    body = manager.get(URL).content.decode()
    assert "Reprocessing stopped after 0 of 3 leads" in body


def test_viewers_may_follow_a_run_but_not_start_one(viewer, manager, free_mail):
    assert viewer.post(ACT, {**CEO, "action": "reprocess"}).status_code == 403
    manager.post(ACT, {**CEO, "action": "reprocess"})
    run = ReprocessRun.objects.get()
    assert viewer.get(f"/sources/{SLUG}/resolve/runs/{run.pk}").status_code == 200
    assert "waiting for a worker" in viewer.get(URL).content.decode()  # anyone's active run is shown


# --- Summary: Download Leads and Upload Leads as dialogs -------------------------------------------------


def test_the_summary_marks_both_forms_as_dialogs_and_loads_the_script(manager, summit):
    body = manager.get(SUMMARY).content.decode()
    assert 'id="download" aria-labelledby="download-title" data-modal' in body
    assert (
        f'id="upload" aria-labelledby="upload-title" data-modal data-openers="/sources/{SLUG}/uploads/"'
        in body
    )
    assert '<script src="/static/web/modal.js" defer></script>' in body
    for option in ('name="status"', 'name="by"', 'name="since"', 'name="until"', 'name="code"'):
        assert option in body
    for value in ("xlsx", "csv", "csv-semicolon"):
        assert f'name="format" value="{value}"' in body
    assert f'href="/sources/{SLUG}/template"' in body
    assert f'hx-post="/sources/{SLUG}/uploads/new" hx-target="#upload-body"' in body


def test_the_uploads_tab_form_stays_a_plain_form(manager, summit):
    body = manager.get(f"/sources/{SLUG}/uploads/").content.decode()
    assert "data-modal" not in body and "hx-post" not in body


CSV = b"LeadID,email,first_name,job_level,country,opt_in\n,ann@acme-corp.com,Ann,VP,Germany,yes\n"


def post_in_dialog(client, content=CSV, **fields):
    data = {"file": SimpleUploadedFile("scans.csv", content, content_type="text/csv"), "from": "summary"}
    return client.post(f"/sources/{SLUG}/uploads/new", {**data, **fields}, headers=HTMX)


def test_a_dry_run_in_the_dialog_then_upload_for_real(manager, summit):
    response = post_in_dialog(manager, dry_run="1")
    assert response.status_code == 200
    dry = Upload.objects.get()
    body = response.content.decode()
    assert "scans.csv" in body and f"/uploads/{dry.upload_id}/status?modal=1" in body
    process_upload_task.call(dry.upload_id)
    polled = manager.get(f"/sources/{SLUG}/uploads/{dry.upload_id}/status?modal=1", headers=HTMX)
    assert polled["HX-Trigger"] == "upload-done"  # the Summary's counters are fetched at once
    body = polled.content.decode()
    assert 'class="data preview"' in body
    assert f'hx-post="/sources/{SLUG}/uploads/{dry.upload_id}/for-real" hx-target="#upload-body"' in body
    assert Lead.objects.count() == 0

    real = manager.post(f"/sources/{SLUG}/uploads/{dry.upload_id}/for-real", headers=HTMX)
    assert real.status_code == 200
    upload = Upload.objects.exclude(pk=dry.pk).get()
    assert not upload.dry_run and "<progress" in real.content.decode()
    process_upload_task.call(upload.upload_id)
    result = manager.get(f"/sources/{SLUG}/uploads/{upload.upload_id}/status?modal=1", headers=HTMX)
    assert 'data-count="created">1<' in result.content.decode()
    assert Lead.objects.get().status == "accepted"


def test_a_refused_file_is_one_sentence_in_the_dialog(manager, summit):
    response = post_in_dialog(manager, content=b"")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="message error" role="alert"' in body and "data-dropzone" in body
    assert next(t.name for t in response.templates) == "web/uploads/upload_fields.html"
    assert Upload.objects.count() == 0


# --- 403 page --------------------------------------------------------------------------------------------


def test_a_refused_action_gets_the_403_page_in_plain_words(viewer, free_mail):
    response = viewer.post(ACT, {**CEO, "action": "keep"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "You may not do this" in body
    assert "This needs the manager role or higher." in body
    assert 'href="/sources/"' in body  # a way back
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- Sign-in limit ---------------------------------------------------------------------------------------


@pytest.fixture
def fresh_cache(db):
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/signin/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failures_lock_the_username_out_for_15_minutes(people, fresh_cache, monkeypatch):
    client = Client()
    for attempt in range(4):
        assert sign_in(client, "viewer", "wrong", address=f"10.0.0.{attempt}").status_code == 200
    fifth = sign_in(client, "viewer", "wrong", address="10.0.0.9")
    assert fifth.status_code == 429
    assert "Too many failed sign-ins" in fifth.content.decode()
    # Refused even with the right password, from a new address: the password is not even tried.
    refused = sign_in(client, "viewer", PASSWORD, address="10.9.9.9")
    assert refused.status_code == 429
    assert "Try again in 15 minutes" in refused.content.decode()
    assert client.get("/sources/").status_code == 302
    # Someone else may still sign in from elsewhere.
    assert sign_in(Client(), "manager", PASSWORD, address="10.1.1.1").status_code == 302

    later = signin._now() + 15 * 60 + 1
    monkeypatch.setattr(signin, "_now", lambda: later)
    assert signin.locked_for(_request("viewer", "10.9.9.9")) == 0


def _request(username, address):
    from django.test import RequestFactory

    return RequestFactory().post("/signin/", {"username": username}, REMOTE_ADDR=address)


def test_five_failures_from_one_address_lock_the_address_out(people, fresh_cache):
    for name in ("a", "b", "c", "d", "e"):
        sign_in(Client(), name, "wrong", address="192.0.2.7")
    refused = sign_in(Client(), "admin", PASSWORD, address="192.0.2.7")
    assert refused.status_code == 429
    assert "data-signin-refused" in refused.content.decode()
    assert sign_in(Client(), "admin", PASSWORD, address="192.0.2.8").status_code == 302


def test_a_correct_password_clears_the_usernames_failures(people, fresh_cache):
    for attempt in range(4):
        sign_in(Client(), "viewer", "wrong", address=f"10.0.1.{attempt}")
    assert sign_in(Client(), "viewer", PASSWORD, address="10.0.2.1").status_code == 302
    for attempt in range(4):
        assert sign_in(Client(), "viewer", "wrong", address=f"10.0.3.{attempt}").status_code == 200


def test_the_counts_live_in_the_database_cache(settings):
    """Every web process must see the same counts: the cache is the database's, not per process."""
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_failures_older_than_the_window_do_not_count(people, fresh_cache, monkeypatch):
    start = signin._now()
    for attempt in range(4):
        sign_in(Client(), "viewer", "wrong", address=f"10.0.4.{attempt}")
    monkeypatch.setattr(signin, "_now", lambda: start + 16 * 60)
    assert sign_in(Client(), "viewer", "wrong", address="10.0.5.1").status_code == 200  # 1 in the window
