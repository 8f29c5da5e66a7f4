"""GET /f/<slug>: which sources have a form, and how each field type is rendered."""

from __future__ import annotations

import re

import pytest

from leadgate.capture.forms import HONEYPOT_INPUT, STAMP_INPUT, country_names
from leadgate.rules.geo import resolve_country
from leadgate.sources.models import Source
from tests.capture.html import element, elements

pytestmark = pytest.mark.django_db


def _page(client, slug="every-type"):
    response = client.get(f"/f/{slug}")
    assert response.status_code == 200
    return response.content.decode()


def _labels_for(page, html_id):
    return elements(page, "label", **{"for": html_id})


def test_every_field_type_gets_its_input(client, every_type):
    page = _page(client)

    name = element(page, "input", name="full_name")
    assert (name["type"], name["maxlength"], name["id"]) == ("text", "80", "id_full_name")
    assert "required" in name
    assert element(page, "input", name="email", type="email")["autocomplete"] == "email"
    assert "required" in element(page, "input", name="email")
    phone = element(page, "input", name="phone", type="tel")
    assert "required" not in phone  # optional fields carry no required attribute
    employees = element(page, "input", name="employees", type="number")
    assert (employees["min"], employees["max"], employees["step"]) == ("1", "100000", "1")
    assert element(page, "input", name="revenue", type="number")["step"] == "any"
    element(page, "input", name="visit_date", type="date")
    element(page, "input", name="meeting_at", type="datetime-local")
    element(page, "input", name="website", type="url")
    element(page, "input", name="state", type="text")

    # A boolean is a check box; a required one asks for an explicit yes or no.
    assert "required" not in element(page, "input", name="customer", type="checkbox")
    radios = elements(page, "input", name="partner", type="radio")
    assert [r["value"] for r in radios] == ["true", "false"]
    assert all("required" in r for r in radios)
    # Consent is a check box that is never ticked in advance; required when the field is.
    opt_in = element(page, "input", name="opt_in", type="checkbox")
    assert "required" in opt_in and "checked" not in opt_in
    assert "required" not in element(page, "input", name="photo_ok", type="checkbox")

    # A picklist is a select of the allowed canonical values, with an empty first choice.
    options = [
        o["value"] for o in elements(page, "option") if o["value"] in ("", "VP", "Director", "C-Level")
    ]
    assert options.count("VP") == 1 and options.count("Director") == 1
    assert "C-Level" not in options  # not allowed for this source
    element(page, "select", name="job_level")
    # A multi picklist is a group of check boxes, one per value.
    boxes = elements(page, "input", name="interests", type="checkbox")
    assert [b["value"] for b in boxes] == ["Analytics", "AI", "Security", "Cloud"]
    # Countries are a select of every country the engine knows.
    country = element(page, "select", name="country")
    assert "required" in country and country["autocomplete"] == "country-name"
    assert len(elements(page, "option", value="Germany")) == 1

    # No internal picklist names anywhere on the page.
    assert "Internal Level Codes" not in page and "Topic Taxonomy" not in page


def test_fields_come_in_position_order_with_labels_tied_to_inputs(client, every_type):
    page = _page(client)
    keys = [f.key for f in every_type.fields.order_by("position", "id")]
    order = [name for name in re.findall(r'name="([a-z_]+)"', page) if name in keys]
    assert list(dict.fromkeys(order)) == keys
    for key in keys:
        for control in elements(page, "input", name=key) + elements(page, "select", name=key):
            assert len(_labels_for(page, control["id"])) == 1, key


def test_required_fields_are_marked(client, every_type):
    page = _page(client)
    full_name = page.split('for="id_full_name"', 1)[1].split("</label>", 1)[0]
    phone = page.split('for="id_phone"', 1)[1].split("</label>", 1)[0]
    assert 'class="required-mark"' in full_name
    assert 'class="required-mark"' not in phone
    # A group's required mark is in its legend, spelled out for screen readers.
    interests = page.split('id="field-interests"', 1)[1].split("</legend>", 1)[0]
    assert "(required)" in interests


def test_phone_help_when_there_is_no_country_field(client, form_source):
    page = _page(client, form_source.slug)
    assert "With the country code" not in page  # the summit form asks for the country
    form_source.fields.filter(key="country").delete()
    page = _page(client, form_source.slug)
    assert element(page, "input", name="phone")["aria-describedby"] == "id_phone_helptext"
    element(page, "p", id="id_phone_helptext")


def test_form_carries_csrf_stamp_and_hidden_honeypot(client, form_source):
    response = client.get(f"/f/{form_source.slug}")
    page = response.content.decode()
    assert element(page, "input", name="csrfmiddlewaretoken")["type"] == "hidden"
    assert element(page, "input", name=STAMP_INPUT)["value"]
    honeypot = element(page, "input", name=HONEYPOT_INPUT)
    assert (honeypot["tabindex"], honeypot["autocomplete"]) == ("-1", "off")
    assert 'class="hp" aria-hidden="true"' in page
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert "script-src" not in response["Content-Security-Policy"]  # nothing may run: default-src 'none'
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "<script" not in page
    assert element(page, "meta", name="viewport")["content"] == "width=device-width, initial-scale=1"
    assert element(page, "link", rel="stylesheet")["href"].endswith("capture/capture.css")


def test_stylesheet_is_served(client, form_source):
    response = client.get("/static/capture/capture.css")
    assert response.status_code == 200
    assert b".hp" in b"".join(response.streaming_content)


@pytest.mark.parametrize("slug", ["data-summit-2026", "no-such-source"])
def test_404_unless_the_form_is_turned_on(client, summit, slug):
    assert not summit.form_enabled
    for path in (f"/f/{slug}", f"/f/{slug}/thanks", f"/f/{slug}/closed"):
        assert client.get(path).status_code == 404
        assert client.post(path, {}).status_code in (404, 405)


@pytest.mark.parametrize(
    ("status", "heading"),
    [
        ("draft", "This form is not open yet"),
        ("paused", "This form is paused"),
        ("closed", "This form is closed"),
    ],
)
def test_a_source_that_is_not_live_shows_a_friendly_page(client, form_source, status, heading):
    Source.objects.filter(pk=form_source.pk).update(status=status)
    response = client.get(f"/f/{form_source.slug}")
    page = response.content.decode()
    assert response.status_code == 200
    assert f">{heading}</h1>" in page
    assert elements(page, "form") == []


def test_a_full_allocation_closes_the_form(client, form_source):
    from leadgate.leads.services import process_leads
    from tests.conftest import good_lead

    Source.objects.filter(pk=form_source.pk).update(allocation=1)
    form_source.refresh_from_db()
    [lead] = process_leads(form_source, [good_lead()])
    assert lead.status == "accepted"
    page = client.get(f"/f/{form_source.slug}").content.decode()
    assert ">This form is no longer accepting submissions</h1>" in page
    assert elements(page, "form") == []


def test_every_country_offered_is_one_the_engine_accepts():
    names = country_names()
    assert len(names) > 240 and "Kosovo" in names and "Germany" in names
    for name in names:
        country = resolve_country(name)
        assert country is not None and country.name == name, name
