"""Upload Leads, the service: every LeadID case, blank cells, dry runs, the same file twice, damage."""

from __future__ import annotations

import csv
import io
import threading

import pytest

from leadgate.files.models import Upload
from leadgate.files.uploads import upload_file, upload_result
from leadgate.leads.history import lead_history
from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import Actor, process_leads
from leadgate.sources.models import Picklist
from leadgate.sources.services import add_picklist_values
from tests.conftest import good_lead

HEADER = ["email", "first_name", "job_level", "country", "phone", "opt_in"]


def write_csv(path, rows, header=HEADER, delimiter=",", encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row_of(lead=None, **overrides):
    values = good_lead(**overrides) if lead is None else lead
    return [values.get(k, "") for k in HEADER]


@pytest.fixture(params=["compared in polars", "read in Python"])
def stored_values(request, monkeypatch):
    """Rows naming a LeadID are compared with their stored lead in polars, which falls back to reading each
    lead's values in Python when it cannot decode them: both ways must give the same outcome."""
    if request.param == "read in Python":
        from leadgate.files import processing

        monkeypatch.setattr(processing, "_decoded_values", lambda leads, keys: None)
    return request.param


def test_new_rows_create_leads_decided_by_the_rules(summit, tmp_path):
    path = write_csv(
        tmp_path / "leads.csv",
        [row_of(), row_of(email="bob@acme-corp.com", job_level="Chief Executive"), row_of(email="nope")],
    )
    upload = upload_file(summit, path)
    assert upload.state == Upload.State.DONE, upload.error
    assert (upload.rows, upload.created, upload.errors) == (3, 3, 0)
    assert (upload.accepted, upload.rejected) == (1, 2)
    assert (upload.format, upload.encoding, upload.delimiter) == ("csv", "utf-8", ",")
    leads = list(Lead.objects.filter(source=summit).order_by("id"))
    assert [lead.received_via for lead in leads] == ["upload"] * 3
    assert all(lead.upload_id == upload.pk for lead in leads)
    assert [lead.disposition_code for lead in leads] == [
        "ACCEPT_LEAD",
        "REJECT_LEAD_INVALID_LIST_VALUE",
        "REJECT_LEAD_INVALID_EMAIL",
    ]
    # No event is stored per uploaded lead: the history makes the "received" one from the lead and upload.
    assert not LeadEvent.objects.filter(lead__in=leads).exists()
    (event,) = lead_history(leads[1])
    assert (event.kind, event.actor, event.at) == ("received", upload.actor_label, leads[1].submitted_at)
    assert (event.status_after, event.code_after) == ("rejected", "REJECT_LEAD_INVALID_LIST_VALUE")


def test_an_uploaded_leads_history_begins_with_the_decision_it_arrived_with(summit, tmp_path):
    wrong = upload_file(summit, write_csv(tmp_path / "a.csv", [row_of(job_level="Chief Executive")]))
    lead = wrong.leads.get()
    fixed = [[lead.lead_id, *row_of(job_level="VP")]]
    upload_file(summit, write_csv(tmp_path / "b.csv", fixed, header=["LeadID", *HEADER]))
    received, edited = lead_history(Lead.objects.get(pk=lead.pk))
    assert (received.kind, received.actor) == ("received", wrong.actor_label)
    assert (received.status_after, received.code_after) == ("rejected", "REJECT_LEAD_INVALID_LIST_VALUE")
    assert (edited.kind, edited.status_before, edited.status_after) == ("edited", "rejected", "accepted")
    assert edited.changes == {"job_level": ["Chief Executive", "VP"]}


def test_the_same_file_twice_creates_nothing_twice(summit, tmp_path):
    path = write_csv(tmp_path / "leads.csv", [row_of(), row_of(email="bob@acme-corp.com")])
    first = upload_file(summit, path)
    second = upload_file(summit, path)
    assert first.created == 2
    assert (second.created, second.unchanged) == (0, 2)
    assert Lead.objects.filter(source=summit).count() == 2
    assert any("earlier upload of the same file" in w for w in second.warnings)


def test_fixed_rows_keyed_by_lead_id_turn_accepted_with_history(summit, tmp_path, stored_values):
    rejected = process_leads(summit, [good_lead(job_level="Chief Executive"), good_lead(email="x@")])
    path = write_csv(
        tmp_path / "fixed.csv",
        [
            [rejected[0].lead_id, *row_of(job_level="Chief Executive")],
            [rejected[1].lead_id, *row_of(email="carol@acme-corp.com")],
        ],
        header=["LeadID", *HEADER],
    )
    add_picklist_values(Picklist.objects.get(key="job_level"), ["Chief Executive"])
    upload = upload_file(summit, path, actor=Actor("ann"))
    assert (upload.created, upload.updated, upload.errors) == (0, 2, 0), upload.row_errors
    assert upload.accepted == 2
    first, second = (Lead.objects.get(lead_id=lead.lead_id) for lead in rejected)
    assert first.status == second.status == "accepted"
    edited = LeadEvent.objects.filter(lead=second).order_by("id").last()
    assert edited.kind == "edited"
    assert edited.changes == {"email": ["x@", "carol@acme-corp.com"]}
    assert (edited.status_before, edited.status_after) == ("rejected", "accepted")
    assert LeadEvent.objects.filter(lead=first).order_by("id").last().kind == "reprocessed"


def test_dedupe_keys_are_written_only_to_the_leads_whose_keys_changed(summit, tmp_path, monkeypatch):
    from leadgate.files import processing

    written = []
    real = processing.update_columns

    def update_columns(model, pks, columns):
        written.append((len(pks), "email_key" in columns, "values" in columns))
        return real(model, pks, columns)

    monkeypatch.setattr(processing, "update_columns", update_columns)
    rejected = process_leads(summit, [good_lead(job_level="Chief Executive"), good_lead(email="x@")])
    keys_before = rejected[0].email_key
    path = write_csv(
        tmp_path / "fixed.csv",
        [
            [rejected[0].lead_id, *row_of(job_level="Chief Executive")],  # a picklist fix: same keys
            [rejected[1].lead_id, *row_of(email="carol@acme-corp.com")],  # a new email: a new key
        ],
        header=["LeadID", *HEADER],
    )
    add_picklist_values(Picklist.objects.get(key="job_level"), ["Chief Executive"])
    upload = upload_file(summit, path)
    assert (upload.updated, upload.accepted) == (2, 2), upload.row_errors
    assert sorted(written) == [(1, False, False), (1, True, True)]
    first, second = (Lead.objects.get(lead_id=lead.lead_id) for lead in rejected)
    assert first.email_key == keys_before == "ann.lee@acme-corp.com"
    assert second.email_key == "carol@acme-corp.com"
    # Dedupe finds the lead by its new key.
    (again,) = process_leads(summit, [good_lead(email="Carol@acme-corp.com")])
    assert again.disposition_code == "REJECT_LEAD_DUPLICATE" and second.lead_id in again.custom_reason


def test_lead_id_row_errors_leave_the_other_rows_alone(summit, tmp_path, stored_values):
    from leadgate.sources.definition_file import apply_definition

    apply_definition(
        "sources:\n  - {slug: other, name: Other, kind: event, status: live,"
        " fields: [{key: email, type: email}]}"
    )
    from leadgate.sources.models import Source

    foreign = process_leads(Source.objects.get(slug="other"), [{"email": "z@acme-corp.com"}])[0]
    mine = process_leads(summit, [good_lead(email="x@")])[0]
    path = write_csv(
        tmp_path / "ids.csv",
        [
            ["LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ", *row_of()],
            [foreign.lead_id, *row_of()],
            [mine.lead_id, *row_of(email="a1@acme-corp.com")],
            [mine.lead_id, *row_of(email="a2@acme-corp.com")],
            ["12345", *row_of()],
            ["", *row_of(email="new@acme-corp.com")],
        ],
        header=["LeadID", *HEADER],
    )
    upload = upload_file(summit, path)
    codes = {e["row"]: e["code"] for e in upload.row_errors}
    assert codes == {
        2: "unknown_lead_id",
        3: "foreign_lead_id",
        4: "repeated_lead_id",
        5: "repeated_lead_id",
        6: "invalid_lead_id",
    }
    assert (upload.errors, upload.created) == (5, 1)
    assert Lead.objects.get(pk=mine.pk).values["email"] == "x@"  # a repeated LeadID touches nothing
    assert Lead.objects.get(pk=foreign.pk).source.slug == "other"


def test_accepted_leads_are_left_alone_unless_asked(summit, tmp_path, stored_values):
    lead = process_leads(summit, [good_lead()])[0]
    path = write_csv(
        tmp_path / "a.csv", [[lead.lead_id, *row_of(first_name="Annie")]], header=["LeadID", *HEADER]
    )
    upload = upload_file(summit, path)
    assert (upload.skipped, upload.updated) == (1, 0)
    assert Lead.objects.get(pk=lead.pk).values["first_name"] == "Ann"
    assert any("--update-accepted" in w for w in upload.warnings)
    upload = upload_file(summit, path, update_accepted=True)
    assert (upload.skipped, upload.updated) == (0, 1)
    assert Lead.objects.get(pk=lead.pk).values["first_name"] == "Annie"


def test_blank_cells_are_empty_values_and_missing_columns_keep_theirs(summit, tmp_path, stored_values):
    lead = process_leads(summit, [good_lead(job_level="Chief Executive")])[0]
    path = write_csv(
        tmp_path / "b.csv", [[lead.lead_id, "", "Director"]], header=["LeadID", "phone", "job_level"]
    )
    upload = upload_file(summit, path)
    assert upload.updated == 1
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.values["phone"] is None
    assert stored.values["first_name"] == "Ann"  # no column: the stored value stays
    assert stored.status == "accepted"


def test_dry_run_saves_no_lead_and_previews_each_row(summit, tmp_path):
    rejected = process_leads(summit, [good_lead(email="x@")])[0]
    path = write_csv(
        tmp_path / "d.csv",
        [
            [rejected.lead_id, *row_of()],
            ["", *row_of(email="new@acme-corp.com")],
            ["", *row_of(email="new@acme-corp.com")],
        ],
        header=["LeadID", *HEADER],
    )
    upload = upload_file(summit, path, dry_run=True)
    assert (upload.created, upload.updated) == (2, 1)
    assert [p["action"] for p in upload.preview] == ["update", "create", "create"]
    assert upload.preview[2]["disposition_code"] == "REJECT_LEAD_DUPLICATE"
    assert Lead.objects.filter(source=summit).count() == 1
    assert Lead.objects.get(pk=rejected.pk).status == "rejected"
    assert LeadEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\n\n,,\n", "empty_file"),
        (b"ann@acme-corp.com,Ann\nbob@acme-corp.com,Bob\n", "no_header"),
        (b"colour,size\nred,XL\n", "no_recognisable_column"),
        (b"\x00\x01\x02\x03binary\x00\x00" * 50, "binary_file"),
        (b"PK\x03\x04 not really a zip", "corrupt_workbook"),
    ],
)
def test_file_level_problems_change_nothing(summit, tmp_path, content, code):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    upload = upload_file(summit, path)
    assert upload.state == Upload.State.FAILED
    assert upload_result(upload)["error"]["code"] == code
    assert Lead.objects.count() == 0


