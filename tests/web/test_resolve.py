"""Source → Resolve: groups, the actions per role, reprocessing and the history it writes."""

from __future__ import annotations

import pytest

from leadgate.leads.models import Lead, LeadEvent, ReprocessRun
from leadgate.leads.services import process_leads, reject_leads
from leadgate.leads.tasks import reprocess_task
from leadgate.sources.models import ListMapper, Picklist
from leadgate.web import resolve as resolve_views
from tests.conftest import good_lead

SLUG = "data-summit-2026"
URL = f"/sources/{SLUG}/resolve/"
ACT = f"/sources/{SLUG}/resolve/act"
INVALID = "REJECT_LEAD_INVALID_LIST_VALUE"
CEO = {"code": INVALID, "field": "job_level", "value": "Chief Executive"}


@pytest.fixture
def rejected(summit):
    """Three leads rejected for "Chief Executive" on job_level, one for a free-mail address, one accepted."""
    process_leads(
        summit,
        [good_lead(email=f"ceo{i}@acme-corp.com", job_level="Chief Executive") for i in range(3)]
        + [good_lead(email="someone@gmail.com"), good_lead()],
    )
    return summit


def _run_queued_reprocess():
    """What the worker does with the run the Reprocess button queued."""
    reprocess_task.call(ReprocessRun.objects.latest("id").pk)


def _statuses(source):
    return sorted(Lead.objects.filter(source=source).values_list("status", flat=True))


def test_viewer_sees_the_groups_largest_first_with_the_picklist(viewer, rejected):
    response = viewer.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("“Chief Executive”") < page.index("gmail.com")
    group = response.context["rows"][0]
    assert (group.group.code, group.group.count) == (INVALID, 3)
    assert group.suggestion == "C-Level"
    assert group.candidates[0] == "C-Level"
    assert "Individual Contributor" in group.picklist_values
    assert "Reprocess" not in page  # a viewer has no action buttons
    assert 'method="post"' not in page.split('id="groups"')[1]


def test_groups_filter_by_code(viewer, rejected):
    response = viewer.get(URL, {"code": INVALID})
    assert [row.group.code for row in response.context["rows"]] == [INVALID]
    response = viewer.get(URL, {"code": "REJECT_LEAD_DUPLICATE"})
    assert response.context["rows"] == []
    assert "No rejected leads with this disposition." in response.content.decode()


@pytest.mark.parametrize("action", ["add", "alias", "map", "keep", "reprocess"])
def test_viewer_may_not_act(viewer, rejected, action):
    response = viewer.post(ACT, {**CEO, "action": action, "target": "C-Level"})
    assert response.status_code == 403
    assert _statuses(rejected).count("rejected") == 4
    assert not Picklist.objects.get(key="job_level").aliases.filter(alias="Chief Executive").exists()


def test_manager_aliases_then_reprocesses_and_the_history_names_them(manager, people, rejected):
    response = manager.post(ACT, {**CEO, "action": "alias", "target": "C-Level"})
    assert response.status_code == 302
    assert response["Location"] == URL
    alias = Picklist.objects.get(key="job_level").aliases.get(alias="Chief Executive")
    assert alias.value.value == "C-Level"
    page = manager.get(URL).content.decode()
    assert "Now means “C-Level”" in page
    assert "Reprocess 3 leads" in page

    response = manager.post(ACT, {**CEO, "action": "reprocess"})
    assert response.status_code == 302
    _run_queued_reprocess()
    assert "Reprocessed 3 leads: 3 accepted." in manager.get(URL).content.decode()
    leads = Lead.objects.filter(source=rejected, values__job_level="Chief Executive")
    assert {lead.status for lead in leads} == {"accepted"}
    assert {lead.clean["job_level"] for lead in leads} == {"C-Level"}
    events = LeadEvent.objects.filter(lead__in=leads, kind="reprocessed")
    assert events.count() == 3
    event = events.first()
    assert (event.user, event.actor) == (people["manager"], "web manager")
    assert (event.status_before, event.status_after) == ("rejected", "accepted")
    assert event.code_before == INVALID
    assert "mapped to" in event.note and "C-Level" in event.note
    # The group is gone; the free-mail one stays.
    assert [row.group.code for row in manager.get(URL).context["rows"]] == [
        "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"
    ]


