"""Upload Leads in the web UI: who may upload, the upload's page while it runs and once done, the row-error
report, a dry run and its "Upload for real", and files refused at the door."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadgate.files.models import Upload
from leadgate.files.tasks import process_upload_task
from leadgate.leads.models import Lead

SLUG = "data-summit-2026"
UNKNOWN = "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ"
CSV = (
    "LeadID,email,first_name,job_level,country,opt_in\n"
    ",ann@acme-corp.com,Ann,VP,Germany,yes\n"
    f"{UNKNOWN},bob@acme-corp.com,Bob,VP,Germany,yes\n"
).encode()


def post_file(client, content=CSV, name="leads.csv", **fields):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **fields}
    return client.post(f"/sources/{SLUG}/uploads/new", data)


def page_of(upload):
    return f"/sources/{SLUG}/uploads/{upload.upload_id}/"


def test_viewers_see_uploads_but_may_not_upload(summit, viewer, manager):
    post_file(manager)
    upload = Upload.objects.get()
    tab = viewer.get(f"/sources/{SLUG}/uploads/")
    assert tab.status_code == 200
    assert b"leads.csv" in tab.content
    assert b'enctype="multipart/form-data"' not in tab.content  # no form for a viewer
    assert viewer.get(page_of(upload)).status_code == 200

    assert post_file(viewer).status_code == 403
    process_upload_task.call(upload.upload_id)
    assert viewer.post(page_of(upload) + "for-real").status_code == 403
    assert Upload.objects.count() == 1


def test_the_form_is_on_the_summary_for_managers_only(summit, viewer, manager):
    form = f'action="/sources/{SLUG}/uploads/new" enctype="multipart/form-data"'.encode()
    page = manager.get(f"/sources/{SLUG}/").content
    assert form in page
    assert b'accept=".csv,.txt,.xlsx,.xls,.ods"' in page
    assert b'name="dry_run"' in page and b'name="update_accepted"' in page
    assert f'href="/sources/{SLUG}/template"'.encode() in page
    assert b"web/upload.js" in page
    assert form not in viewer.get(f"/sources/{SLUG}/").content


def test_a_manager_uploads_sees_progress_then_the_counts(summit, people, manager):
    response = post_file(manager)
    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page_of(upload)
    assert upload.state == "queued" and upload.user == people["manager"] and not upload.dry_run

    running = manager.get(page_of(upload)).content.decode()
    assert "<progress" in running and 'hx-trigger="every 1s"' in running
    assert "Waiting for a worker" in running
    Upload.objects.filter(pk=upload.pk).update(state="processing", rows=2, rows_done=1)
    polled = manager.get(page_of(upload) + "status", headers={"HX-Request": "true"}).content.decode()
    assert '<progress id="upload-progress" value="1" max="2">' in polled
    assert "hx-trigger" in polled  # still polling

    Upload.objects.filter(pk=upload.pk).update(state="queued", rows=0, rows_done=0)
    process_upload_task.call(upload.upload_id)  # what the worker runs
    done = manager.get(page_of(upload) + "status", headers={"HX-Request": "true"})
    body = done.content.decode()
    assert "hx-trigger" not in body and "<progress" not in body  # the polling stops
    assert 'data-count="rows">2<' in body and 'data-count="created">1<' in body
    assert 'data-count="errors">1<' in body
    assert "unknown_lead_id" in body and UNKNOWN in body
    assert ">CSV<" in body and "comma" in body
    assert Lead.objects.filter(source=summit, email_key="ann@acme-corp.com").count() == 1

    listed = manager.get(f"/sources/{SLUG}/uploads/").content.decode()
    assert page_of(upload) in listed and "Done" in listed


def test_the_row_error_report_downloads_in_the_uploads_format(summit, manager, viewer):
    post_file(manager)
    upload = Upload.objects.get()
    process_upload_task.call(upload.upload_id)
    assert f"{page_of(upload)}errors".encode() in viewer.get(page_of(upload)).content
    report = viewer.get(page_of(upload) + "errors")
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert report["Content-Disposition"] == f'attachment; filename="{upload.upload_id}-errors.csv"'
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "LeadID,email,first_name,job_level,country,opt_in,Error Code,Error"
    assert (
        len(lines) == 2
        and lines[1].startswith(f"{UNKNOWN},bob@acme-corp.com,")
        and "unknown_lead_id" in lines[1]
    )


def test_a_dry_run_previews_then_uploads_for_real(summit, manager):
    post_file(manager, dry_run="1")
    dry = Upload.objects.get()
    assert dry.dry_run
    process_upload_task.call(dry.upload_id)
    page = manager.get(page_of(dry)).content.decode()
    assert "Preview" in page and "Upload for real" in page
    preview = page.split('class="data preview"')[1]
    assert "<td>create</td>" in preview and "<td>error</td>" in preview
    assert "unknown_lead_id" in preview and "empty the cell to create a new lead" in preview
    assert Lead.objects.filter(source=summit).count() == 0  # a dry run saves nothing

    response = manager.post(page_of(dry) + "for-real")
    real = Upload.objects.exclude(pk=dry.pk).get()
    assert response.status_code == 302 and response["Location"] == page_of(real)
    assert not real.dry_run and real.name == "leads.csv" and real.digest == dry.digest
    process_upload_task.call(real.upload_id)
    real.refresh_from_db()
    assert (real.state, real.created, real.errors) == ("done", 1, 1)
    assert Lead.objects.filter(source=summit).count() == 1
    assert "Upload for real" not in manager.get(page_of(real)).content.decode()


def test_only_a_finished_dry_run_goes_for_real(summit, manager):
    post_file(manager)
    upload = Upload.objects.get()
    response = manager.post(page_of(upload) + "for-real", follow=True)
    assert "Only a finished dry run" in response.content.decode()
    assert Upload.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "origin", "back", "sentence"),
    [
        (b"", "uploads", f"/sources/{SLUG}/uploads/", "The file is empty."),
        (b"", "summary", f"/sources/{SLUG}/#upload", "The file is empty."),
        (CSV, "uploads", f"/sources/{SLUG}/uploads/", "over the limit of"),
    ],
)
def test_a_file_refused_at_the_door_is_one_sentence(
    summit, manager, settings, content, origin, back, sentence
):
    if content:
        settings.LEADGATE_UPLOAD_MAX_BYTES = 10
    response = post_file(manager, content=content, **{"from": origin})
    assert response.status_code == 302 and response["Location"] == back
    assert sentence in manager.get(back.split("#")[0]).content.decode()
    assert Upload.objects.count() == 0 and Lead.objects.count() == 0


def test_no_file_chosen_is_one_sentence(summit, manager):
    response = manager.post(f"/sources/{SLUG}/uploads/new", {"from": "uploads"}, follow=True)
    assert "Choose a file to upload" in response.content.decode()
    assert Upload.objects.count() == 0


def test_a_failed_upload_shows_its_error(summit, manager):
    post_file(manager, content=b"colour,size\nred,XL\n")
    upload = Upload.objects.get()
    process_upload_task.call(upload.upload_id)
    page = manager.get(page_of(upload)).content.decode()
    assert "Failed" in page and "no_recognisable_column" in page and "hx-trigger" not in page
    assert manager.get(page_of(upload) + "errors").status_code == 302  # no report to download


def test_file_names_and_cells_are_escaped(summit, manager):
    name = "<img src=x onerror=alert(1)>.csv"
    content = CSV.replace(UNKNOWN.encode(), b"<script>alert(2)</script>")
    post_file(manager, content=content, name=name)
    upload = Upload.objects.get()
    process_upload_task.call(upload.upload_id)
    for path in (page_of(upload), f"/sources/{SLUG}/uploads/"):
        body = manager.get(path).content.decode()
        assert "<img src=x" not in body and "<script>alert" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;.csv" in body
        assert "style=" not in body


def test_an_upload_of_another_source_is_not_found(summit, manager):
    from leadgate.sources.definition_file import apply_definition

    apply_definition(
        "sources:\n  - {slug: other, name: Other, kind: event, fields: [{key: email, type: email}]}\n"
    )
    post_file(manager)
    upload = Upload.objects.get()
    assert manager.get(f"/sources/other/uploads/{upload.upload_id}/").status_code == 404
    assert manager.get(f"/sources/{SLUG}/uploads/UP-NOPE/").status_code == 404
