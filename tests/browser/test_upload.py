"""Upload Leads in a real browser: choose a file on the Uploads tab (a plain form; the Summary's dialog is
tested in test_modals), watch the upload's page follow the worker, read the counts and the row error, and
see the Summary's counters change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadgate.files.models import Upload
from leadgate.files.tasks import process_upload_task
from leadgate.leads.models import Lead

from .conftest import screenshot

pytestmark = pytest.mark.slow

UNKNOWN = "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ"
CSV = (
    "LeadID,email,first_name,job_level,country,opt_in\n"
    ",ann@acme-corp.com,Ann,VP,Germany,yes\n"
    f"{UNKNOWN},bob@acme-corp.com,Bob,VP,Germany,yes\n"
).encode()


def test_an_upload_from_the_uploads_tab_runs_and_changes_the_counters(signed_in, summit):
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    expect(page.locator('[data-counter="received"]')).to_have_text("0")
    signed_in.goto(f"/sources/{summit.slug}/uploads/")

    form = page.locator("#upload")
    form.get_by_label("Choose a file or drop it here").set_input_files(
        {"name": "booth-scans.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    expect(form.locator("[data-file-name]")).to_have_text("booth-scans.csv")  # upload.js ran
    form.get_by_role("button", name="Upload", exact=True).click()

    page.wait_for_url(re.compile(r"/uploads/UP-[0-9A-Z]+/$"))
    expect(page.get_by_role("heading", name="booth-scans.csv")).to_be_visible()
    expect(page.locator("[data-upload-state]")).to_have_text("Queued")
    expect(page.locator("progress")).to_be_visible()

    upload = Upload.objects.get()
    process_upload_task.call(upload.upload_id)  # the worker's part; the page learns of it by polling

    expect(page.locator("[data-upload-state]")).to_have_text("Done", timeout=5_000)
    expect(page.locator("progress")).to_have_count(0)
    expect(page.locator('[data-count="rows"]')).to_have_text("2")
    expect(page.locator('[data-count="created"]')).to_have_text("1")
    expect(page.locator('[data-count="errors"]')).to_have_text("1")
    errors = page.locator("table.row-errors")
    expect(errors).to_contain_text(UNKNOWN)
    expect(errors).to_contain_text("unknown_lead_id")
    expect(page.get_by_role("link", name=re.compile("Download the row-error report"))).to_be_visible()
    screenshot(page, "upload.png")

    page.get_by_role("navigation", name=summit.name).get_by_role("link", name="Summary").click()
    expect(page.locator('[data-counter="received"]')).to_have_text("1")
    expect(page.locator('[data-counter="accepted"]')).to_have_text("1")
    assert Lead.objects.filter(source=summit, upload=upload).count() == 1
    assert signed_in.errors == []  # no CSP refusal, no script error


def test_a_file_dropped_on_the_box_is_the_one_uploaded(signed_in, summit):
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/uploads/")
    # A drop as the browser delivers it: a DataTransfer holding the file, dispatched on the box.
    page.locator("[data-dropzone]").evaluate(
        """(zone, text) => {
            const files = new DataTransfer();
            files.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
            const init = {dataTransfer: files, bubbles: true, cancelable: true};
            zone.dispatchEvent(new DragEvent("dragover", init));
            zone.dispatchEvent(new DragEvent("drop", init));
        }""",
        CSV.decode(),
    )
    expect(page.locator("[data-file-name]")).to_have_text("dropped.csv")
    page.get_by_label("Dry run").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r"/uploads/UP-[0-9A-Z]+/$"))
    upload = Upload.objects.get()
    assert upload.name == "dropped.csv" and upload.dry_run
    process_upload_task.call(upload.upload_id)
    expect(page.get_by_role("button", name="Upload for real")).to_be_visible(timeout=5_000)
    expect(page.locator("table.preview")).to_contain_text("unknown_lead_id")
    assert Lead.objects.count() == 0
    assert signed_in.errors == []
