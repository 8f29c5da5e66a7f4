"""The Salesforce destination over real HTTP, against a fake org (tests/delivery/fakes/salesforce.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading

import pytest

from leadgate.delivery.destinations import transport_class
from leadgate.delivery.destinations.base import DELIVERED, REDACTED, REFUSED, RETRY, ConfigError, OutgoingLead
from leadgate.delivery.destinations.salesforce.config import Config
from leadgate.delivery.destinations.salesforce.forms import Form
from leadgate.delivery.destinations.salesforce.transport import SalesforceTransport
from leadgate.lib.http import Session, Timeouts
from tests.delivery.fakes import salesforce as sf

UPSERT = "/services/data/v62.0/composite/sobjects/Lead/LeadGate_Lead_ID__c"


@pytest.fixture
def fake():
    org = sf.FakeSalesforce()
    yield org
    org.stop()


@pytest.fixture
def session():
    with Session(allow_private=True, timeouts=Timeouts(connect=2, read=5, total=5)) as s:
        yield s


def transport(fake, session, secret=sf.CLIENT_SECRET, **config):
    config = {"client_id": sf.CLIENT_ID, **config}
    return SalesforceTransport(url=fake.url, config=Config.load(config), secret=secret, session=session)


def lead(n, **fields):
    values = {"LastName": f"Lee {n}", "Company": "Acme Corp", "Email": f"ann.lee{n}@acme-corp.com"}
    values.update(fields)
    return OutgoingLead(
        delivery_id=n,
        message_id=f"msg-{n}",
        lead_id=f"LG-{n:04d}",
        source="data-summit-2026",
        status="accepted",
        submitted_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
        fields={k: v for k, v in values.items() if v is not None},
    )


def verdicts(results):
    return [r.verdict for r in results]


# --- upserting ------------------------------------------------------------------------------------------


def test_the_kind_is_registered():
    assert transport_class("salesforce") is SalesforceTransport
    assert SalesforceTransport.batch_size == 200


def test_one_token_serves_several_sends(fake, session):
    sender = transport(fake, session)
    for n in range(3):
        assert verdicts(sender.send([lead(n)])) == [DELIVERED]
    assert len(fake.token_requests()) == 1
    assert {r.headers["authorization"] for r in fake.api_requests()} == {f"Bearer {fake.tokens_issued[0]}"}


def test_the_token_is_fetched_once_by_threads_that_send_at_once(fake, session):
    sender = transport(fake, session)
    results = {}

    def send(n):
        results[n] = sender.send([lead(n)])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[n][0].verdict for n in range(5)] == [DELIVERED] * 5
    assert len(fake.token_requests()) == 1


def test_the_upsert_request_is_the_documented_one(fake, session):
    transport(fake, session).send([lead(1, Phone="+49 30 1234567")])
    token = fake.token_requests()[0]
    assert token.method == "POST"
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    (upsert,) = fake.api_requests("composite")
    assert (upsert.method, upsert.path) == ("PATCH", UPSERT)
    assert json.loads(upsert.body) == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Lead"},
                "LeadGate_Lead_ID__c": "LG-0001",
                "LastName": "Lee 1",
                "Company": "Acme Corp",
                "Email": "ann.lee1@acme-corp.com",
                "Phone": "+49 30 1234567",
            }
        ],
    }


def test_an_upsert_creates_and_a_repeat_updates_the_same_record(fake, session):
    sender = transport(fake, session)
    (first,) = sender.send([lead(1)])
    assert first.verdict == DELIVERED
    assert first.external_id.startswith("00Q")
    assert first.reason.startswith("created")

    # The answer was lost, say, and the engine retries with a changed value: still one record.
    (second,) = sender.send([lead(1, Phone="+49 30 7654321")])
    assert second.verdict == DELIVERED
    assert second.external_id == first.external_id
    assert second.reason.startswith("updated")
    assert list(fake.records["Lead"]) == ["LG-0001"]
    assert fake.lead("LG-0001").values["Phone"] == "+49 30 7654321"


def test_a_mapped_field_cannot_replace_the_lead_id_the_upsert_matches_on(fake, session):
    (result,) = transport(fake, session).send([lead(1, LeadGate_Lead_ID__c="something else")])
    assert result.verdict == DELIVERED
    assert list(fake.records["Lead"]) == ["LG-0001"]


def test_a_batch_of_200_is_one_request_with_one_result_per_lead_in_order(fake, session):
    leads = [lead(n) for n in range(200)]
    results = transport(fake, session).send(leads)
    assert [r.lead for r in results] == leads
    assert verdicts(results) == [DELIVERED] * 200
    assert len(fake.api_requests("composite")) == 1
    assert len({r.external_id for r in results}) == 200


def test_a_duplicate_rule_refuses_that_lead_and_the_others_are_delivered(fake, session):
    sender = transport(fake, session)
    (owner,) = sender.send([lead(1, Email="ann.lee@acme-corp.com")])
    leads = [lead(2), lead(3, Email="ANN.LEE@acme-corp.com"), lead(4)]
    results = sender.send(leads)
    assert [r.lead for r in results] == leads
    assert verdicts(results) == [DELIVERED, REFUSED, DELIVERED]
    assert results[1].reason.startswith("DUPLICATES_DETECTED: Use one of these records?")
    assert owner.external_id in results[1].reason
    assert "LG-0003" not in fake.records["Lead"]


def test_field_errors_are_refused_per_record_with_code_and_fields(fake, session):
    leads = [
        lead(1, Email="not-an-email"),
        lead(2, Company="A" * 300),
        lead(3, LastName=None),
        lead(4),
        lead(5, CreatedDate="2026-01-01T00:00:00Z"),
    ]
    results = transport(fake, session).send(leads)
    assert verdicts(results) == [REFUSED, REFUSED, REFUSED, DELIVERED, REFUSED]
    assert (
        results[0].reason
        == "INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email (fields: Email)"
    )
    assert results[1].reason.startswith("STRING_TOO_LONG: Company: data value too large")
    assert results[1].reason.endswith("(fields: Company)")
    assert (
        results[2].reason
        == "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)"
    )
    assert results[4].reason.startswith(
        "INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: CreatedDate"
    )
    assert list(fake.records["Lead"]) == ["LG-0004"]


def test_a_validation_rule_is_refused(fake, session):
    fake.fail_record("LG-0001", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone must start with +", ["Phone"])
    (result,) = transport(fake, session).send([lead(1, Phone="030 1234")])
    assert result.verdict == REFUSED
    assert result.reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone must start with + (fields: Phone)"


def test_a_locked_row_is_retried_and_the_retry_delivers(fake, session):
    sender = transport(fake, session)
    fake.fail_record("LG-0002", "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
    results = sender.send([lead(1), lead(2)])
    assert verdicts(results) == [DELIVERED, RETRY]
    assert results[1].reason.startswith("UNABLE_TO_LOCK_ROW")
    assert verdicts(sender.send([lead(2)])) == [DELIVERED]
    assert sorted(fake.records["Lead"]) == ["LG-0001", "LG-0002"]


def test_a_field_the_object_lacks_refuses_only_the_leads_that_carry_it(fake, session):
    """Salesforce fails the whole collection with 400; the other leads are sent again at once."""
    leads = [lead(1), lead(2, Favourite_Colour__c="green"), lead(3)]
    results = transport(fake, session).send(leads)
    assert [r.lead for r in results] == leads
    assert verdicts(results) == [DELIVERED, REFUSED, DELIVERED]
    assert results[1].reason == "INVALID_FIELD: No such column 'Favourite_Colour__c' on sobject of type Lead"
    assert [r.status for r in fake.api_requests("composite")] == [400, 200]
    assert sorted(fake.records["Lead"]) == ["LG-0001", "LG-0003"]


def test_a_field_every_lead_carries_refuses_the_batch_in_one_request(fake, session):
    results = transport(fake, session).send([lead(1, Colour__c="red"), lead(2, Colour__c="blue")])
    assert verdicts(results) == [REFUSED, REFUSED]
    assert len(fake.api_requests("composite")) == 1


def test_a_value_salesforce_cannot_parse_is_found_by_sending_each_lead_alone(fake, session):
    leads = [lead(1, Event_Date__c="2026-03-01"), lead(2, Event_Date__c="next Tuesday"), lead(3)]
    results = transport(fake, session).send(leads)
    assert verdicts(results) == [DELIVERED, REFUSED, DELIVERED]
    assert results[1].reason.startswith("JSON_PARSER_ERROR: Cannot deserialize instance of date")
    assert [r.status for r in fake.api_requests("composite")] == [400, 200, 400, 200]


# --- the token ------------------------------------------------------------------------------------------


def test_an_expired_token_is_replaced_and_the_request_repeated_in_the_same_send(fake, session):
    sender = transport(fake, session)
    sender.send([lead(1)])
    fake.expire_tokens()
    (result,) = sender.send([lead(2)])
    assert result.verdict == DELIVERED
    assert len(fake.token_requests()) == 2
    assert [r.status for r in fake.api_requests("composite")] == [200, 401, 200]
    assert [e.status for e in result.exchanges] == [
        401,
        200,
        200,
    ]  # the upsert, a new token, the upsert again
    assert fake.api_requests()[-1].headers["authorization"] == f"Bearer {fake.tokens_issued[1]}"


def test_a_second_401_is_retried_later_not_in_a_loop(fake, session):
    sender = transport(fake, session)
    invalid = b'[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]'
    fake.fault(sf.Fault(401, invalid), sf.Fault(401, invalid), on="composite")
    (result,) = sender.send([lead(1)])
    assert result.verdict == RETRY
    assert result.reason == "INVALID_SESSION_ID: Session expired or invalid"
    assert len(fake.token_requests()) == 2
    assert len(fake.api_requests("composite")) == 2


def test_a_wrong_client_secret_is_retried_with_a_reason_naming_it(fake, session):
    results = transport(fake, session, secret="not-the-secret").send([lead(1), lead(2)])
    assert verdicts(results) == [RETRY, RETRY]
    assert results[0].reason == (
        "Salesforce refuses the connected app's credentials (invalid_client: invalid client credentials); "
        "check the consumer key (client id) and the client secret"
    )
    assert fake.api_requests() == []


def test_a_wrong_client_id_is_named(fake, session):
    (result,) = transport(fake, session, client_id="3MVG9other").send([lead(1)])
    assert result.verdict == RETRY
    assert "invalid_client_id" in result.reason


def test_a_connected_app_without_run_as_user_is_named(fake, session):
    fake.run_as_user = False
    (result,) = transport(fake, session).send([lead(1)])
    assert result.verdict == RETRY
    assert "no client credentials user enabled" in result.reason
    assert "Run As user" in result.reason


def test_a_token_endpoint_that_is_down_is_retried(fake, session):
    fake.fault(sf.unavailable(), on="/services/oauth2/token")
    (result,) = transport(fake, session).send([lead(1)])
    assert result.verdict == RETRY
    assert result.reason.startswith("the Salesforce token endpoint answers HTTP 503")


# --- answers about the whole request ----------------------------------------------------------------------


def test_503_is_retried(fake, session):
    fake.fault(sf.unavailable())
    results = transport(fake, session).send([lead(1), lead(2)])
    assert verdicts(results) == [RETRY, RETRY]
    assert results[0].reason == "SERVER_UNAVAILABLE: Server temporarily unavailable"
    assert fake.records["Lead"] == {}


def test_429_is_retried_after_what_salesforce_asks(fake, session):
    fake.fault(sf.too_many(retry_after=30))
    (result,) = transport(fake, session).send([lead(1)])
    assert result.verdict == RETRY
    assert result.retry_after == dt.timedelta(seconds=30)


def test_the_org_api_limit_403_is_retried(fake, session):
    fake.fault(sf.request_limit())
    (result,) = transport(fake, session).send([lead(1)])
    assert result.verdict == RETRY
    assert result.reason == "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."


def test_a_timeout_is_retried(fake):
    fake.fault(sf.slow(2), on="composite")
    with Session(allow_private=True, timeouts=Timeouts(connect=1, read=0.5, total=1)) as quick:
        (result,) = transport(fake, quick).send([lead(1)])
    assert result.verdict == RETRY
    assert result.reason.startswith("timeout")
    assert result.exchanges[-1].status is None


def test_a_malformed_answer_is_retried(fake, session):
    fake.fault(sf.malformed())
    results = transport(fake, session).send([lead(1), lead(2)])
    assert verdicts(results) == [RETRY, RETRY]
    assert "not the 2 results expected" in results[0].reason


def test_a_missing_external_id_field_is_retried_with_what_to_create(fake, session):
    del fake.objects["Lead"]["LeadGate_Lead_ID__c"]
    (result,) = transport(fake, session).send([lead(1)])
    assert result.verdict == RETRY
    assert "Provided external ID field does not exist" in result.reason
    assert "Lead needs the field LeadGate_Lead_ID__c: a text field marked External ID" in result.reason


def test_an_external_id_field_that_is_not_one_is_retried_not_refused_lead_by_lead(fake, session):
    fake.objects["Lead"]["Job_Level__c"]["externalId"] = False
    results = transport(fake, session, external_id_field="Job_Level__c").send([lead(1), lead(2)])
    assert verdicts(results) == [RETRY, RETRY]
    assert results[0].reason.startswith("INVALID_FIELD: Field Job_Level__c is not an external id field")
    assert len(fake.api_requests("composite")) == 1


# --- the connection test ----------------------------------------------------------------------------------


def test_connection_ok(fake, session):
    ok, sentence, exchanges = transport(fake, session).test_connection()
    assert ok, sentence
    assert "Lead.LeadGate_Lead_ID__c is an external-id field" in sentence
    assert [e.status for e in exchanges] == [200, 200]
    assert exchanges[1].url.endswith("/services/data/v62.0/sobjects/Lead/describe")


def test_connection_names_a_missing_external_id_field(fake, session):
    del fake.objects["Lead"]["LeadGate_Lead_ID__c"]
    ok, sentence, _ = transport(fake, session).test_connection()
    assert not ok
    assert sentence.startswith("Lead has no field LeadGate_Lead_ID__c")
    assert "External ID" in sentence


def test_connection_names_a_field_that_is_not_an_external_id(fake, session):
    fake.objects["Lead"]["Job_Level__c"]["externalId"] = False
    ok, sentence, _ = transport(fake, session, external_id_field="Job_Level__c").test_connection()
    assert not ok
    assert sentence.startswith("Lead.Job_Level__c exists but is not marked External ID")


def test_connection_names_an_object_the_org_lacks(fake, session):
    ok, sentence, _ = transport(fake, session, object="Prospect__c").test_connection()
    assert not ok
    assert sentence == "Salesforce has no object Prospect__c, or the Run As user cannot see it"


def test_connection_names_bad_credentials(fake, session):
    ok, sentence, exchanges = transport(fake, session, secret="wrong-secret").test_connection()
    assert not ok
    assert "invalid_client" in sentence
    assert len(exchanges) == 1


# --- secrets --------------------------------------------------------------------------------------------


def test_neither_the_client_secret_nor_a_token_appears_in_any_exchange(fake, session):
    sender = transport(fake, session)
    exchanges = []
    exchanges += [e for r in sender.send([lead(1)]) for e in r.exchanges]
    fake.expire_tokens()
    exchanges += [e for r in sender.send([lead(2), lead(3, Bad__c="x")]) for e in r.exchanges]
    exchanges += sender.test_connection()[2]
    exchanges += [
        e for r in transport(fake, session, secret="wrong-secret").send([lead(4)]) for e in r.exchanges
    ]
    assert len(fake.tokens_issued) == 2
    token_exchanges = [e for e in exchanges if e.url.endswith("/services/oauth2/token")]
    assert token_exchanges and all("client_secret=" + REDACTED in e.request_body for e in token_exchanges)
    for exchange in exchanges:
        shown = json.dumps(dataclasses.asdict(exchange))
        for secret in [sf.CLIENT_SECRET, "wrong-secret", *fake.tokens_issued]:
            assert secret not in shown
        if "authorization" in exchange.request_headers:
            assert exchange.request_headers["authorization"] == REDACTED


# --- settings and the form ------------------------------------------------------------------------------


def test_config_defaults():
    config = Config.load({"client_id": "3MVG9abc"})
    assert config == Config("3MVG9abc", "v62.0", "Lead", "LeadGate_Lead_ID__c")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({}, "needs the connected app's consumer key"),
        ({"client_id": "  "}, "needs the connected app's consumer key"),
        ({"client_id": "x", "api_version": "62.0"}, "should look like v62.0"),
        ({"client_id": "x", "api_version": "v45.0"}, "too old"),
        ({"client_id": "x", "object": "Lead; DROP"}, "not a Salesforce object API name"),
        ({"client_id": "x", "external_id_field": "Id"}, "cannot be the record Id"),
        ({"client_id": "x", "external_id_field": "Email"}, "not a custom field API name ending in __c"),
        ({"client_id": "x", "instance_url": "https://x"}, "has no setting instance_url"),
        ({"client_id": 42}, "must be text"),
    ],
)
def test_config_errors(raw, says):
    with pytest.raises(ConfigError, match=says):
        Config.load(raw)


def test_the_form_stores_the_settings_and_leaves_defaults_out():
    form = Form(data={"client_id": "3MVG9abc", "api_version": "v61.0", "secret": "s3cr3t"})
    assert form.is_valid(), form.errors
    assert form.config() == {"client_id": "3MVG9abc", "api_version": "v61.0"}
    assert Config.load(form.config()).object == "Lead"
    assert form.fields["secret"].label == "Connected app client secret"


def test_the_form_shows_a_config_error():
    form = Form(data={"client_id": "3MVG9abc", "external_id_field": "LeadID"})
    assert not form.is_valid()
    assert "not a custom field API name ending in __c" in str(form.non_field_errors())
