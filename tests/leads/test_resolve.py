"""Rejections grouped for the Resolve tab."""

from __future__ import annotations

from leadgate.leads.models import Lead
from leadgate.leads.resolve import Group, group_lead_ids, rejection_groups
from leadgate.leads.services import process_leads
from tests.conftest import good_lead

INVALID = "REJECT_LEAD_INVALID_LIST_VALUE"
BLOCKED = "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"


def _leads(summit):
    process_leads(
        summit,
        [good_lead(email=f"ceo{i}@acme-corp.com", job_level="Chief Executive") for i in range(4)]
        + [good_lead(email="boss@acme-corp.com", job_level="Boss", country="Narnia")]
        + [good_lead(email=f"x{i}@gmail.com") for i in range(2)]
        + [good_lead(email="y@GMAIL.com"), good_lead(email="z@web.de")]
        + [good_lead(email="ok@acme-corp.com")],
    )


def test_groups_by_first_problem_largest_first(summit):
    _leads(summit)
    groups = rejection_groups(summit)
    assert groups[0] == Group(INVALID, "job_level", "Chief Executive", 4)
    # Email addresses blocked for their domain are grouped by the domain, whatever its case.
    assert Group(BLOCKED, "email", "gmail.com", 3) in groups
    # The Narnia lead counts once, under its first problem only.
    assert Group(INVALID, "job_level", "Boss", 1) in groups
    assert sum(g.count for g in groups) == Lead.objects.filter(source=summit, status="rejected").count() == 9
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)


def test_groups_filter_by_code(summit):
    _leads(summit)
    assert {g.code for g in rejection_groups(summit, code=INVALID)} == {INVALID}
    assert rejection_groups(summit, code="REJECT_LEAD_DUPLICATE") == []


def test_lead_ids_of_a_group(summit):
    _leads(summit)
    ceo = group_lead_ids(summit, INVALID, "job_level", "Chief Executive")
    assert sorted(Lead.objects.filter(lead_id__in=ceo).values_list("values__email", flat=True)) == [
        f"ceo{i}@acme-corp.com" for i in range(4)
    ]
    gmail = group_lead_ids(summit, BLOCKED, "email", "gmail.com")
    assert len(gmail) == 3
    assert group_lead_ids(summit, INVALID, "job_level", "Nobody") == []


def test_accepted_leads_form_no_group(summit):
    process_leads(summit, [good_lead()])
    assert rejection_groups(summit) == []