def test_manager_adds_the_value_then_fills_in_the_list_mapper(manager, rejected):
    manager.post(ACT, {**CEO, "action": "add"})
    picklist = Picklist.objects.get(key="job_level")
    assert picklist.values.filter(value="Chief Executive").exists()
    response = manager.get(URL)
    row = response.context["rows"][0]
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    assert row.resolved_as == "Chief Executive"
    assert row.mappers == [(mapper, True)]
    assert "has no entry for “Chief Executive”" in response.content.decode()

    manager.post(
        ACT,
        {**CEO, "action": "map", "mapper": mapper.key, "target": "Chief Executive", "output": "Executive"},
    )
    assert mapper.entries.get(value__value="Chief Executive").output == "Executive"
    assert manager.get(URL).context["rows"][0].mappers == [(mapper, False)]

    manager.post(ACT, {**CEO, "action": "reprocess"})
    _run_queued_reprocess()
    assert _statuses(rejected) == ["accepted"] * 4 + ["rejected"]
    note = LeadEvent.objects.filter(kind="reprocessed").values_list("note", flat=True).first()
    assert note == 'Resolve: "Chief Executive" was added to picklist "job_level"'


def test_htmx_gets_the_group_list_alone(manager, rejected):
    response = manager.post(
        ACT, {**CEO, "action": "alias", "target": "C-Level"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="groups"' in page and "<html" not in page
    assert "Now means “C-Level”" in page


def test_a_refused_alias_says_why_and_changes_nothing(manager, rejected):
    manager.post(ACT, {**CEO, "action": "alias", "target": "Astronaut"})
    page = manager.get(URL).content.decode()
    assert "is not a value of picklist" in page
    assert not Picklist.objects.get(key="job_level").aliases.filter(alias="Chief Executive").exists()


def test_keep_rejected_hides_the_group(manager, rejected):
    manager.post(ACT, {**CEO, "action": "keep"})
    response = manager.get(URL)
    assert [row.group.code for row in response.context["rows"]] == ["REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"]
    assert response.context["hidden"] == 3
    assert _statuses(rejected).count("rejected") == 4  # nothing stored on the leads
    shown = manager.get(URL, {"kept": "1"}).context["rows"]
    assert [row.kept for row in shown] == [True, False]
    manager.post(ACT, {**CEO, "action": "unkeep", "show_kept": "1"})
    assert manager.get(URL).context["hidden"] == 0


def test_lead_values_are_escaped(manager, summit):
    process_leads(summit, [good_lead(job_level='<script>alert(1)</script>"><img src=x onerror=alert(2)>')])
    page = manager.get(URL).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_reviewers_rejection_has_no_reprocess_button(manager, summit):
    lead = process_leads(summit, [good_lead()])[0]
    reject_leads(summit, [lead.lead_id], "Competitor")
    response = manager.get(URL)
    [row] = response.context["rows"]
    assert (row.group.code, row.reprocessable) == ("REJECT_LEAD_MANUAL", False)
    assert "Reprocess" not in response.content.decode()


def test_past_the_largest_groups_the_rest_are_counted(manager, summit, monkeypatch):
    monkeypatch.setattr(resolve_views, "SHOWN", 2)
    process_leads(summit, [good_lead(email=f"u{i}@acme-corp.com", job_level=f"Level {i}") for i in range(5)])
    response = manager.get(URL)
    assert len(response.context["rows"]) == 2
    assert (response.context["more_groups"], response.context["more_leads"]) == (3, 3)
    assert "3 smaller groups with 3 leads are not shown" in response.content.decode()


def test_viewers_see_personal_values_masked(viewer, manager, summit):
    summit.fields.filter(key="email").update(pii=True)
    process_leads(summit, [good_lead(email="ann.lee@@acme-corp.com"), good_lead(email="bo@gmail.com")])
    page = viewer.get(URL).content.decode()
    assert "ann.lee@@acme-corp.com" not in page
    assert "“a•••@@acme-corp.com”" in page
    assert "“gmail.com”" in page  # a blocked domain is not personal
    assert "“ann.lee@@acme-corp.com”" in manager.get(URL).content.decode()
