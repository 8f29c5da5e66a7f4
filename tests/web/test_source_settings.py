"""Source → Fields, Rules and Settings: what each role sees, edits checked as `leadgate apply` checks
them, the reprocess preview (which changes nothing) and the reprocess, status, callback secret and keys."""

from __future__ import annotations

import json

import pytest
import yaml
from django.test import Client

from leadgate.accounts.models import ApiKey
from leadgate.accounts.services import create_api_key
from leadgate.delivery.models import Delivery
from leadgate.leads.models import Lead, LeadEvent, ReprocessRun
from leadgate.leads.services import preview_reprocess, process_leads, reject_leads
from leadgate.leads.tasks import reprocess_task
from leadgate.sources.definition_file import apply_definition, export_definition
from leadgate.sources.models import Field, Source
from tests.conftest import good_lead

from .conftest import signed_in

SLUG = "data-summit-2026"
BASE = f"/sources/{SLUG}"
FIELD = f"{BASE}/fields/first_name/"
TOO_LONG = "REJECT_LEAD_FIELD_TOO_LONG"

# Every form of the three tabs, with a valid body: viewers may post none of them, and none without a token.
FORMS = [
    (f"{BASE}/fields/new", {"key": "company", "label": "Company", "type": "text"}),
    (FIELD, {"label": "First Name", "type": "text", "max_length": "20"}),
    (f"{BASE}/fields/first_name/move", {"direction": "down"}),
    (f"{BASE}/fields/phone/remove", {}),
    (f"{BASE}/rules/save", {"dedupe_key": "", "allocation": "3"}),
    (f"{BASE}/rules/reprocess", {}),
    (f"{BASE}/settings/save", {"name": "Renamed", "kind": "event", "timezone": "UTC"}),
    (f"{BASE}/settings/status", {"status": "paused"}),
    (f"{BASE}/settings/rotate-secret", {}),
    (f"{BASE}/settings/keys", {"name": "Booth app"}),
]


