"""The seed's loop in a real browser, through the Summary's dialogs and the Resolve tab: download the leads
as XLSX, upload a file (dry run, then for real) and watch the counters change, resolve a group by aliasing
its value and follow the background reprocessing until the leads are accepted. And lead values that try to
run script, on every page that shows them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from leadgate.files.models import Upload
from leadgate.files.tasks import process_upload_task
from leadgate.leads.models import Lead, LeadEvent, ReprocessRun
from leadgate.leads.services import process_leads
from leadgate.leads.tasks import reprocess_task
from tests.conftest import good_lead

from .conftest import screenshot

pytestmark = pytest.mark.slow

CSV = (
    b"LeadID,email,first_name,job_level,country,opt_in\n"
    b",ann@acme-corp.com,Ann,VP,Germany,yes\n"
    b",bob@acme-corp.com,Bob,Chief Executive,Germany,yes\n"
)


def test_upload_through_the_dialog_dry_run_then_for_real(signed_in, summit):
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    expect(page.locator('[data-counter="received"]')).to_have_text("0")
    dialog = page.get_by_role("dialog", name="Upload Leads")
    expect(dialog).to_be_hidden()

    opener = page.locator(".pagehead").get_by_role("link", name="Upload Leads")
    opener.click()
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/sources/{summit.slug}/$"))  # the link did not navigate
    dialog.get_by_label("Choose a file or drop it here").set_input_files(
        {"name": "booth-scans.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    expect(dialog.locator("[data-file-name]")).to_have_text("booth-scans.csv")
    dialog.get_by_label("Dry run").check()
    screenshot(page, "upload-dialog.png")
    dialog.get_by_role("button", name="Upload", exact=True).click()

    expect(dialog.locator("[data-upload-state]")).to_have_text("Queued")
    expect(dialog.locator("progress")).to_be_visible()
    dry = Upload.objects.get()
    assert dry.dry_run and dry.name == "booth-scans.csv"
    process_upload_task.call(dry.upload_id)  # the worker's part; the dialog learns of it by polling

    preview = dialog.locator("table.preview")
    expect(preview).to_contain_text("REJECT_LEAD_INVALID_LIST_VALUE", timeout=5_000)
    expect(dialog.locator('[data-count="rows"]')).to_have_text("2")
    assert Lead.objects.count() == 0
    dialog.get_by_role("button", name="Upload for real").click()
    expect(dialog.locator("[data-upload-state]")).to_have_text("Queued")
    real = Upload.objects.exclude(pk=dry.pk).get()
    process_upload_task.call(real.upload_id)

    expect(dialog.locator("[data-upload-state]")).to_have_text("Done", timeout=5_000)
    expect(dialog.locator('[data-count="created"]')).to_have_text("2")
    expect(dialog.locator('[data-count="accepted"]')).to_have_text("1")
    expect(dialog.locator('[data-count="rejected"]')).to_have_text("1")
    # The counters behind the dialog changed at once (the upload's end triggers their refresh).
    expect(page.locator('[data-counter="received"]')).to_have_text("2", timeout=3_000)
    expect(page.locator('[data-counter="accepted"]')).to_have_text("1")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()  # focus back where it was
    assert Lead.objects.filter(source=summit, upload=real).count() == 2
    assert signed_in.errors == []


def test_a_row_error_in_the_dialog_links_the_report(signed_in, summit):
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    page.locator(".pagehead").get_by_role("link", name="Upload Leads").click()
    dialog = page.get_by_role("dialog", name="Upload Leads")
    unknown = "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ"
    dialog.get_by_label("Choose a file or drop it here").set_input_files(
        {
            "name": "fixed.csv",
            "mimeType": "text/csv",
            "buffer": CSV + f"{unknown},x@acme-corp.com,X,VP,Germany,yes\n".encode(),
        }
    )
    dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog.locator("[data-upload-state]")).to_have_text("Queued")
    process_upload_task.call(Upload.objects.get().upload_id)
    expect(dialog.locator("table.row-errors")).to_contain_text(unknown, timeout=5_000)
    report = dialog.get_by_role("link", name=re.compile("Download the row-error report"))
    with page.expect_download() as info:
        report.click()
    assert info.value.suggested_filename.endswith("-errors.csv")
    assert signed_in.errors == []


def test_a_file_refused_at_the_door_is_said_in_the_dialog(signed_in, summit):
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    page.locator(".pagehead").get_by_role("link", name="Upload Leads").click()
    dialog = page.get_by_role("dialog", name="Upload Leads")
    dialog.get_by_label("Choose a file or drop it here").set_input_files(
        {"name": "empty.csv", "mimeType": "text/csv", "buffer": b""}
    )
    dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    # The form is back, and upload.js set its box up again (on htmx's load event, just after the swap).
    expect(dialog.locator("[data-dropzone][data-ready]")).to_be_attached()
    dialog.get_by_label("Choose a file or drop it here").set_input_files(
        {"name": "second.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    expect(dialog.locator("[data-file-name]")).to_have_text("second.csv")
    assert Upload.objects.count() == 0


def test_download_xlsx_through_the_dialog_with_the_keyboard(signed_in, summit):
    process_leads(
        summit,
        [good_lead(email="zoë@acme-corp.com", first_name="Zoë")]
        + [good_lead(email=f"p{i}@gmail.com", first_name=f"Pat{i}") for i in range(2)],
    )
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    opener = page.locator(".pagehead").get_by_role("link", name="Download Leads")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Download Leads")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Status")).to_be_focused()  # the first field, not the Close button
    screenshot(page, "download-dialog.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    dialog.get_by_label("Status").select_option("rejected")
    dialog.get_by_label("Excel (XLSX)").check()
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    # Playwright keeps the file under a random name without a suffix; openpyxl judges by the suffix.
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("LeadID", "Status", "Disposition Code", "Custom Reason")
    assert len(rows) == 3  # the header and the two rejected leads
    assert {row[1] for row in rows[1:]} == {"rejected"}
    assert {row[2] for row in rows[1:]} == {"REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"}
    first_names = {row[rows[0].index("first_name")] for row in rows[1:]}
    assert first_names == {"Pat0", "Pat1"}
    expect(dialog).to_be_hidden()  # closed once the download started
    assert signed_in.errors == []


def test_resolve_by_aliasing_then_follow_the_reprocessing_until_accepted(signed_in, summit, user):
    process_leads(
        summit,
        [good_lead(email=f"ceo{i}@acme-corp.com", job_level="Chief Executive") for i in range(5)]
        + [good_lead(email="pat@gmail.com"), good_lead(email="kim@gmail.com")],
    )
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/resolve/")
    group = page.locator("article").filter(has_text="“Chief Executive”")
    group.get_by_role("button", name="C-Level", exact=True).click()
    expect(page.locator("#groups .message")).to_contain_text('"Chief Executive" now means "C-Level"')
    group = page.locator("article").filter(has_text="“Chief Executive”")
    group.get_by_role("button", name="Reprocess 5 leads").click()

    run_box = page.locator("[data-run-state]")
    expect(run_box).to_contain_text("waiting for a worker")
    expect(run_box.locator("progress")).to_be_visible()
    screenshot(page, "resolve-progress.png")
    run = ReprocessRun.objects.get()
    assert Lead.objects.filter(status="accepted").count() == 0  # nothing decided in the request

    reprocess_task.call(run.pk)  # the worker's part; the page polls the run every second
    expect(run_box).to_contain_text("Reprocessed 5 leads: 5 accepted.", timeout=5_000)
    expect(page.locator("article").filter(has_text="“Chief Executive”")).to_have_count(0)
    ceos = Lead.objects.filter(source=summit, values__job_level="Chief Executive")
    assert {lead.status for lead in ceos} == {"accepted"}
    assert LeadEvent.objects.filter(lead__in=ceos, kind="reprocessed", user=user).count() == 5

    # The free-mail group: allow the domain for this source, then reprocess.
    group = page.locator("article").filter(has_text="“gmail.com”")
    group.get_by_role("button", name="Allow gmail.com for this source").click()
    group = page.locator("article").filter(has_text="“gmail.com”")
    expect(group).to_contain_text("gmail.com is allowed for this source now")
    screenshot(page, "resolve.png")
    group.get_by_role("button", name="Reprocess 2 leads").click()
    expect(page.locator('[data-run-state="queued"]')).to_have_count(1)
    reprocess_task.call(ReprocessRun.objects.latest("id").pk)
    expect(page.locator("article")).to_have_count(0, timeout=5_000)
    expect(page.locator("#groups")).to_contain_text("No rejected leads to resolve.")
    assert Lead.objects.filter(source=summit, status="accepted").count() == 7
    assert signed_in.errors == []


XSS = [
    '<script>console.log("xss-ran");alert("script")</script>',
    "<img src=x onerror=\"console.log('xss-ran');alert('img')\">",
    "javascript:console.log('xss-ran');alert('link')",
    "<a href=\"javascript:console.log('xss-ran');alert('link')\">click me</a>",
]


def test_script_in_lead_values_never_runs_on_resolve_leads_and_the_lead(signed_in, summit):
    """The Summary has its own test (test_web_ui); here the other pages that show lead values."""
    decided = process_leads(
        summit,
        [
            good_lead(email=f"x{i}@acme-corp.com", first_name=name, job_level=name)
            for i, name in enumerate(XSS)
        ],
    )
    page = signed_in.page
    for path in (
        f"/sources/{summit.slug}/resolve/",
        f"/sources/{summit.slug}/leads/",
        f"/sources/{summit.slug}/leads/?status=rejected",
        f"/sources/{summit.slug}/leads/{decided[0].lead_id}/",
        f"/sources/{summit.slug}/leads/{decided[3].lead_id}/",
    ):
        signed_in.goto(path)
        main = page.locator("main")
        expect(main).to_contain_text("console.log")  # the values are shown, as text
        assert main.locator("script:not([src]), img[src='x'], a[href^='javascript']").count() == 0, path
        for link in page.get_by_text("click me").all():
            if link.is_visible():
                link.click()
    page.wait_for_timeout(500)
    assert signed_in.dialogs == []
    assert "xss-ran" not in signed_in.console
    assert signed_in.errors == []
