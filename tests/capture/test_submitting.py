"""POST /f/<slug>: bots, CSRF, decisions, the visitor's corrections and what each outcome shows."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from leadgate.capture.forms import (
    HONEYPOT_INPUT,
    LEAD_INPUT,
    MAX_AGE_SECONDS,
    STAMP_INPUT,
    Screening,
    lead_token,
    render_stamp,
    screen,
)
from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import process_leads
from leadgate.sources.models import Source
from tests.capture.conftest import form_data, visitor
from tests.capture.html import element, elements, input_value
from tests.conftest import good_lead

pytestmark = pytest.mark.django_db

THANKS = "/f/data-summit-2026/thanks"
CLOSED = "/f/data-summit-2026/closed"
FORM = "/f/data-summit-2026"


def _post(client, source, **values):
    return client.post(f"/f/{source.slug}", form_data(source, **values))


def _no_codes(page):
    assert "REJECT_" not in page and "ACCEPT_LEAD" not in page
    assert "closest" not in page.lower() and "picklist" not in page.lower()


# --- a person's submission --------------------------------------------------------------------------------


def test_an_accepted_submission_is_one_form_lead_and_redirects_to_thanks(client, form_source):
    response = _post(client, form_source, **visitor())
    assert (response.status_code, response["Location"]) == (302, THANKS)
    lead = Lead.objects.get()
    assert (lead.status, lead.disposition_code, lead.received_via) == ("accepted", "ACCEPT_LEAD", "form")
    assert lead.values["opt_in"] == "true"
    assert lead.clean["phone"] == "+49301234567"
    event = lead.events.get()
    assert (event.kind, event.actor) == ("received", "capture form")

    page = client.get(THANKS).content.decode()
    assert ">Thank you</h1>" in page
    assert element(page, "a", href=FORM)  # the next visitor at the booth starts a fresh form


def test_a_source_with_review_thanks_the_visitor_and_holds_the_lead(client, form_source):
    Source.objects.filter(pk=form_source.pk).update(review=True)
    response = _post(client, form_source, **visitor())
    assert response["Location"] == THANKS
    assert Lead.objects.get().status == "in_review"


def test_every_field_type_as_a_browser_sends_it_is_accepted(client, every_type):
    values = {
        "full_name": "Zoë Müller",
        "email": "zoe@example-corp.com",
        "phone": "030 1234567",
        "employees": "250",
        "revenue": "1234.5",
        "visit_date": "2026-03-14",
        "meeting_at": "2026-03-14T09:30",
        "customer": "on",
        "partner": "false",
        "opt_in": "on",
        "website": "www.example-corp.com",
        "country": "Germany",
        "state": "Bavaria",
        "job_level": "Director",
        "interests": ["AI", "Cloud"],
    }
    response = client.post("/f/every-type", form_data(every_type, **values))
    assert (response.status_code, response["Location"]) == (302, "/f/every-type/thanks")
    lead = Lead.objects.get()
    assert lead.status == "accepted", lead.custom_reason
    assert lead.values["customer"] == "true"
    assert lead.values["photo_ok"] == "false"  # an unticked optional box is a "no", not a blank
    assert lead.values["interests"] == "AI;Cloud"
    assert lead.clean["state"] == "Bayern"
    assert lead.clean["visit_date"] == "2026-03-14"


# --- rejections the visitor can fix -----------------------------------------------------------------------


def test_a_rejected_submission_shows_plain_messages_next_to_the_fields(client, form_source):
    response = _post(client, form_source, **visitor(email="ann@gmail.com", opt_in=None, first_name=""))
    page = response.content.decode()
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.status, lead.disposition_code) == ("rejected", "REJECT_LEAD_MISSING_REQUIRED_FIELD")
    _no_codes(page)
    assert "free_email" not in page and "exclude list" not in page

    email = element(page, "input", name="email")
    assert (email["aria-invalid"], email["aria-describedby"], email["value"]) == (
        "true",
        "id_email_error",
        "ann@gmail.com",
    )
    assert "Please use your work email address." in page.split('id="id_email_error"', 1)[1].split("</p>")[0]
    assert element(page, "input", name="opt_in")["aria-invalid"] == "true"
    assert "Please tick this box" in page.split('id="id_opt_in_error"', 1)[1].split("</p>")[0]
    assert "Please fill in this field." in page.split('id="id_first_name_error"', 1)[1].split("</p>")[0]
    # Valid answers are kept and not flagged.
    job_level = element(page, "select", name="job_level")
    assert "aria-invalid" not in job_level
    assert "selected" in element(page, "option", value="VP")
    # The summary at the top links to each field.
    assert element(page, "div", role="alert")
    assert {a["href"] for a in elements(page, "a") if a.get("href", "").startswith("#")} == {
        "#id_email",
        "#id_opt_in",
        "#id_first_name",
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "ann.lee@@acme"}, "email", "Please enter a valid email address"),
        ({"job_level": "Chief Wizard"}, "job_level", "Please choose one of the answers in the list."),
        ({"country": "Atlantis"}, "country", "Please choose your country from the list."),
        ({"phone": "12"}, "phone", "Please enter a valid phone number."),
        ({"first_name": "A" * 41}, "first_name", "Please shorten this to 40 characters or fewer."),
        ({"email": "ann@blocked.example", "first_name": ""}, "first_name", "Please fill in this field."),
    ],
)
def test_each_fixable_rejection_has_its_own_sentence(client, form_source, overrides, field, message):
    page = _post(client, form_source, **visitor(**overrides)).content.decode()
    assert Lead.objects.get().status == "rejected"
    _no_codes(page)
    assert message in page.split(f'id="id_{field}_error"', 1)[1].split("</p>")[0]
    # Only that field is flagged: a suppressed email is never revealed, even beside another problem.
    assert [e["name"] for e in elements(page, "input") + elements(page, "select") if "aria-invalid" in e] == [
        field
    ]
    assert "suppress" not in page.lower() and "do_not_contact" not in page


def test_a_state_outside_the_country_names_the_country(client, every_type):
    values = {
        "full_name": "Ann",
        "email": "ann@example-corp.com",
        "partner": "true",
        "opt_in": "on",
        "country": "Germany",
        "state": "Texas",
        "interests": ["AI"],
    }
    page = client.post("/f/every-type", form_data(every_type, **values)).content.decode()
    assert "Please enter a state, province or region of Germany." in page
    assert Lead.objects.get().disposition_code == "REJECT_LEAD_INVALID_STATE"


def test_values_are_escaped_when_the_form_is_shown_again(client, form_source):
    attack = "<script>alert(1)</script>"
    page = _post(client, form_source, **visitor(first_name=attack, email=f'"><b>{attack}')).content.decode()
    assert Lead.objects.get().status == "rejected"
    assert attack not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert element(page, "input", name="first_name")["value"] == attack  # the visitor's text, intact


def test_a_correction_updates_the_same_lead(client, form_source):
    first = _post(client, form_source, **visitor(email="ann@gmail.com", opt_in=None)).content.decode()
    rejected = Lead.objects.get()
    assert rejected.status == "rejected"
    token = input_value(first, LEAD_INPUT)  # the lead_id, signed (a forged one is a bot: see below)
    assert token

    response = _post(client, form_source, **visitor(email="ann@acme-corp.com"), **{LEAD_INPUT: token})
    assert (response.status_code, response["Location"]) == (302, THANKS)
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert (lead.lead_id, lead.status, lead.disposition_code) == (rejected.lead_id, "accepted", "ACCEPT_LEAD")
    assert lead.received_via == "form"
    assert lead.values["email"] == "ann@acme-corp.com"
    kinds = list(lead.events.values_list("kind", "actor", "status_before", "status_after"))
    assert kinds == [
        ("received", "capture form", "", "rejected"),
        ("edited", "capture form", "rejected", "accepted"),
    ]
    edited = lead.events.get(kind=LeadEvent.Kind.EDITED)
    assert edited.changes == {"email": ["ann@gmail.com", "ann@acme-corp.com"], "opt_in": ["false", "true"]}


def test_a_correction_that_is_still_wrong_keeps_one_lead(client, form_source):
    first = _post(client, form_source, **visitor(email="ann@gmail.com")).content.decode()
    second = _post(
        client, form_source, **visitor(email="not an email"), **{LEAD_INPUT: input_value(first, LEAD_INPUT)}
    ).content.decode()
    assert Lead.objects.count() == 1
    assert Lead.objects.get().disposition_code == "REJECT_LEAD_INVALID_EMAIL"
    assert "Please enter a valid email address" in second
    assert input_value(second, LEAD_INPUT)  # the next try still corrects the same lead


def test_a_token_for_a_lead_that_is_no_longer_rejected_makes_a_new_lead(client, form_source):
    [accepted] = process_leads(form_source, [good_lead()])
    token = lead_token(form_source, accepted.lead_id)
    response = _post(client, form_source, **visitor(email="bob@acme-corp.com"), **{LEAD_INPUT: token})
    assert response["Location"] == THANKS
    accepted.refresh_from_db()
    assert accepted.values["email"] == "ann.lee@acme-corp.com"  # untouched
    assert accepted.events.count() == 1
    assert Lead.objects.count() == 2


def test_a_token_for_another_sources_lead_changes_nothing(client, form_source, every_type):
    [other] = process_leads(every_type, [{"full_name": "X"}])
    assert other.status == "rejected"
    # Signed for this form, but the lead belongs to another source: a new lead, the other one untouched.
    token = lead_token(form_source, other.lead_id)
    _post(client, form_source, **visitor(), **{LEAD_INPUT: token})
    other.refresh_from_db()
    assert (other.status, other.events.count()) == ("rejected", 1)
    assert Lead.objects.filter(source=form_source).count() == 1
    # Signed for the other form: a forgery, and nothing is stored.
    count = Lead.objects.count()
    response = _post(client, form_source, **visitor(), **{LEAD_INPUT: lead_token(every_type, other.lead_id)})
    assert response["Location"] == THANKS
    assert Lead.objects.count() == count


# --- rejections the visitor cannot fix --------------------------------------------------------------------


def test_a_duplicate_is_thanked_without_a_word_about_it(client, form_source):
    assert _post(client, form_source, **visitor())["Location"] == THANKS
    response = _post(client, form_source, **visitor(first_name="Annie"))
    assert response["Location"] == THANKS
    assert list(Lead.objects.order_by("id").values_list("disposition_code", flat=True)) == [
        "ACCEPT_LEAD",
        "REJECT_LEAD_DUPLICATE",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "duplicate" not in page.lower() and "already" not in page.lower()


def test_a_suppressed_visitor_is_thanked_and_never_told(client, form_source):
    response = _post(client, form_source, **visitor(email="ceo@example.com"))
    assert response["Location"] == THANKS
    assert Lead.objects.get().disposition_code == "REJECT_LEAD_SUPPRESSED"


def test_a_full_allocation_says_no_longer_accepting(client, form_source):
    Source.objects.filter(pk=form_source.pk).update(allocation=1)
    assert _post(client, form_source, **visitor())["Location"] == THANKS
    response = _post(client, form_source, **visitor(email="bob@acme-corp.com"))
    assert response["Location"] == CLOSED
    assert Lead.objects.filter(disposition_code="REJECT_LEAD_ALLOCATION_REACHED").count() == 1
    page = client.get(CLOSED).content.decode()
    assert ">This form is no longer accepting submissions</h1>" in page


def test_a_form_sent_after_the_source_paused_is_kept_and_the_visitor_told(client, form_source):
    stamp = render_stamp(form_source, time.time() - 30)  # rendered while live
    Source.objects.filter(pk=form_source.pk).update(status="paused")
    response = client.post(FORM, {**visitor(), STAMP_INPUT: stamp})
    assert response["Location"] == CLOSED
    # Stored, so the marketer can reprocess it if it should count.
    assert Lead.objects.get().disposition_code == "REJECT_LEAD_SOURCE_NOT_LIVE"
    assert ">This form is paused</h1>" in client.get(CLOSED).content.decode()


def test_the_closed_page_sends_visitors_to_an_open_form(client, form_source):
    response = client.get(CLOSED)
    assert (response.status_code, response["Location"]) == (302, FORM)


# --- bots and forgeries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({HONEYPOT_INPUT: "https://cheap-pills.example"}, id="honeypot"),
        pytest.param({STAMP_INPUT: "stamp"}, id="forged stamp"),
        pytest.param({STAMP_INPUT: ""}, id="no stamp"),
        pytest.param({LEAD_INPUT: "LD-01JDQ3ABCDEFGHJKMNPQRSTVWX"}, id="unsigned lead"),
    ],
)
def test_bots_are_thanked_and_nothing_is_stored(client, form_source, extra):
    response = client.post(FORM, {**form_data(form_source, **visitor()), **extra})
    assert (response.status_code, response["Location"]) == (302, THANKS)
    assert Lead.objects.count() == 0
    assert LeadEvent.objects.count() == 0


def test_a_form_sent_too_fast_is_a_bot(client, form_source):
    response = client.post(FORM, form_data(form_source, age=0.5, **visitor()))
    assert response["Location"] == THANKS
    assert Lead.objects.count() == 0
    # The same answers, sent at a human pace, are taken.
    assert client.post(FORM, form_data(form_source, age=3, **visitor()))["Location"] == THANKS
    assert Lead.objects.count() == 1


def test_a_stamp_of_another_form_is_a_bot(client, form_source, every_type):
    response = client.post(FORM, {**visitor(), STAMP_INPUT: render_stamp(every_type, time.time() - 10)})
    assert response["Location"] == THANKS
    assert Lead.objects.count() == 0


def test_a_form_left_open_for_hours_is_shown_again_not_dropped(client, form_source):
    response = client.post(FORM, form_data(form_source, age=MAX_AGE_SECONDS + 60, **visitor()))
    page = response.content.decode()
    assert response.status_code == 200
    assert Lead.objects.count() == 0
    assert "send the form again" in page
    assert element(page, "input", name="email")["value"] == "ann.lee@acme-corp.com"
    # The page carries a stamp timed from now, good for the visitor's next try.
    fresh = input_value(page, STAMP_INPUT)
    assert screen(form_source, {STAMP_INPUT: fresh}, now=time.time() + 5).verdict is Screening.PERSON


def test_csrf_is_enforced(form_source):
    client = Client(enforce_csrf_checks=True)
    response = client.post(FORM, form_data(form_source, **visitor()))
    assert response.status_code == 403
    assert Lead.objects.count() == 0

    page = client.get(FORM).content.decode()
    csrf = input_value(page, "csrfmiddlewaretoken")
    response = client.post(FORM, {**form_data(form_source, **visitor()), "csrfmiddlewaretoken": csrf})
    assert (response.status_code, response["Location"]) == (302, THANKS)
    assert Lead.objects.count() == 1


def test_null_characters_are_refused_before_anything_is_stored(client, form_source):
    response = _post(client, form_source, **visitor(first_name="Ann\x00"))
    assert response.status_code == 200
    assert Lead.objects.count() == 0
    assert element(page := response.content.decode(), "input", name="first_name")["aria-invalid"] == "true"
    assert "REJECT_" not in page