def _field_form(**changes):
    """The edit form of first_name as the page fills it in, with changes."""
    form = {"label": "First Name", "type": "text", "required": "on", "max_length": "40"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _tab_part(response) -> str:
    """The page below the source's tabs (the header holds the sign-out form)."""
    return response.content.decode().split('class="tabs"', 1)[1]


def _post_lead(secret: str, lead: dict) -> dict:
    response = Client().post(
        f"/api/v1/sources/{SLUG}/leads",
        data=json.dumps(lead),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.content
    return response.json()


def _snapshot(source):
    """Everything a preview could change by mistake."""
    return (
        sorted(
            Lead.objects.filter(source=source).values_list(
                "lead_id", "status", "disposition_code", "custom_reason", "updated_at", "processed_at"
            )
        ),
        LeadEvent.objects.count(),
        Delivery.objects.count(),
    )


# --- every role reads, only managers and admins change --------------------------------------------------


@pytest.mark.parametrize("tab", ["fields", "rules", "settings"])
@pytest.mark.parametrize("persona", ["viewer", "manager", "admin"])
def test_every_role_reads_the_tabs(summit, request, persona, tab):
    response = request.getfixturevalue(persona).get(f"{BASE}/{tab}/")
    assert response.status_code == 200
    assert f'href="{BASE}/{tab}/" aria-current="page"' in response.content.decode()


@pytest.mark.parametrize("tab", ["fields", "rules", "settings"])
def test_viewers_see_no_forms(summit, viewer, tab):
    summit.callback_url = "https://crm.example.com/status"
    summit.save()
    create_api_key("Booth app", source=summit)
    part = _tab_part(viewer.get(f"{BASE}/{tab}/"))
    assert "<form" not in part and "<input" not in part and "<select" not in part
    assert summit.callback_secret not in part  # the callback secret is the managers'


def test_managers_see_the_forms(summit, manager):
    assert 'href="/sources/data-summit-2026/fields/new"' in _tab_part(manager.get(f"{BASE}/fields/"))
    assert "Save rules" in _tab_part(manager.get(f"{BASE}/rules/"))
    part = _tab_part(manager.get(f"{BASE}/settings/"))
    assert "Save settings" in part and "Create key" in part and ">Pause</button>" in part


@pytest.mark.parametrize(("url", "body"), FORMS)
def test_viewers_may_not_change_anything(summit, viewer, url, body):
    before = export_definition([SLUG])
    assert viewer.post(url, body).status_code == 403
    assert export_definition([SLUG]) == before
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("url", [FIELD, f"{BASE}/fields/new", f"{BASE}/rules/preview"])
def test_viewers_may_not_open_the_edit_pages_or_the_preview(summit, viewer, url):
    assert viewer.get(url).status_code == 403


@pytest.mark.parametrize(("url", "body"), FORMS)
def test_every_form_needs_its_csrf_token(summit, people, url, body):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["manager"])
    before = export_definition([SLUG])
    assert client.post(url, body).status_code == 403
    assert export_definition([SLUG]) == before
    assert not ApiKey.objects.exists()


def test_a_form_with_its_token_goes_through(summit, people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["manager"])
    token = client.get(FIELD).context["csrf_token"]
    response = client.post(FIELD, {**_field_form(max_length="25"), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Field.objects.get(source=summit, key="first_name").max_length == 25


def test_admins_edit_too(summit, admin):
    assert admin.post(FIELD, _field_form(label="Given name")).status_code == 302
    assert Field.objects.get(source=summit, key="first_name").label == "Given name"


# --- Fields ----------------------------------------------------------------------------------------------


def test_the_fields_are_listed_in_order_with_their_checks(summit, viewer):
    response = viewer.get(f"{BASE}/fields/")
    assert [f.key for f in response.context["rows"]] == [
        "email",
        "first_name",
        "job_level",
        "country",
        "phone",
        "opt_in",
    ]
    part = _tab_part(response)
    assert "Email Address, E-mail" in part  # aliases
    assert "Job Level" in part and "every value" in part  # picklist, no allowed subset
    assert part.index("first_name") < part.index("job_level")
    assert '<td class="num">40</td>' in part  # first_name's max length


def test_a_field_change_decides_the_next_lead_posted(summit, manager):
    """The compiled rules are cached per process; the change must reach the very next lead."""
    _, secret = create_api_key("Booth app", source=summit)
    long_name = "Maximiliane-Alexandra"  # 21 characters
    first = _post_lead(secret, good_lead(email="a@acme-corp.com", first_name=long_name))
    assert first["status"] == "accepted"  # compiles and caches the rules

    assert manager.post(FIELD, _field_form(max_length="20")).status_code == 302

    second = _post_lead(secret, good_lead(email="b@acme-corp.com", first_name=long_name))
    assert (second["status"], second["disposition_code"]) == ("rejected", TOO_LONG)


def test_the_ui_saves_what_leadgate_apply_would(summit, manager):
    """One reader for both: the exported file holds the change, and applying it again changes nothing."""
    response = manager.post(
        FIELD, _field_form(aliases="Given name\n  Vorname  \n\n", default="Friend", pii="on")
    )
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/fields/#field-first_name"
    exported = yaml.safe_load(export_definition([SLUG]))["sources"][0]
    first_name = next(f for f in exported["fields"] if f["key"] == "first_name")
    assert first_name["aliases"] == ["Given name", "Vorname"]
    assert (first_name["default"], first_name["pii"], first_name["max_length"]) == ("Friend", True, 40)
    assert apply_definition(export_definition([SLUG])).updated == []


@pytest.mark.parametrize(
    ("changes", "input_name", "message"),
    [
        ({"max_length": "forty"}, "max_length", "must be a whole number of 0 or more"),
        ({"max_length": "-3"}, "max_length", "must be a whole number of 0 or more"),
        ({"type": "number", "min": "ten"}, "min", "must be a number"),
        ({"type": "picklist", "picklist": ""}, "picklist", "is required for a picklist field"),
        ({"type": "colour"}, "type", '"colour" is not one of'),
    ],
)
def test_field_errors_are_shown_next_to_the_input_and_nothing_is_saved(
    summit, manager, changes, input_name, message
):
    before = export_definition([SLUG])
    response = manager.post(FIELD, _field_form(**changes))
    assert response.status_code == 200
    assert message in response.context["errors"][input_name][0]
    page = response.content.decode()
    assert "Nothing was saved" in page and message.replace('"', "&quot;") in page
    assert export_definition([SLUG]) == before


def test_an_email_field_with_domain_lists_cannot_change_type_until_they_are_removed(summit, manager):
    response = manager.post(
        f"{BASE}/fields/email/", {"label": "Email", "type": "text", "required": "on", "pii": "on"}
    )
    assert response.status_code == 200
    assert any("only applies to email fields" in line for line in response.context["others"])
    assert Field.objects.get(source=summit, key="email").type == "email"


def test_a_picklist_fields_allowed_subset(summit, manager):
    url = f"{BASE}/fields/job_level/"
    page = manager.get(url).content.decode()
    assert 'name="allowed_values" value="Individual Contributor"' in page  # every value, none ticked

    form = {"label": "Job Level", "type": "picklist", "picklist": "job_level", "required": "on"}
    response = manager.post(url, {**form, "allowed_values": ["C-Level", "VP"]})
    assert response.status_code == 302
    assert Field.objects.get(source=summit, key="job_level").allowed_values == ["C-Level", "VP"]
    page = manager.get(url).content.decode()
    assert 'value="VP" checked' in page and 'value="Director">' in page
    assert "only C-Level, VP" in _tab_part(manager.get(f"{BASE}/fields/"))

    [director, vp] = process_leads(
        summit,
        [good_lead(email="d@acme-corp.com", job_level="Director"), good_lead(job_level="Vice President")],
    )
    assert director.disposition_code == "REJECT_LEAD_DISALLOWED_LIST_VALUE"
    assert (vp.status, vp.clean["job_level"]) == ("accepted", "VP")

    response = manager.post(url, {**form, "allowed_values": ["VP", "Chief Wizard"]})
    assert response.status_code == 200
    assert (
        '"Chief Wizard" is not a value of picklist "job_level"'
        in response.context["errors"]["allowed_values"][0]
    )

    assert manager.post(url, form).status_code == 302  # no tick: every value again
    assert Field.objects.get(source=summit, key="job_level").allowed_values is None


def test_choosing_another_picklist_shows_its_values_in_place(summit, manager):
    apply_definition("picklists:\n  - {key: industry, name: Industry, values: [Software, Retail]}\n")
    response = manager.get(
        f"{BASE}/fields/job_level/", {"picklist": "industry"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith("{#") is False and 'id="allowed-values"' in fragment
    assert 'value="Retail"' in fragment and "C-Level" not in fragment and "<html" not in fragment


def test_add_move_and_remove_a_field(summit, manager):
    response = manager.post(
        f"{BASE}/fields/new", {"key": "company", "label": "Company", "type": "text", "max_length": "80"}
    )
    assert response.status_code == 302
    keys = list(summit.fields.order_by("position").values_list("key", flat=True))
    assert keys[-1] == "company"

    assert manager.post(f"{BASE}/fields/company/move", {"direction": "up"}).status_code == 302
    keys = list(summit.fields.order_by("position").values_list("key", flat=True))
    assert keys[-2:] == ["company", "opt_in"]

    assert manager.post(f"{BASE}/fields/company/remove").status_code == 302
    assert not summit.fields.filter(key="company").exists()
    assert "company" not in export_definition([SLUG])


@pytest.mark.parametrize(
    ("key", "message"), [("Company Name", "must be snake_case"), ("email", 'field key "email" appears twice')]
)
def test_a_new_fields_key_is_checked(summit, manager, key, message):
    response = manager.post(f"{BASE}/fields/new", {"key": key, "label": "X", "type": "text"})
    assert response.status_code == 200
    assert message in response.context["errors"]["key"][0]
    assert summit.fields.count() == 6


def test_a_field_a_destination_maps_cannot_be_removed(summit, manager):
    response = manager.post(f"{BASE}/fields/email/remove")
    assert response.status_code == 302
    page = manager.get(response["Location"]).content.decode()
    assert "Nothing was changed" in page and "maps field &quot;email&quot;" in page
    assert summit.fields.filter(key="email").exists()


def test_after_a_field_change_the_fields_tab_offers_to_reprocess(summit, manager):
    process_leads(summit, [good_lead(first_name="Maximiliane-Alexandra-Theodora-Konstantina")])  # 43 chars
    assert "Reprocess rejected leads" not in _tab_part(manager.get(f"{BASE}/fields/"))
    manager.post(FIELD, _field_form(max_length="60"))
    part = _tab_part(manager.get(f"{BASE}/fields/"))
    assert "The rules changed. 1 rejected lead was decided with the rules as they were then" in part
    assert "Reprocess rejected leads with the new rules" in part
    assert f'action="{BASE}/rules/preview"' in part


# --- Rules -------------------------------------------------------------------------------------------------


@pytest.fixture
def rejected(summit):
    """Three leads rejected for free mail (two of them the same person), one suppressed, one accepted."""
    process_leads(
        summit,
        [
            good_lead(email="pat@gmail.com"),
            good_lead(email="sam@gmail.com"),
            good_lead(email="PAT@gmail.com", first_name="Pat again"),
            good_lead(email="ceo@example.com"),
            good_lead(email="ann@acme-corp.com"),
        ],
    )
    return summit


def _rules_form(**changes):
    """The Rules form as the page fills it in for the SPEC example, with changes."""
    form = {
        "dedupe_key": "email",
        "dedupe_scope": "source",
        "dedupe_lookback_days": "365",
        "allocation": "5000",
        "suppression_lists": ["do_not_contact"],
        "domain-email-free_email": "exclude",
    }
    form.update(changes)
    return form


def test_the_rules_are_shown_to_viewers_in_words(summit, viewer):
    part = _tab_part(viewer.get(f"{BASE}/rules/"))
    assert "Email among the leads of this source, over the last 365 days" in part
    assert "Email · free_email: exclude these" in part
    assert "do_not_contact" in part and "5,000 leads" in part


def test_rules_are_saved(summit, manager):
    response = manager.post(
        f"{BASE}/rules/save",
        _rules_form(
            dedupe_key="email_or_phone",
            dedupe_scope="all",
            dedupe_lookback_days="",
            allocation="",
            suppression_lists=[],
            review="on",
            **{"domain-email-competitors": "exclude", "domain-email-free_email": ""},
        ),
    )
    assert response.status_code == 302
    summit.refresh_from_db()
    assert (summit.dedupe_key, summit.dedupe_scope, summit.dedupe_lookback_days) == (
        "email_or_phone",
        "all",
        None,
    )
    assert (summit.allocation, summit.review) == (None, True)
    assert not summit.suppression_lists.exists()
    email = summit.fields.get(key="email")
    assert [(r.domain_list.key, r.mode) for r in email.domain_rules.all()] == [("competitors", "exclude")]
    [lead] = process_leads(summit, [good_lead(email="ceo@example.com")])  # no longer suppressed; held
    assert (lead.status, lead.disposition_code) == ("in_review", "ACCEPT_LEAD")


@pytest.mark.parametrize(
    ("changes", "input_name", "message"),
    [
        ({"allocation": "-5"}, "allocation", "must be a whole number of 0 or more"),
        ({"allocation": "lots"}, "allocation", "must be a whole number of 0 or more"),
        ({"dedupe_lookback_days": "a year"}, "dedupe", "must be a whole number of 0 or more"),
        ({"dedupe_scope": "planet"}, "dedupe", '"planet" is not one of'),
    ],
)
def test_rule_errors_are_shown_and_nothing_is_saved(summit, manager, changes, input_name, message):
    before = export_definition([SLUG])
    response = manager.post(f"{BASE}/rules/save", _rules_form(**changes))
    assert response.status_code == 200
    assert message in response.context["errors"][input_name][0]
    assert export_definition([SLUG]) == before


def test_preview_says_how_many_would_be_accepted_and_changes_nothing(rejected, manager):
    assert (
        manager.post(f"{BASE}/rules/save", _rules_form(**{"domain-email-free_email": ""})).status_code == 302
    )
    before = _snapshot(rejected)

    response = manager.get(f"{BASE}/rules/preview")
    assert response.status_code == 200
    preview = response.context["preview"]
    # Pat's second lead is a duplicate of the first once both are decided: the preview finds it as well.
    assert (preview["accepted"], preview["total"]) == (2, 4)
    assert dict((code, n) for code, _, n in preview["dispositions"]) == {
        "ACCEPT_LEAD": 2,
        "REJECT_LEAD_DUPLICATE": 1,
        "REJECT_LEAD_SUPPRESSED": 1,
    }
    assert "2 of 4</strong> rejected leads would now be accepted" in response.content.decode()
    assert _snapshot(rejected) == before

    fragment = manager.get(f"{BASE}/rules/preview", headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode() and "Reprocess 4 leads" in fragment.content.decode()
    assert _snapshot(rejected) == before

    response = manager.post(f"{BASE}/rules/reprocess")
    assert response.status_code == 302
    run = ReprocessRun.objects.get()
    assert (run.total, run.state) == (4, "queued")
    assert 'data-run-state="queued"' in manager.get(response["Location"]).content.decode()
    reprocess_task.call(run.pk)  # the worker's part; the tab shows the run's outcome
    page = manager.get(response["Location"]).content.decode()
    assert "Reprocessed 4 leads: 2 accepted, 2 rejected." in page
    leads = {lead.values["email"]: lead for lead in Lead.objects.filter(source=rejected)}
    assert (leads["pat@gmail.com"].status, leads["sam@gmail.com"].status) == ("accepted", "accepted")
    assert leads["PAT@gmail.com"].disposition_code == "REJECT_LEAD_DUPLICATE"
    assert leads["ceo@example.com"].disposition_code == "REJECT_LEAD_SUPPRESSED"
    assert LeadEvent.objects.filter(kind="reprocessed", actor="web manager").count() == 4


def test_preview_counts_failed_leads_and_leaves_a_reviewers_rejection_alone(rejected, manager):
    [sam] = Lead.objects.filter(values__email="sam@gmail.com")
    reject_leads(rejected, [sam.lead_id], "Not a real lead")
    Lead.objects.filter(values__email="pat@gmail.com").update(
        status="failed", disposition_code="FAILED_PROCESSING_ERROR"
    )
    manager.post(f"{BASE}/rules/save", _rules_form(**{"domain-email-free_email": ""}))
    found = preview_reprocess(rejected)
    assert (found["total"], found["manual"], found["accepted"]) == (4, 1, 1)
    assert found["status"] == {"accepted": 1, "rejected": 3}
    page = manager.get(f"{BASE}/rules/preview").content.decode()
    assert "include 1 failed" in page and "1 rejected by a reviewer stay rejected" in page
    assert "Reprocess 3 leads" in page


def test_preview_follows_the_review_hold(rejected, manager):
    manager.post(f"{BASE}/rules/save", _rules_form(review="on", **{"domain-email-free_email": ""}))
    found = preview_reprocess(Source.objects.get(pk=rejected.pk))
    assert found["accepted"] == 2 and found["status"]["in_review"] == 2
    assert "(and held for review)" in manager.get(f"{BASE}/rules/preview").content.decode()


def test_rules_say_when_there_is_nothing_to_reprocess(summit, manager):
    part = _tab_part(manager.get(f"{BASE}/rules/"))
    assert "No rejected or failed leads to reprocess." in part


# --- Settings ------------------------------------------------------------------------------------------


def test_pause_and_resume(summit, manager):
    _, secret = create_api_key("Booth app", source=summit)
    response = manager.post(f"{BASE}/settings/status", {"status": "paused"})
    assert response.status_code == 302
    assert Source.objects.get(pk=summit.pk).status == "paused"
    assert "is paused" in manager.get(response["Location"]).content.decode()
    assert _post_lead(secret, good_lead())["disposition_code"] == "REJECT_LEAD_SOURCE_NOT_LIVE"

    part = _tab_part(manager.get(f"{BASE}/settings/"))
    assert ">Resume</button>" in part and ">Pause</button>" not in part
    manager.post(f"{BASE}/settings/status", {"status": "live"})
    assert Source.objects.get(pk=summit.pk).status == "live"
    assert _post_lead(secret, good_lead(email="b@acme-corp.com"))["status"] == "accepted"

    manager.post(f"{BASE}/settings/status", {"status": "closed"})
    assert Source.objects.get(pk=summit.pk).status == "closed"


def test_a_status_the_buttons_do_not_offer_is_refused(summit, manager):
    response = manager.post(f"{BASE}/settings/status", {"status": "draft"})
    assert "cannot become draft" in manager.get(response["Location"]).content.decode()
    assert Source.objects.get(pk=summit.pk).status == "live"


def test_settings_are_saved(summit, manager):
    body = {
        "name": "Data Summit 2026 · Berlin",
        "kind": "webinar",
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-03",
        "timezone": "America/New_York",
        "form": "on",
        "callback_url": "https://crm.example.com/status",
    }
    assert manager.post(f"{BASE}/settings/save", body).status_code == 302
    summit.refresh_from_db()
    assert (summit.name, summit.kind, summit.timezone) == (body["name"], "webinar", "America/New_York")
    assert (str(summit.starts_on), str(summit.ends_on)) == ("2026-06-01", "2026-06-03")
    assert summit.form_enabled and summit.callback_secret.startswith("whsec_")
    part = _tab_part(manager.get(f"{BASE}/settings/"))
    assert f'href="/f/{SLUG}"' in part and summit.callback_secret in part
    assert Client().get(f"/f/{SLUG}").status_code == 200


@pytest.mark.parametrize(
    ("changes", "input_name", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "is not a time zone"),
        ({"starts_on": "2026-06-03", "ends_on": "2026-06-01"}, "ends_on", "is before starts_on"),
        ({"starts_on": "3 June"}, "starts_on", "is not a date"),
        ({"callback_url": "ftp://crm.example.com"}, "callback_url", "must be an http:// or https:// URL"),
        ({"kind": "party"}, "kind", '"party" is not one of'),
    ],
)
def test_settings_errors_are_shown_and_nothing_is_saved(summit, manager, changes, input_name, message):
    before = export_definition([SLUG])
    body = {"name": "Data Summit 2026", "kind": "event", "timezone": "Europe/Berlin", **changes}
    response = manager.post(f"{BASE}/settings/save", body)
    assert response.status_code == 200
    assert message in response.context["errors"][input_name][0]
    assert export_definition([SLUG]) == before


def test_rotate_the_callback_secret(summit, manager, viewer):
    summit.callback_url = "https://crm.example.com/status"
    summit.save()
    old = summit.callback_secret
    assert old in _tab_part(manager.get(f"{BASE}/settings/"))
    assert manager.post(f"{BASE}/settings/rotate-secret").status_code == 302
    summit.refresh_from_db()
    assert summit.callback_secret != old and summit.callback_secret.startswith("whsec_")
    assert "Shown to managers" in _tab_part(viewer.get(f"{BASE}/settings/"))


def test_ingestion_keys_are_created_shown_once_and_revoked(summit, manager, viewer):
    response = manager.post(f"{BASE}/settings/keys", {"name": "Booth app"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["new_key"]["secret"]
    assert secret.startswith("lgk_") and secret in response.content.decode()
    key = ApiKey.objects.get(source=summit)
    assert (key.name, key.prefix, key.created_by.username) == ("Booth app", secret[:10], "manager")
    assert _post_lead(secret, good_lead())["status"] == "accepted"

    listed = _tab_part(viewer.get(f"{BASE}/settings/"))
    assert secret not in listed and f"{key.prefix}…" in listed and "Booth app" in listed

    response = manager.post(f"{BASE}/settings/keys/{key.pk}/revoke")
    assert response.status_code == 302
    assert "is revoked" in manager.get(response["Location"]).content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    refused = Client().post(
        f"/api/v1/sources/{SLUG}/leads",
        data=json.dumps(good_lead(email="b@acme-corp.com")),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 401
    assert ">Revoke</button>" not in _tab_part(manager.get(f"{BASE}/settings/"))


def test_another_sources_key_cannot_be_revoked_here(summit, manager):
    other = Source.objects.create(slug="other", name="Other")
    key, _ = create_api_key("Theirs", source=other)
    assert manager.post(f"{BASE}/settings/keys/{key.pk}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_settings_tab_follows_rules_in_the_tabs(summit, viewer):
    page = viewer.get(f"{BASE}/settings/").content.decode()
    assert page.index(f'href="{BASE}/rules/"') < page.index(f'href="{BASE}/settings/"')
    assert page.index(f'href="{BASE}/settings/"') < page.index(f'href="{BASE}/postout/"')


def test_a_manager_signed_in_elsewhere_is_still_a_manager(summit, people):
    """The session flag that offers reprocessing is per browser: another session has none."""
    first, second = signed_in(people["manager"]), signed_in(people["manager"])
    process_leads(summit, [good_lead(email="x@gmail.com")])
    first.post(FIELD, _field_form(max_length="30"))
    assert "The rules changed." in _tab_part(first.get(f"{BASE}/fields/"))
    assert "Reprocess rejected leads" not in _tab_part(second.get(f"{BASE}/fields/"))
