"""Upload Leads over HTTP: roles, the background task, progress, the result and the row-error report."""

from __future__ import annotations

import pytest

from leadgate.files.models import Upload
from leadgate.leads.models import Lead

CSV = (
    "LeadID,email,first_name,job_level,country,opt_in\n"
    ",ann@acme-corp.com,Ann,VP,Germany,yes\n"
    "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ,bob@acme-corp.com,Bob,VP,Germany,yes\n"
)


CSV_BYTES = CSV.encode()


def post_file(api, slug="data-summit-2026", content=CSV_BYTES, name="leads.csv", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **fields}
    headers = {"Authorization": f"Bearer {api.token}"} if api.token else {}
    return api.client.post(f"/api/v1/sources/{slug}/uploads", data=data, headers=headers)


@pytest.mark.django_db(transaction=True)
def test_a_manager_uploads_and_a_worker_processes_it(personas, summit):
    from django_tasks_db.models import DBTaskResult

    response = post_file(personas["manager"])
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "queued" and body["name"] == "leads.csv"
    assert DBTaskResult.objects.count() == 1  # queued for a worker, after the request's commit
    from leadgate.files.tasks import process_upload_task

    process_upload_task.call(body["upload"])  # what the worker runs
    done = personas["viewer"].get(f"/uploads/{body['upload']}").json()
    assert done["state"] == "done"
    assert (done["rows"], done["rows_done"], done["created"], done["errors"]) == (2, 2, 1, 1)
    assert done["row_errors"][0]["code"] == "unknown_lead_id"
    report = personas["viewer"].get(f"/uploads/{body['upload']}/errors")
    assert report.status_code == 200
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "LeadID,email,first_name,job_level,country,opt_in,Error Code,Error"
    assert "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ" in text and "unknown_lead_id" in text
    listed = personas["viewer"].get("/sources/data-summit-2026/uploads").json()
    assert [u["upload"] for u in listed] == [body["upload"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("owner", 403), ("outsider", 403)])
def test_only_managers_and_admins_upload(personas, persona, status):
    assert post_file(personas[persona]).status_code == status
    assert Upload.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_file_problems_at_the_door_are_problems(personas, settings):
    response = post_file(personas["admin"], content=b"")
    assert response.status_code == 422 and response.json()["code"] == "empty_file"
    settings.LEADGATE_UPLOAD_MAX_BYTES = 10
    response = post_file(personas["admin"])
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert post_file(personas["admin"], slug="nope").status_code == 404
    assert Upload.objects.count() == 0 and Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_file_problem_found_by_the_worker_is_the_uploads_error(personas):
    body = post_file(personas["manager"], content=b"colour,size\nred,XL\n").json()
    from leadgate.files.tasks import process_upload_task

    process_upload_task.call(body["upload"])
    done = personas["manager"].get(f"/uploads/{body['upload']}").json()
    assert done["state"] == "failed" and done["error"]["code"] == "no_recognisable_column"
    assert personas["manager"].get(f"/uploads/{body['upload']}/errors").status_code == 404


def test_unknown_upload_is_404(personas):
    assert personas["viewer"].get("/uploads/UP-NOPE").status_code == 404
