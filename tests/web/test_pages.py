"""What the Sources list and a source's Summary show: the right counts, searches and charts."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadgate.leads.models import Lead
from leadgate.leads.services import process_leads
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from leadgate.web.stats import counts_by_source, leads_per_hour, sparklines
from tests.conftest import good_lead

SLUG = "data-summit-2026"
MORE_SOURCES = """
sources:
  - slug: partner-feed
    name: Partner Feed
    kind: partner
    status: paused
    fields:
      - {key: email, label: Email, type: email, required: true}
  - slug: spring-webinar
    name: Spring Webinar
    kind: webinar
    status: draft
    fields:
      - {key: email, label: Email, type: email, required: true}
"""


@pytest.fixture
def leads(summit):
    """Three accepted, two rejected (free mail, invalid list value), one in review, in the summit."""
    process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(3)])
    process_leads(
        summit, [good_lead(email="ann@gmail.com"), good_lead(email="bo@acme-corp.com", job_level="Chef")]
    )
    summit.review = True
    summit.save()
    process_leads(summit, [good_lead(email="cy@acme-corp.com")])
    return summit


@pytest.fixture
def sources(leads):
    apply_definition(MORE_SOURCES)
    return Source.objects.all()


def _counters(response):
    return response.context["counts"]


def test_the_sources_list_counts_each_sources_leads(sources, viewer):
    response = viewer.get("/sources/")
    rows = {source.slug: counts for source, counts, _ in response.context["rows"]}
    assert rows[SLUG] == {
        "received": 6,
        "processing": 0,
        "accepted": 3,
        "rejected": 2,
        "in_review": 1,
        "failed": 0,
    }
    assert rows["partner-feed"]["received"] == 0
    body = response.content.decode()
    assert "Data Summit 2026" in body and "Partner Feed" in body and "spring-webinar" in body


def test_the_counts_are_one_query_however_many_sources(sources):
    ids = [s.pk for s in sources]
    with CaptureQueriesContext(connection) as queries:
        counts = counts_by_source(ids)
    assert len(queries) == 1
    assert counts[Source.objects.get(slug=SLUG).pk]["accepted"] == 3


def test_the_sources_list_page_reads_a_fixed_number_of_queries(sources, viewer):
    viewer.get("/sources/")  # the session and user, once
    with CaptureQueriesContext(connection) as few:
        viewer.get("/sources/")
    apply_definition(
        MORE_SOURCES.replace("partner-feed", "partner-two").replace("spring-webinar", "spring-two")
    )
    with CaptureQueriesContext(connection) as more:
        viewer.get("/sources/")
    assert len(more) == len(few)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "summit"}, [SLUG]),
        ({"q": "PARTNER-F"}, ["partner-feed"]),  # slugs and names, any case
        ({"status": "draft"}, ["spring-webinar"]),
        ({"status": "live", "q": "webinar"}, []),
        (
            {"status": "nonsense"},
            [SLUG, "partner-feed", "spring-webinar"],
        ),  # an unknown status filters nothing
    ],
)
def test_the_sources_list_searches_and_filters(sources, viewer, params, expected):
    response = viewer.get("/sources/", params)
    assert sorted(s.slug for s, _, _ in response.context["rows"]) == sorted(expected)
    if not expected:
        assert b"No source matches" in response.content


def test_the_summary_counts_every_status(leads, viewer):
    counts = _counters(viewer.get(f"/sources/{SLUG}/"))
    assert counts["total"] == 6
    assert counts["status"] == {"processing": 0, "accepted": 3, "rejected": 2, "in_review": 1, "failed": 0}


def test_the_counters_partial_holds_the_current_numbers(leads, viewer):
    body = viewer.get(f"/sources/{SLUG}/counters", headers={"HX-Request": "true"}).content.decode()
    assert '<dd data-counter="received">6</dd>' in body
    assert '<dd data-counter="rejected">2</dd>' in body
    assert "<html" not in body  # only the counters: htmx swaps them in
    process_leads(leads, [good_lead(email="dee@gmail.com")])
    body = viewer.get(f"/sources/{SLUG}/counters").content.decode()
    assert '<dd data-counter="rejected">3</dd>' in body


def test_the_summary_polls_its_counters(leads, viewer):
    body = viewer.get(f"/sources/{SLUG}/").content.decode()
    assert f'hx-get="/sources/{SLUG}/counters" hx-trigger="every 5s"' in body
    assert "Refresh" not in body


def test_the_breakdown_names_each_code_with_its_share(leads, viewer):
    response = viewer.get(f"/sources/{SLUG}/")
    rows = {row.code: row for row in response.context["breakdown"]}
    # The lead held in review passed every check too: its code is ACCEPT_LEAD.
    assert rows["ACCEPT_LEAD"].count == 4 and round(rows["ACCEPT_LEAD"].share, 1) == 66.7
    assert rows["REJECT_LEAD_INVALID_LIST_VALUE"].title == "Invalid list value"
    assert rows["REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"].count == 1
    body = response.content.decode()
    assert "Blocked email domain" in body and "16.7 %" in body
    assert '<rect width="66.67" height="10"/>' in body  # the accepted bar: two thirds of the width
    # Each rejection links to the Resolve tab for its code, where it can be fixed.
    resolve = f"/sources/{SLUG}/resolve/?code=REJECT_LEAD_INVALID_LIST_VALUE"
    assert f'href="{resolve}">Invalid list value</a>' in body


def test_leads_over_time_counts_per_hour_for_48_hours(summit):
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    process_leads(summit, [good_lead(email=f"a{i}@acme-corp.com") for i in range(4)], submitted_at=now)
    earlier = hour - dt.timedelta(hours=5) + dt.timedelta(minutes=59)
    process_leads(summit, [good_lead(email="b@acme-corp.com")], submitted_at=earlier)
    too_old = hour - dt.timedelta(hours=48, minutes=1)
    process_leads(summit, [good_lead(email="c@acme-corp.com")], submitted_at=too_old)

    hours = leads_per_hour(summit, now=now)
    assert len(hours) == 48
    assert hours[-1].start == hour and hours[-1].count == 4 and hours[-1].height == 100.0
    assert hours[-6].start == hour - dt.timedelta(hours=5) and hours[-6].count == 1
    assert hours[-6].height == 25.0
    assert sum(h.count for h in hours) == 5  # the lead from 48 hours ago is off the chart


def test_the_summary_lists_the_latest_leads_escaped(summit, viewer):
    process_leads(summit, [good_lead(first_name='<img src=x onerror="alert(1)">', job_level="<b>Chef</b>")])
    body = viewer.get(f"/sources/{SLUG}/").content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
    assert "<img src=x" not in body and "<b>Chef</b>" not in body
    assert "&lt;b&gt;Chef&lt;/b&gt;" in body  # in the values and in the custom reason


def test_the_latest_leads_mask_personal_values_for_viewers_and_link_to_each_lead(summit, viewer, manager):
    lead = process_leads(summit, [good_lead(email="ann.lee@gmail.com")])[0]  # free mail: the reason quotes it
    seen = viewer.get(f"/sources/{SLUG}/").content.decode()
    assert "ann.lee@gmail.com" not in seen and "a•••@gmail.com" in seen
    assert f'href="/sources/{SLUG}/leads/{lead.lead_id}/"' in seen
    assert "ann.lee@gmail.com" in manager.get(f"/sources/{SLUG}/").content.decode()


def test_download_leads_streams_the_chosen_leads(leads, viewer):
    response = viewer.get(f"/sources/{SLUG}/download", {"status": "rejected", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="{SLUG}-leads-')
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("LeadID", "Status", "Disposition Code")
    assert sorted(r[0] for r in rows[1:]) == sorted(
        Lead.objects.filter(source=leads, status="rejected").values_list("lead_id", flat=True)
    )


def test_download_leads_with_a_bad_option_says_so_on_the_summary(leads, viewer):
    response = viewer.get(f"/sources/{SLUG}/download", {"format": "pdf"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/sources/{SLUG}/#download"
    assert b"unknown format &quot;pdf&quot;" in response.content


def test_an_empty_source_says_so(summit, viewer):
    body = viewer.get(f"/sources/{SLUG}/").content.decode()
    assert body.count("No leads yet.") == 2


def test_download_leads_filters_by_code_and_inclusive_dates(leads, viewer):
    today = timezone.now().date()
    response = viewer.get(
        f"/sources/{SLUG}/download",
        {"code": "REJECT_LEAD_INVALID_LIST_VALUE", "since": str(today), "until": str(today), "format": "csv"},
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "REJECT_LEAD_INVALID_LIST_VALUE" in lines[1]
    yesterday = str(today - dt.timedelta(days=1))
    response = viewer.get(f"/sources/{SLUG}/download", {"until": yesterday, "format": "csv"})
    assert len(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()) == 1  # the header


def test_a_bad_date_is_one_sentence_on_the_summary(leads, viewer):
    response = viewer.get(f"/sources/{SLUG}/download", {"since": "14/03/2026"}, follow=True)
    assert b"is not a date or time" in response.content


def test_the_lead_template_is_the_header_of_the_fields(summit, viewer):
    response = viewer.get(f"/sources/{SLUG}/template", {"format": "csv"})
    assert response["Content-Disposition"] == f'attachment; filename="{SLUG}-template.csv"'
    header = b"".join(response.streaming_content).decode("utf-8-sig").strip()
    assert header == "email,first_name,job_level,country,phone,opt_in"


def test_the_sources_list_draws_each_sources_last_48_hours(sources, viewer):
    summit = Source.objects.get(slug=SLUG)
    process_leads(
        summit, [good_lead(email="early@acme-corp.com")], submitted_at=timezone.now() - dt.timedelta(hours=3)
    )
    lines = sparklines([s.pk for s in sources])
    assert set(lines) == {summit.pk}  # sources without leads lately have no line
    assert len(lines[summit.pk]) == 48
    assert lines[summit.pk][-1] == 100.0 and lines[summit.pk][-4] == pytest.approx(100 / 6)
    body = viewer.get("/sources/").content.decode()
    assert body.count('<svg class="sparkline"') == 1
