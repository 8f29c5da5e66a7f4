"""The hubspot destination kind, over real HTTP against a fake HubSpot (tests/delivery/fakes/hubspot.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import asdict

import pytest

from leadgate.delivery.destinations import transport_class
from leadgate.delivery.destinations.base import DELIVERED, REDACTED, REFUSED, RETRY, ConfigError, OutgoingLead
from leadgate.delivery.destinations.hubspot.config import Config
from leadgate.delivery.destinations.hubspot.forms import Form
from leadgate.delivery.destinations.hubspot.transport import HubSpotTransport, Matcher
from leadgate.lib.http import Session, Timeouts
from tests.delivery.fakes.hubspot import (
    READ,
    FakeHubSpot,
    dropped,
    leaky,
    malformed,
    rate_limited,
    server_error,
    slow,
)

TOKEN = "pat-na1-6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"
_numbers = itertools.count(1)


@pytest.fixture
def hubspot():
    fake = FakeHubSpot(tokens=[TOKEN])
    yield fake
    fake.stop()


@pytest.fixture
def session():
    with Session(allow_private=True, timeouts=Timeouts(connect=2, read=5, total=5)) as s:
        yield s


def transport(fake, session, token=TOKEN, url="", **config):
    settings = Config.load({"base_url": fake.url, **config})
    return HubSpotTransport(url=url, config=settings, secret=token, session=session)


def lead(email="ann.lee@acme-corp.com", **fields):
    """An outgoing lead; a field given as ``...`` is left out."""
    number = next(_numbers)
    values = {"email": email, "firstname": "Ann", **fields}
    return OutgoingLead(
        delivery_id=number,
        message_id=f"msg_{number:04d}",
        lead_id=f"L{number:06d}",
        source="data-summit-2026",
        status="accepted",
        submitted_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
        fields={k: v for k, v in values.items() if v is not ...},
    )


def verdicts(results):
    return [r.verdict for r in results]


# --- delivering ---------------------------------------------------------------------------------------------


def test_the_kind_is_registered():
    assert transport_class("hubspot") is HubSpotTransport
    assert HubSpotTransport.batch_size == 100


def test_upsert_creates_then_updates_the_same_contacts(hubspot, session):
    sender = transport(hubspot, session)
    first = sender.send([lead("ann.lee@acme-corp.com"), lead("bo@acme-corp.com", firstname="Bo")])
    assert verdicts(first) == [DELIVERED, DELIVERED]
    ann, bo = hubspot.contact("ann.lee@acme-corp.com"), hubspot.contact("bo@acme-corp.com")
    assert [r.external_id for r in first] == [ann.id, bo.id]
    assert ann.id != bo.id

    [request] = hubspot.received
    assert (request.method, request.path) == ("POST", "/crm/v3/objects/contacts/batch/upsert")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json["inputs"][0] == {
        "idProperty": "email",
        "id": "ann.lee@acme-corp.com",
        "objectWriteTraceId": first[0].lead.message_id,
        "properties": {"email": "ann.lee@acme-corp.com", "firstname": "Ann"},
    }

    # Sent again (other case, new first name): the same contacts are updated, none added.
    again = sender.send(
        [lead("Ann.Lee@ACME-corp.com", firstname="Annie"), lead("bo@acme-corp.com", firstname="Bob")]
    )
    assert verdicts(again) == [DELIVERED, DELIVERED]
    assert [r.external_id for r in again] == [ann.id, bo.id]
    assert len(hubspot.contacts) == 2
    assert hubspot.contact("ann.lee@acme-corp.com").properties["firstname"] == "Annie"
    assert hubspot.contact("bo@acme-corp.com").properties["firstname"] == "Bob"


@pytest.mark.parametrize("echo_trace_ids", [False, True])
def test_external_ids_are_matched_to_leads_whatever_the_order_of_results(hubspot, session, echo_trace_ids):
    hubspot.reverse_results = True
    hubspot.echo_trace_ids = echo_trace_ids
    leads = [lead(f"person{n}@acme-corp.com") for n in range(5)]
    results = transport(hubspot, session).send(leads)
    assert [r.lead for r in results] == leads
    assert [r.external_id for r in results] == [
        hubspot.contact(f"person{n}@acme-corp.com").id for n in range(5)
    ]
    assert len(hubspot.received) == 1


def test_values_are_sent_as_hubspot_expects_them_and_empty_ones_never_clear_a_contact(hubspot, session):
    sender = transport(hubspot, session)
    sender.send([lead(phone="+49 30 1234567", company="Acme")])
    [result] = sender.send([lead(phone="", company=None, lifecyclestage=["lead", "x"], hs_lead_status=True)])
    assert result.verdict == DELIVERED
    sent = hubspot.received[-1].json["inputs"][0]["properties"]
    assert "phone" not in sent and "company" not in sent
    assert sent["lifecyclestage"] == "lead;x" and sent["hs_lead_status"] == "true"
    assert hubspot.contact("ann.lee@acme-corp.com").properties["phone"] == "+49 30 1234567"


def test_the_destination_url_wins_over_the_base_url(hubspot, session):
    sender = HubSpotTransport(url=hubspot.url + "/", config=Config.load({}), secret=TOKEN, session=session)
    assert verdicts(sender.send([lead()])) == [DELIVERED]
    assert hubspot.received[0].path == "/crm/v3/objects/contacts/batch/upsert"


def test_records_and_errors_are_tied_to_leads_by_trace_id_then_by_value():
    leads = [lead("a@x.io"), lead("ba@x.io"), lead("c@x.io")]
    matcher = Matcher(leads, [item.message_id for item in leads], "email")
    assert matcher.record({"id": "9", "objectWriteTraceId": leads[2].message_id, "properties": {}}) == 2
    assert matcher.record({"id": "7", "properties": {"email": "BA@x.io"}}) == 1
    assert matcher.record({"id": "8", "properties": {"email": "ba@x.io"}}) is None  # each lead once
    assert matcher.error({"context": {"objectWriteTraceId": [leads[0].message_id]}}) == [0]
    assert matcher.error({"context": {"ids": ["C@x.io"]}}) == [2]
    # A value named in the message counts only as a whole address, and only when exactly one is named.
    assert matcher.error({"message": "Email address a@x.io is invalid"}) == [0]
    assert matcher.error({"message": "Email address ba@x.io.evil is invalid"}) == []
    assert matcher.error({"message": "Duplicate IDs found in batch input: [a@x.io, c@x.io]"}) == []
    assert (
        matcher.error({"message": "something went wrong", "context": {"objectWriteTraceId": ["other"]}}) == []
    )


# --- refusals -----------------------------------------------------------------------------------------------


def test_a_per_record_error_refuses_only_that_lead(hubspot, session):
    leads = [
        lead("good@acme-corp.com"),
        lead("ann@@acme-corp"),
        lead("also.good@acme-corp.com", shoe_size="44"),
    ]
    results = transport(hubspot, session).send(leads)
    assert verdicts(results) == [DELIVERED, REFUSED, REFUSED]
    assert results[0].external_id == hubspot.contact("good@acme-corp.com").id
    assert (
        results[1].reason
        == "HubSpot refused the record: Email address ann@@acme-corp is invalid (VALIDATION_ERROR)"
    )
    assert 'Property "shoe_size" does not exist' in results[2].reason
    assert results[1].external_id == results[2].external_id == ""
    assert len(hubspot.received) == 1
    assert [c.properties["email"] for c in hubspot.contacts.values()] == ["good@acme-corp.com"]
    assert results[1].exchanges[0].status == 207


def test_errors_that_do_not_name_their_record_are_matched_by_value_or_retried(hubspot, session):
    hubspot.error_context = False  # errors without context.objectWriteTraceId
    leads = [lead("good@acme-corp.com"), lead("ann@@acme-corp"), lead("other@acme-corp.com", shoe_size="44")]
    results = transport(hubspot, session).send(leads)
    # The invalid email is named in its message; the unknown property names no lead: retried, not guessed.
    assert verdicts(results) == [DELIVERED, REFUSED, RETRY]
    assert "ann@@acme-corp is invalid" in results[1].reason
    assert "no result for this lead" in results[2].reason and "shoe_size" in results[2].reason


def test_without_multi_status_a_400_batch_is_split_in_halves_down_to_the_bad_lead(hubspot, session):
    hubspot.multi_status = False  # one bad input fails the whole batch, nothing is written
    leads = [lead("one@acme-corp.com"), lead("not-an-email"), lead("three@acme-corp.com")]
    results = transport(hubspot, session).send(leads)
    assert verdicts(results) == [DELIVERED, REFUSED, DELIVERED]
    assert [e.status for e in results[0].exchanges] == [400, 200]
    assert [len(r.json["inputs"]) for r in hubspot.received] == [3, 1, 2, 1, 1]
    assert (
        results[1].reason
        == "HubSpot refused the record: HTTP 400: Email address not-an-email is invalid (VALIDATION_ERROR)"
    )
    assert results[0].external_id == hubspot.contact("one@acme-corp.com").id
    assert results[2].external_id == hubspot.contact("three@acme-corp.com").id
    assert len(hubspot.contacts) == 2


def test_one_bad_lead_among_a_hundred_costs_a_few_requests_not_a_hundred(hubspot, session):
    hubspot.multi_status = False
    leads = [lead(f"p{i}@acme-corp.com") for i in range(100)]
    leads[37] = lead("not-an-email")
    results = transport(hubspot, session).send(leads)
    assert [i for i, r in enumerate(results) if r.verdict == REFUSED] == [37]
    assert all(r.verdict == DELIVERED for i, r in enumerate(results) if i != 37)
    assert len(hubspot.received) <= 15  # 2·log2(100) + 1
    assert len(hubspot.contacts) == 99


def test_the_same_email_twice_in_a_batch_is_split_and_lands_on_one_contact(hubspot, session):
    results = transport(hubspot, session).send(
        [lead("ann@acme-corp.com"), lead("ANN@acme-corp.com", firstname="A.")]
    )
    assert verdicts(results) == [DELIVERED, DELIVERED]
    assert results[0].external_id == results[1].external_id == hubspot.contact("ann@acme-corp.com").id
    assert [r.path for r in hubspot.received] == ["/crm/v3/objects/contacts/batch/upsert"] * 3
    assert hubspot.received[0].json["inputs"][1]["id"] == "ANN@acme-corp.com"
    assert len(hubspot.contacts) == 1


def test_a_single_lead_refused_with_400_is_refused_with_hubspots_message(hubspot, session):
    hubspot.multi_status = False
    [result] = transport(hubspot, session).send([lead("x@acme-corp.com", shoe_size="44")])
    assert result.verdict == REFUSED
    assert 'Property "shoe_size" does not exist' in result.reason
    assert len(hubspot.received) == 1


def test_a_lead_without_the_id_property_is_refused_without_a_request(hubspot, session):
    [result] = transport(hubspot, session).send([lead(email=...)])
    assert result.verdict == REFUSED
    assert result.reason == 'the lead has no value for "email", the property HubSpot matches records by'
    assert hubspot.received == []

    results = transport(hubspot, session).send([lead(email="  "), lead("ok@acme-corp.com")])
    assert verdicts(results) == [REFUSED, DELIVERED]
    [request] = hubspot.received
    assert [i["id"] for i in request.json["inputs"]] == ["ok@acme-corp.com"]


def test_another_unique_property_can_be_the_key(hubspot, session):
    hubspot.properties.add("lead_ref")
    hubspot.unique_properties.add("lead_ref")
    results = transport(hubspot, session, id_property="lead_ref").send(
        [lead(lead_ref="R-1"), lead(email="b@x.io")]
    )
    assert verdicts(results) == [DELIVERED, REFUSED]
    assert '"lead_ref"' in results[1].reason
    assert hubspot.received[0].json["inputs"][0]["idProperty"] == "lead_ref"


# --- retries ------------------------------------------------------------------------------------------------


def test_an_expired_token_is_retried_with_a_reason(hubspot, session):
    hubspot.expire(TOKEN)
    results = transport(hubspot, session).send([lead(), lead("bo@acme-corp.com")])
    assert verdicts(results) == [RETRY, RETRY]
    assert results[0].reason.startswith("the private app access token is invalid or expired (HTTP 401: ")
    assert "EXPIRED_AUTHENTICATION" in results[0].reason
    assert hubspot.contacts == {}


def test_an_unknown_token_and_a_missing_token_are_retried(hubspot, session):
    [unknown] = transport(hubspot, session, token="pat-na1-nope").send([lead()])
    assert unknown.verdict == RETRY and "INVALID_AUTHENTICATION" in unknown.reason
    [missing] = transport(hubspot, session, token="").send([lead()])
    assert (missing.verdict, missing.reason) == (RETRY, "no private app access token is set")
    assert len(hubspot.received) == 1


def test_a_token_without_the_write_scope_is_retried_with_the_scope_to_add(hubspot, session):
    hubspot.add_token("pat-read-only", scopes=[READ])
    [result] = transport(hubspot, session, token="pat-read-only").send([lead()])
    assert result.verdict == RETRY
    assert "crm.objects.contacts.write" in result.reason and "MISSING_SCOPES" in result.reason


def test_too_many_requests_is_retried_after_what_hubspot_asks(hubspot, session):
    hubspot.fail_next(rate_limited(retry_after="7"))
    results = transport(hubspot, session).send([lead(), lead("bo@acme-corp.com")])
    assert verdicts(results) == [RETRY, RETRY]
    assert all(r.retry_after == dt.timedelta(seconds=7) for r in results)
    assert "rate limit" in results[0].reason and "ten_secondly_rolling" in results[0].reason


def test_without_retry_after_a_429_waits_out_hubspots_rate_limit_window(hubspot, session):
    hubspot.fail_next(rate_limited(retry_after=None))
    [result] = transport(hubspot, session).send([lead()])
    assert (result.verdict, result.retry_after) == (RETRY, dt.timedelta(seconds=10))


def test_a_rate_limit_while_splitting_holds_back_the_rest(hubspot, session):
    # the batch: 400 (duplicate email); the first half (one lead): 200; the second half: 429 → both wait.
    leads = [lead("a@acme-corp.com"), lead("A@acme-corp.com"), lead("c@acme-corp.com")]
    sender = transport(hubspot, session)
    original = sender._upsert
    calls = []

    def upsert(batch):
        calls.append(len(batch))
        if len(calls) == 3:
            hubspot.fail_next(rate_limited("4"))
        return original(batch)

    sender._upsert = upsert
    results = sender.send(leads)
    assert verdicts(results) == [DELIVERED, RETRY, RETRY]
    assert results[2].retry_after == dt.timedelta(seconds=4)
    assert len(hubspot.received) == 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retried_and_the_next_attempt_delivers(hubspot, session, status):
    hubspot.fail_next(server_error(status))
    sender = transport(hubspot, session)
    [failed] = sender.send([lead()])
    assert failed.verdict == RETRY and failed.reason.startswith(f"HubSpot is unavailable (HTTP {status}")
    [delivered] = sender.send([failed.lead])
    assert delivered.verdict == DELIVERED and delivered.external_id


def test_a_slow_answer_times_out_and_is_retried(hubspot):
    hubspot.fail_next(slow(3))
    with Session(allow_private=True, timeouts=Timeouts(connect=1, read=0.5, total=1)) as quick:
        [result] = transport(hubspot, quick).send([lead()])
    assert result.verdict == RETRY
    assert result.reason.startswith("no answer from HubSpot: timeout:")
    assert result.exchanges[0].status is None


def test_malformed_json_is_retried(hubspot, session):
    hubspot.fail_next(malformed())
    results = transport(hubspot, session).send([lead(), lead("bo@acme-corp.com")])
    assert verdicts(results) == [RETRY, RETRY]
    assert "without a readable batch result" in results[0].reason


def test_a_dropped_connection_is_retried(hubspot, session):
    hubspot.fail_next(dropped())
    [result] = transport(hubspot, session).send([lead()])
    assert result.verdict == RETRY and result.reason.startswith("no answer from HubSpot: ")


# --- test_connection ----------------------------------------------------------------------------------------


def test_connection_reads_one_contact(hubspot, session):
    ok, sentence, exchanges = transport(hubspot, session).test_connection()
    assert ok and sentence == "HubSpot accepts the token and it can read contacts."
    [request] = hubspot.received
    assert (request.method, request.path, request.query) == (
        "GET",
        "/crm/v3/objects/contacts",
        {"limit": ["1"]},
    )
    assert exchanges[0].status == 200


def test_connection_with_a_bad_or_expired_token(hubspot, session):
    ok, sentence, _ = transport(hubspot, session, token="pat-na1-wrong").test_connection()
    assert not ok and sentence.startswith("The token is invalid or expired (HTTP 401: ")
    hubspot.expire(TOKEN)
    ok, sentence, _ = transport(hubspot, session).test_connection()
    assert not ok and "invalid or expired" in sentence


def test_connection_without_read_scope_or_without_hubspot(hubspot, session):
    hubspot.add_token("pat-write-only", scopes=["crm.objects.contacts.write"])
    ok, sentence, _ = transport(hubspot, session, token="pat-write-only").test_connection()
    assert not ok and "crm.objects.contacts.read" in sentence
    hubspot.stop()
    ok, sentence, exchanges = transport(hubspot, session).test_connection()
    assert not ok and sentence.startswith("No answer from HubSpot: ")
    assert exchanges[0].status is None


# --- secrets ------------------------------------------------------------------------------------------------


def test_the_token_never_appears_in_an_exchange(hubspot, session):
    sender = transport(hubspot, session)
    hubspot.fail_next(leaky(), rate_limited())
    results = sender.send([lead()]) + sender.send([lead()])
    results += sender.send([lead("a@acme-corp.com"), lead("bad-email"), lead("A@acme-corp.com")])
    hubspot.expire(TOKEN)
    results += sender.send([lead()])
    *_, connection = sender.test_connection()
    exchanges = [e for r in results for e in r.exchanges] + connection
    assert len(exchanges) >= 8
    # The leaky proxy echoed the token in its answer: the log shows it redacted.
    assert any(f"Bearer {REDACTED}" in e.response_body for e in exchanges)
    for exchange in exchanges:
        assert TOKEN not in json.dumps(asdict(exchange))
        assert TOKEN[8:30] not in json.dumps(asdict(exchange))
        assert exchange.request_headers["authorization"] == REDACTED


# --- config and form ----------------------------------------------------------------------------------------


def test_config_defaults_and_values():
    assert Config.load({}) == Config("https://api.hubapi.com", "email", "contacts")
    raw = {"base_url": " http://proxy.local:8080/hubspot/ ", "id_property": "lead_ref", "object_type": ""}
    assert Config.load(raw) == Config("http://proxy.local:8080/hubspot", "lead_ref", "contacts")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"token": "x"}, "A HubSpot destination has no setting token."),
        (
            {"base_url": "ftp://api.hubapi.com"},
            'The base URL "ftp://api.hubapi.com" must be an http:// or https://',
        ),
        ({"base_url": "api.hubapi.com"}, "must be an http:// or https:// URL"),
        ({"base_url": "https://api.hubapi.com?hapikey=1"}, "must not have a query"),
        ({"base_url": "http://[::1"}, "is not a URL"),
        ({"base_url": 7}, "The setting base_url must be text, not int."),
        ({"id_property": "E-Mail"}, 'The ID property "E-Mail" is not a HubSpot property name'),
        ({"object_type": "contacts/../x"}, 'The object type "contacts/../x" is not a HubSpot object type'),
    ],
)
def test_config_problems_are_one_sentence_each(raw, message):
    with pytest.raises(ConfigError) as refused:
        Config.load(raw)
    assert message in str(refused.value)


def test_config_reports_every_problem():
    with pytest.raises(ConfigError) as refused:
        Config.load({"base_url": "ftp://x", "idProperty": "email"})
    assert str(refused.value).count(".") >= 2 and "idProperty" in str(refused.value)


def test_the_form_stores_the_settings_and_refuses_a_bad_url():
    form = Form(data={"base_url": "https://api.hubapi.com", "id_property": "email", "secret": TOKEN})
    assert form.is_valid(), form.errors
    assert form.config() == {"base_url": "https://api.hubapi.com", "id_property": "email"}
    assert form.fields["secret"].label == "Private app access token"
    assert Form().fields["base_url"].initial == "https://api.hubapi.com"
    assert Form().fields["id_property"].initial == "email"

    assert not Form(data={"base_url": "not a url"}).is_valid()
    bad = Form(data={"id_property": "Not A Property"})
    assert not bad.is_valid()
    assert "is not a HubSpot property name" in str(bad.errors)