def test_encodings_and_delimiters_are_detected(summit, tmp_path):
    rows = [row_of(first_name="Zoë"), row_of(email="bob@acme-corp.com", first_name="Łukasz")]
    cases = [
        ("utf-8-sig", ";", "utf-8-bom"),
        ("utf-16", "\t", "utf-16"),
        ("utf-8", "|", "utf-8"),
    ]
    for encoding, delimiter, reported in cases:
        path = write_csv(tmp_path / f"{reported}.csv", rows, delimiter=delimiter, encoding=encoding)
        upload = upload_file(summit, path, dry_run=True)
        assert (upload.encoding, upload.delimiter, upload.created) == (reported, delimiter, 2), upload.error
    path = write_csv(tmp_path / "cp.csv", [row_of(first_name="Zoë")], encoding="cp1252")
    upload = upload_file(summit, path)
    assert upload.encoding == "windows-1252" and "Windows-1252" in upload.warnings[0]
    assert Lead.objects.get(upload=upload).values["first_name"] == "Zoë"


def test_damaged_copies_of_stored_values_are_kept_and_named(summit, tmp_path, stored_values):
    lead = process_leads(
        summit, [good_lead(job_level="Chief Executive", phone="+441632960000", first_name="Zoë 李")]
    )[0]
    path = write_csv(
        tmp_path / "damaged.csv",
        [[lead.lead_id, *row_of(job_level="Chief Executive", phone="4.41633E+11", first_name="Zoë ?")]],
        header=["LeadID", *HEADER],
    )
    upload = upload_file(summit, path)
    assert (upload.updated, upload.unchanged) == (0, 1)
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.values["phone"] == "+441632960000" and stored.values["first_name"] == "Zoë 李"
    text = " ".join(upload.warnings)
    assert "Phone" in text and "scientific notation" in text and "First Name" in text


def test_csv_guard_is_removed_exactly_once(summit, tmp_path):
    path = write_csv(
        tmp_path / "g.csv", [row_of(first_name="'=Ann"), row_of(email="b@acme-corp.com", first_name="''=Bo")]
    )
    upload = upload_file(summit, path)
    names = sorted(Lead.objects.filter(upload=upload).values_list("values__first_name", flat=True))
    assert names == ["'=Bo", "=Ann"]


def test_upload_result_matches_the_cli_contract(summit, tmp_path):
    path = write_csv(tmp_path / "c.csv", [row_of()])
    result = upload_result(upload_file(summit, path))
    assert set(result) >= {
        "upload",
        "state",
        "format",
        "encoding",
        "delimiter",
        "rows",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "errors",
        "accepted",
        "rejected",
        "row_errors",
        "warnings",
    }


def test_a_workbook_uploads_like_a_csv(summit, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Leads"
    ws.append(["Email Address", "First Name", "Job Level", "Country", "Phone", "Opt-in"])
    ws.append(["ann@acme-corp.com", "Ann", "VP", "Germany", "+49 30 1234567", "yes"])
    ws.append([None] * 6)
    ws.append(["bob@acme-corp.com", "Bob", "VP", "Germany", 4930123456, True])
    wb.save(tmp_path / "leads.xlsx")
    upload = upload_file(summit, tmp_path / "leads.xlsx")
    assert (upload.format, upload.created, upload.accepted) == ("xlsx", 2, 2), upload.error
    assert sorted(e["row"] for e in upload.row_errors) == []


def test_the_row_error_report_holds_the_original_rows_and_their_errors(summit, tmp_path):
    import polars as pl

    path = write_csv(
        tmp_path / "e.csv",
        [["LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ", *row_of(first_name="'=Zoë")], ["", *row_of()]],
        header=["LeadID", *HEADER],
    )
    upload = upload_file(summit, path)
    out = io.BytesIO()
    from leadgate.files.uploads import write_row_error_report

    assert write_row_error_report(upload, out) == 1
    report = pl.read_csv(out.getvalue(), infer_schema=False)
    assert report.columns == ["LeadID", *HEADER, "Error Code", "Error"]
    assert report.row(0)[0] == "LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ"
    assert report["first_name"][0] == "'=Zoë"  # the cell as it was in the file, guard and all
    assert report["Error Code"][0] == "unknown_lead_id"


@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_one_file_at_once_create_each_row_once(summit, tmp_path, monkeypatch):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL (the SQLite test database is in memory)")
    monkeypatch.setattr("leadgate.files.processing.PART_ROWS", 7)
    rows = [row_of(email=f"p{i}@acme-corp.com") for i in range(40)]
    path = write_csv(tmp_path / "twice.csv", rows)
    results = []

    def upload():
        try:
            results.append(upload_file(summit, path))
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(u.created for u in results) == 40
    assert sum(u.created + u.unchanged for u in results) == 80
    assert Lead.objects.filter(source=summit).count() == 40


@pytest.mark.django_db(transaction=True)
def test_an_upload_that_died_midway_resumes_after_its_last_stored_part(summit, tmp_path, monkeypatch):
    from leadgate.files import processing, uploads

    monkeypatch.setattr(processing, "PART_ROWS", 10)
    path = write_csv(tmp_path / "crash.csv", [row_of(email=f"c{i}@acme-corp.com") for i in range(35)])
    real = processing.NewLeads.store
    calls = []

    def dies_in_the_third_part(self):
        calls.append(self.count)
        real(self)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is killed mid-part: that part's transaction is lost

    monkeypatch.setattr(processing.NewLeads, "store", dies_in_the_third_part)
    upload = uploads.create_upload(summit, path, claim=True)
    with pytest.raises(KeyboardInterrupt):
        uploads.process_upload(upload, claimed=True)
    upload.refresh_from_db()
    assert (upload.state, upload.rows_done, upload.created) == ("processing", 20, 20)
    assert Lead.objects.count() == 20
    monkeypatch.setattr(processing.NewLeads, "store", real)
    Upload.objects.filter(pk=upload.pk).update(lease_until=None)  # the lease ran out
    assert uploads.resume_stalled_uploads(now=upload.created_at + uploads.REQUEUE_AFTER * 2) == 1
    done = uploads.process_upload(Upload.objects.get(pk=upload.pk))
    assert (done.state, done.rows_done, done.created) == ("done", 35, 35)
    assert Lead.objects.count() == 35


def _overlapping(summit, monkeypatch, part_rows):
    """Parts of ``part_rows`` rows, stored by the writer thread while the next is decided; PostgreSQL only
    (the SQLite test database is in memory: one connection, so parts go one at a time)."""
    from django.db import connection

    from leadgate.files import processing

    if connection.vendor != "postgresql":
        pytest.skip("parts are stored on a connection of their own: tested on PostgreSQL")
    monkeypatch.setattr(processing, "PART_ROWS", part_rows)
    stored = []
    real = processing.NewLeads.store

    def store(self):
        stored.append(threading.current_thread().name)
        real(self)

    monkeypatch.setattr(processing.NewLeads, "store", store)
    return stored


@pytest.mark.django_db(transaction=True)
def test_parts_stored_while_the_next_is_decided_keep_dedupe_and_the_cap_exact(summit, tmp_path, monkeypatch):
    stored = _overlapping(summit, monkeypatch, 7)
    summit.allocation = 25
    summit.save()
    # Each row's email repeats 9 rows later: in the next part, which is decided before this one is stored.
    rows = [row_of(email=f"d{i % 9}-{i // 18}@acme-corp.com") for i in range(45)]
    upload = upload_file(summit, write_csv(tmp_path / "parts.csv", rows))
    assert upload.state == Upload.State.DONE, upload.error
    assert set(stored) == {"upload-writer"} and len(stored) == 7
    leads = list(Lead.objects.filter(source=summit).order_by("id"))
    codes = [lead.disposition_code for lead in leads]
    assert len(leads) == upload.created == 45
    assert codes.count("REJECT_LEAD_DUPLICATE") == 18  # rows 9–17 and 27–35 repeat rows 0–8 and 18–26
    assert codes.count("ACCEPT_LEAD") == upload.accepted == 25  # the cap, though parts overlapped
    assert codes.count("REJECT_LEAD_ALLOCATION_REACHED") == 2
    assert codes == [
        lead.disposition_code for lead in Lead.objects.filter(source=summit).order_by("submitted_at", "id")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_part_whose_decision_went_stale_is_decided_again(summit, tmp_path, monkeypatch):
    from leadgate.files import processing

    _overlapping(summit, monkeypatch, 5)
    summit.allocation = None  # only the dedupe answers can go stale here
    summit.save()
    rows = [row_of(email=f"s{i}@acme-corp.com") for i in range(12)]
    real = processing.UploadRun._decided
    decided = []

    def another_request_accepts_a_lead_meanwhile(self, part, done, *, checked):
        job = real(self, part, done, checked=checked)
        decided.append(done) if checked else None
        if len(decided) == 2:  # the second part is decided; before it is stored, an API post takes s7
            process_leads(summit, [good_lead(email="s7@acme-corp.com")])
        return job

    monkeypatch.setattr(processing.UploadRun, "_decided", another_request_accepts_a_lead_meanwhile)
    upload = upload_file(summit, write_csv(tmp_path / "stale.csv", rows))
    assert upload.state == Upload.State.DONE, upload.error
    # The third part may have been decided before the second was found stale: it is then dropped too.
    assert decided[:2] == [5, 10] and len(decided) <= 3
    assert (upload.created, upload.accepted, upload.rejected) == (12, 11, 1)
    row = Lead.objects.get(source=summit, upload=upload, values__email="s7@acme-corp.com")
    assert row.disposition_code == "REJECT_LEAD_DUPLICATE"
    assert Lead.objects.filter(source=summit).count() == 13


@pytest.mark.django_db(transaction=True)
def test_a_part_decided_before_another_request_took_the_last_places_is_decided_again(
    summit, tmp_path, monkeypatch
):
    from leadgate.files import processing

    _overlapping(summit, monkeypatch, 5)
    summit.allocation = 7
    summit.save()
    real = processing.UploadRun._decided
    decided = []

    def another_request_accepts_a_lead_meanwhile(self, part, done, *, checked):
        job = real(self, part, done, checked=checked)
        decided.append(done) if checked else None
        if len(decided) == 2:  # the second part counted 5 places taken; an API post takes a sixth
            process_leads(summit, [good_lead(email="api@acme-corp.com")])
        return job

    monkeypatch.setattr(processing.UploadRun, "_decided", another_request_accepts_a_lead_meanwhile)
    rows = [row_of(email=f"c{i}@acme-corp.com") for i in range(12)]
    upload = upload_file(summit, write_csv(tmp_path / "cap.csv", rows))
    assert upload.state == Upload.State.DONE, upload.error
    assert (upload.created, upload.accepted) == (12, 6)
    assert Lead.objects.filter(source=summit, status="accepted").count() == 7  # the cap, exactly


@pytest.mark.django_db(transaction=True)
def test_a_part_naming_leadids_waits_for_the_parts_before_it_under_an_allocation_cap(
    summit, tmp_path, monkeypatch
):
    stored = _overlapping(summit, monkeypatch, 4)
    summit.allocation = 100  # the cap counts the stored leads the part decides again
    summit.save()
    wrong = write_csv(tmp_path / "a.csv", [row_of(email="w0@acme-corp.com", job_level="Chief Executive")])
    lead_id = upload_file(summit, wrong).leads.get().lead_id  # rejected: not a job level of the picklist
    rows = [["", *row_of(email=f"n{i}@acme-corp.com")] for i in range(8)]
    rows[5] = [lead_id, *row_of(email="w0@acme-corp.com", first_name="Renamed")]
    upload = upload_file(summit, write_csv(tmp_path / "b.csv", rows, header=["LeadID", *HEADER]))
    assert upload.state == Upload.State.DONE, upload.error
    assert (upload.created, upload.updated, upload.accepted) == (7, 1, 8)
    fixed = Lead.objects.get(lead_id=lead_id)
    assert (fixed.status, fixed.values["first_name"]) == ("accepted", "Renamed")
    # The first file's part and the first four new rows went through the writer; the part naming the
    # LeadID was decided under the lock once they were stored.
    assert stored[:2] == ["upload-writer", "upload-writer"] and stored[2] == "MainThread"


def _rejected_leads(summit, tmp_path, n):
    """``n`` stored leads rejected for a job level the picklist lacks, in a source without an allocation
    cap (with one, parts naming LeadIDs wait for the parts before them)."""
    summit.allocation = None
    summit.save()
    rows = [row_of(email=f"r{i}@acme-corp.com", job_level="Chief Executive") for i in range(n)]
    first = upload_file(summit, write_csv(tmp_path / "rejected.csv", rows))
    return [lead.lead_id for lead in first.leads.order_by("id")]


@pytest.mark.django_db(transaction=True)
def test_parts_naming_leadids_are_decided_while_the_part_before_is_stored(summit, tmp_path, monkeypatch):
    from leadgate.files import processing

    _overlapping(summit, monkeypatch, 4)
    changed = []
    real = processing.UploadRun._store_changed

    def store_changed(self, rows, now):
        changed.append((threading.current_thread().name, len(rows))) if rows else None
        real(self, rows, now)

    monkeypatch.setattr(processing.UploadRun, "_store_changed", store_changed)
    lead_ids = _rejected_leads(summit, tmp_path, 10)
    changed.clear()
    rows = [[lead_id, *row_of(email=f"r{i}@acme-corp.com")] for i, lead_id in enumerate(lead_ids)]
    upload = upload_file(summit, write_csv(tmp_path / "fixed.csv", rows, header=["LeadID", *HEADER]))
    assert upload.state == Upload.State.DONE, upload.error
    assert (upload.created, upload.updated, upload.accepted, upload.rejected) == (0, 10, 10, 0)
    assert changed == [("upload-writer", 4), ("upload-writer", 4), ("upload-writer", 2)]
    assert set(Lead.objects.filter(source=summit).values_list("status", flat=True)) == {"accepted"}


@pytest.mark.django_db(transaction=True)
def test_a_part_naming_a_lead_someone_changed_meanwhile_is_decided_again(summit, tmp_path, monkeypatch):
    """A reviewer edits a lead after the upload read it and before the upload stored its part: the part is
    decided again from the lead as the reviewer left it, so its history tells what the file changed."""
    from leadgate.files import processing
    from leadgate.leads.services import reprocess_leads

    _overlapping(summit, monkeypatch, 4)
    lead_ids = _rejected_leads(summit, tmp_path, 10)
    real = processing.UploadRun._decided
    decided = []

    def a_reviewer_edits_a_lead_meanwhile(self, part, done, *, checked):
        job = real(self, part, done, checked=checked)
        decided.append((done, checked))
        if len(decided) == 2:  # the second part read r5; before it is stored, a reviewer edits r5
            reprocess_leads(summit, [lead_ids[5]], edits={lead_ids[5]: {"first_name": "Edited"}})
        return job

    monkeypatch.setattr(processing.UploadRun, "_decided", a_reviewer_edits_a_lead_meanwhile)
    rows = [[lead_id, *row_of(email=f"r{i}@acme-corp.com")] for i, lead_id in enumerate(lead_ids)]
    upload = upload_file(summit, write_csv(tmp_path / "fixed.csv", rows, header=["LeadID", *HEADER]))
    assert upload.state == Upload.State.DONE, upload.error
    assert decided[:2] == [(4, True), (8, True)]
    assert (8, False) in decided  # decided again, under the lock
    assert (upload.updated, upload.accepted) == (10, 10)
    lead = Lead.objects.get(lead_id=lead_ids[5])
    in_file = rows[5][1 + HEADER.index("first_name")]
    assert (lead.status, lead.values["first_name"]) == ("accepted", in_file)
    last = lead.events.order_by("id").last()
    assert last.changes["first_name"] == ["Edited", in_file]  # not from the lead as first read


def test_a_downloaded_file_uploaded_again_is_compared_in_polars_not_row_by_row(summit, tmp_path, monkeypatch):
    from leadgate.files import processing
    from leadgate.files.downloads import download

    leads = process_leads(
        summit, [good_lead(email=f"p{i}@acme-corp.com", job_level="Chief Executive") for i in range(6)]
    )
    path = tmp_path / "download.csv"
    with path.open("wb") as out:
        download(summit, out, format="csv")
    merged = []
    real = processing.UploadRun._merge
    monkeypatch.setattr(
        processing.UploadRun,
        "_merge",
        lambda self, row, compiled: merged.append(row.number) or real(self, row, compiled),
    )
    upload = upload_file(summit, path)
    assert (upload.created, upload.updated, upload.unchanged, upload.errors) == (0, 0, 6, 0)
    assert merged == []  # every cell says what the lead holds: no row went through the Python merge
    assert {lead.status for lead in Lead.objects.filter(pk__in=[lead.pk for lead in leads])} == {"rejected"}


def test_stored_values_decode_as_text_whatever_else_the_json_holds():
    from leadgate.files.processing import StoredLead, _decoded_values

    leads = []
    for pk, text in enumerate(
        [
            '{"email": "a@b.co", "gone": "a removed field", "city": null}',
            '{"city": "Zoë 李 \\"q\\" \\\\", "n": 1}',
        ]
    ):
        lead = StoredLead()
        lead.pk, lead.values_json = pk, text
        leads.append(lead)
    stored = _decoded_values(leads, ["email", "city", "n"])
    assert stored is not None and stored.position == {0: 0, 1: 1}
    assert stored.frame.rows() == [("a@b.co", None, None), (None, 'Zoë 李 "q" \\', "1")]
