"""The Marketo destination over real HTTP, against the fake Marketo in tests/delivery/fakes/marketo.py."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from leadgate.delivery.destinations import transport_class
from leadgate.delivery.destinations.base import DELIVERED, REFUSED, RETRY, ConfigError, OutgoingLead, Result
from leadgate.delivery.destinations.marketo.config import Config
from leadgate.delivery.destinations.marketo.forms import Form
from leadgate.delivery.destinations.marketo.transport import MarketoTransport, _until_quota_reset
from leadgate.lib.http import Session, Timeouts
from tests.delivery.fakes.marketo import FakeMarketo, Fault

PROGRAM = 1042
LEADS_JSON = "/rest/v1/leads.json"
IDENTITY = "/identity/oauth/token"


@pytest.fixture
def marketo():
    fake = FakeMarketo()
    yield fake
    fake.stop()


@pytest.fixture
def session():
    with Session(allow_private=True) as session:
        yield session


def make_transport(
    fake: FakeMarketo, session: Session, *, secret: str | None = None, url: str = "", **config
):
    return MarketoTransport(
        url=url or fake.url,
        config=Config.load({"client_id": fake.client_id, **config}),
        secret=fake.client_secret if secret is None else secret,
        session=session,
    )


def lead(n: int = 1, **fields: object) -> OutgoingLead:
    return OutgoingLead(
        delivery_id=n,
        message_id=f"msg_{n}",
        lead_id=f"L{n:05d}",
        source="data-summit-2026",
        status="accepted",
        submitted_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
        fields=fields or {"email": f"ann.lee{n}@acme-corp.com", "firstName": "Ann", "country": "Germany"},
    )


def verdicts(results: list[Result]) -> list[str]:
    return [r.verdict for r in results]


# --- token ------------------------------------------------------------------------------------------------


def test_one_token_serves_several_sends_and_travels_in_the_header(marketo, session):
    transport = make_transport(marketo, session)
    for n in range(3):
        assert verdicts(transport.send([lead(n)])) == [DELIVERED]

    assert len(marketo.calls(IDENTITY)) == 1
    [token] = marketo.issued
    upserts = marketo.calls(LEADS_JSON)
    assert len(upserts) == 3
    for request in upserts:
        assert request.headers["authorization"] == f"Bearer {token}"
        assert request.query == {}  # never ?access_token=


def test_threads_share_one_token(marketo, session):
    transport = make_transport(marketo, session)
    results: list[list[Result]] = []
    threads = [
        threading.Thread(target=lambda n=n: results.append(transport.send([lead(n)]))) for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r[0].verdict for r in results) == [DELIVERED] * 6
    assert len(marketo.calls(IDENTITY)) == 1
    assert len(marketo.leads) == 6


@pytest.mark.parametrize("lose_token", ["expire_tokens", "revoke_tokens"])
def test_an_expired_or_invalid_token_is_renewed_within_the_send(marketo, session, lose_token):
    transport = make_transport(marketo, session)
    assert verdicts(transport.send([lead(1)])) == [DELIVERED]
    getattr(marketo, lose_token)()  # Marketo now answers 602 (or 601) inside HTTP 200

    [result] = transport.send([lead(2)])

    assert result.verdict == DELIVERED
    assert len(marketo.calls(IDENTITY)) == 2
    assert len(marketo.calls(LEADS_JSON)) == 3  # the refused call, repeated once with the new token
    assert [e.url.split("?")[0].removeprefix(marketo.url) for e in result.exchanges] == [
        LEADS_JSON,
        IDENTITY,
        LEADS_JSON,
    ]
    assert len(marketo.leads) == 2


def test_a_token_refused_twice_is_a_retry_not_a_loop(marketo, session):
    transport = make_transport(marketo, session)
    marketo.fail_next(Fault("error", "601", "Access token invalid"), times=2)

    [result] = transport.send([lead()])

    assert result.verdict == RETRY
    assert "601" in result.reason
    assert len(marketo.calls(LEADS_JSON)) == 2
    assert marketo.leads == {}


def test_bad_client_secret_retries_every_lead_with_a_clear_reason(marketo, session):
    transport = make_transport(marketo, session, secret="not-the-secret")

    results = transport.send([lead(1), lead(2)])

    assert verdicts(results) == [RETRY, RETRY]
    assert "client id or secret" in results[0].reason
    assert "Bad client credentials" in results[0].reason
    assert marketo.calls(LEADS_JSON) == []


# --- upsert -----------------------------------------------------------------------------------------------


def test_created_then_updated_is_one_lead_in_marketo(marketo, session):
    transport = make_transport(marketo, session)
    [created] = transport.send([lead(1, email="ann.lee@acme-corp.com", firstName="Ann")])
    [updated] = transport.send([lead(1, email="Ann.Lee@ACME-corp.com", firstName="Anne", title="CTO")])

    assert (created.verdict, updated.verdict) == (DELIVERED, DELIVERED)
    assert created.reason == "created in Marketo"
    assert updated.reason == "updated in Marketo"
    assert created.external_id == updated.external_id != ""
    [stored] = marketo.leads.values()
    assert str(stored.id) == created.external_id
    assert stored.fields["firstName"] == "Anne"
    assert stored.fields["title"] == "CTO"
    body = marketo.calls(LEADS_JSON)[0].json()
    assert body == {
        "action": "createOrUpdate",
        "lookupField": "email",
        "input": [{"email": "ann.lee@acme-corp.com", "firstName": "Ann"}],
    }


def test_lookup_field_and_partition_are_sent(marketo, session):
    marketo.partitions.add("Europe")
    transport = make_transport(marketo, session, lookup_field="externalId__c", partition_name="Europe")

    [first] = transport.send([lead(1, externalId__c="C-17", email="a@acme-corp.com")])
    [second] = transport.send([lead(1, externalId__c="C-17", email="b@acme-corp.com")])

    assert first.external_id == second.external_id
    assert [lead.fields["email"] for lead in marketo.leads.values()] == ["b@acme-corp.com"]
    assert marketo.calls(LEADS_JSON)[0].json()["lookupField"] == "externalId__c"
    assert marketo.calls(LEADS_JSON)[0].json()["partitionName"] == "Europe"


def test_skipped_records_are_refused_with_their_reasons_and_the_others_delivered(marketo, session):
    transport = make_transport(marketo, session)
    batch = [
        lead(1),
        lead(2, email="bo@acme-corp.com", favouriteColour="teal"),  # a field this instance lacks
        lead(3, email="not-an-email"),
        lead(4),
    ]

    results = transport.send(batch)

    assert [r.lead for r in results] == batch
    assert verdicts(results) == [DELIVERED, REFUSED, REFUSED, DELIVERED]
    assert results[1].reason == "1006: Field 'favouriteColour' not found"
    assert results[2].reason.startswith("1003: ")
    assert results[1].external_id == results[2].external_id == ""
    assert {results[0].external_id, results[3].external_id} == {str(i) for i in marketo.leads}
    assert len(marketo.calls(LEADS_JSON)) == 1
    assert len(marketo.calls(LEADS_JSON)[0].json()["input"]) == 4


def test_a_lead_without_a_lookup_value_is_refused_without_a_request(marketo, session):
    transport = make_transport(marketo, session)
    batch = [lead(1, firstName="No email"), lead(2), lead(3, email="  ")]

    results = transport.send(batch)

    assert verdicts(results) == [REFUSED, DELIVERED, REFUSED]
    assert '"email"' in results[0].reason
    assert results[0].exchanges == []
    assert [r["email"] for r in marketo.calls(LEADS_JSON)[0].json()["input"]] == ["ann.lee2@acme-corp.com"]

    assert verdicts(transport.send([lead(4, firstName="Nobody")])) == [REFUSED]
    assert len(marketo.requests) == 2  # one token, one upsert: the lone lead without email made no call


def test_settings_faults_in_skip_reasons_are_retried(marketo, session):
    transport = make_transport(marketo, session, lookup_field="firstName")  # Marketo: 1011 not supported

    [result] = transport.send([lead()])

    assert result.verdict == RETRY
    assert result.reason.startswith("1011: ")
    assert "settings" in result.reason


def test_a_batch_over_one_megabyte_is_split(marketo, session):
    transport = make_transport(marketo, session)
    big = "x" * 400_000
    batch = [lead(n, email=f"big{n}@acme-corp.com", title=big) for n in range(3)]
    batch.append(lead(9, email="huge@acme-corp.com", title="y" * 1_100_000))

    results = transport.send(batch)

    assert verdicts(results) == [DELIVERED, DELIVERED, DELIVERED, REFUSED]
    assert "1 MB" in results[3].reason
    sizes = [len(r.body) for r in marketo.calls(LEADS_JSON)]
    assert len(sizes) == 2
    assert max(sizes) < 1_000_000


# --- faults -----------------------------------------------------------------------------------------------


def test_rate_limit_inside_http_200_is_a_retry_with_a_wait(marketo, session):
    transport = make_transport(marketo, session)
    marketo.fail_next(Fault("error", "606", "Max rate limit '100' exceeded with in '20' secs"))

    results = transport.send([lead(1), lead(2)])

    assert verdicts(results) == [RETRY, RETRY]
    assert "606" in results[0].reason
    assert results[0].retry_after == dt.timedelta(seconds=20)
    assert marketo.leads == {}
    assert verdicts(transport.send([lead(1), lead(2)])) == [DELIVERED, DELIVERED]


def test_daily_quota_waits_until_the_reset():
    assert _until_quota_reset(dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)) == dt.timedelta(hours=1)
    assert _until_quota_reset(dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)) == dt.timedelta(hours=23)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("609", "not in the leads"),
        ("610", "not in the leads"),
        ("603", "permission"),
        ("611", "system error"),
    ],
)
def test_other_request_level_errors_retry_with_a_reason(marketo, session, code, words):
    transport = make_transport(marketo, session)
    marketo.fail_next(Fault("error", code, "Something"))

    [result] = transport.send([lead()])

    assert result.verdict == RETRY
    assert f"{code}: Something" in result.reason
    assert words in result.reason


def test_http_503_is_a_retry(marketo, session):
    transport = make_transport(marketo, session)
    marketo.fail_next(Fault("http", status=503, message="Service Unavailable"))

    [result] = transport.send([lead()])

    assert result.verdict == RETRY
    assert "503" in result.reason
    assert result.exchanges[-1].status == 503


def test_timeout_is_a_retry_and_the_retry_updates_the_same_lead(marketo):
    with Session(allow_private=True, timeouts=Timeouts(connect=1, read=0.5, total=1)) as slow_session:
        transport = make_transport(marketo, slow_session)
        transport.send([lead(0)])  # the token, fetched in time
        marketo.fail_next(Fault("slow", delay=1.5))

        [result] = transport.send([lead(1)])
        assert result.verdict == RETRY
        assert "timeout" in result.reason

        # Marketo did the upsert although the answer came too late: the retry finds the lead.
        [again] = transport.send([lead(1)])
        assert again.verdict == DELIVERED
        assert again.reason == "updated in Marketo"
        assert len(marketo.leads) == 2


def test_malformed_json_is_a_retry(marketo, session):
    transport = make_transport(marketo, session)
    marketo.fail_next(Fault("malformed"))

    [result] = transport.send([lead()])

    assert result.verdict == RETRY
    assert "not JSON" in result.reason


def test_no_answer_at_all_is_a_retry(session):
    fake = FakeMarketo()
    url = fake.url
    fake.stop()
    transport = make_transport(fake, session, url=url)

    [result] = transport.send([lead()])

    assert result.verdict == RETRY
    assert "identity service did not answer" in result.reason


# --- program membership -----------------------------------------------------------------------------------


def test_delivered_leads_join_the_program(marketo, session):
    transport = make_transport(marketo, session, program_id=PROGRAM, program_status="Registered")

    results = transport.send([lead(1), lead(2, email="nobody"), lead(3)])

    assert verdicts(results) == [DELIVERED, REFUSED, DELIVERED]
    [call] = marketo.calls(f"/rest/v1/programs/{PROGRAM}/members/status.json")
    ids = [int(results[0].external_id), int(results[2].external_id)]
    assert call.json() == {"statusName": "Registered", "input": [{"leadId": i} for i in ids]}
    assert all(marketo.leads[i].programs == {PROGRAM: "Registered"} for i in ids)
    assert results[0].exchanges[-1].url.endswith("/members/status.json")

    # Sent again: Marketo skips them as "already in or past this status" (1037), which is success.
    assert verdicts(transport.send([lead(1), lead(3)])) == [DELIVERED, DELIVERED]


@pytest.mark.parametrize(
    ("config", "fault", "words"),
    [
        ({"program_id": 999, "program_status": "Registered"}, None, "1013: Program not found"),
        (
            {"program_id": PROGRAM, "program_status": "Registred"},
            None,
            "1025: Program status 'Registred' not found",
        ),
        (
            {"program_id": PROGRAM, "program_status": "Registered"},
            Fault("http", status=503, path="/rest/v1/programs/"),
            "503",
        ),
    ],
)
def test_a_failed_membership_retries_the_delivered_leads(marketo, session, config, fault, words):
    transport = make_transport(marketo, session, **config)
    if fault:
        marketo.fail_next(fault)

    results = transport.send([lead(1), lead(2, email="nobody")])

    assert verdicts(results) == [RETRY, REFUSED]
    assert "to program" in results[0].reason and "failed" in results[0].reason
    assert words in results[0].reason
    assert results[0].external_id in {str(i) for i in marketo.leads}
    # The retry repeats the upsert (by email: no second lead) and the membership.
    marketo.programs[999] = ["Not in Program", "Registered"]
    marketo.programs[PROGRAM].append("Registred")
    assert verdicts(transport.send([lead(1)])) == [DELIVERED]
    assert len(marketo.leads) == 1


# --- test_connection --------------------------------------------------------------------------------------


def test_connection_checks_the_lookup_field(marketo, session):
    works, message, exchanges = make_transport(marketo, session).test_connection()
    assert works
    assert '"email"' in message
    assert [e.status for e in exchanges] == [200, 200]

    works, message, _ = make_transport(marketo, session, lookup_field="customerNumber").test_connection()
    assert not works
    assert 'no lead field "customerNumber"' in message

    works, message, _ = make_transport(marketo, session, lookup_field="EMAIL").test_connection()
    assert not works
    assert 'did you mean "email"' in message


def test_connection_with_a_wrong_secret(marketo, session):
    works, message, exchanges = make_transport(marketo, session, secret="wrong-secret").test_connection()
    assert not works
    assert "client id or secret" in message
    assert exchanges[0].status == 401


def test_the_rest_endpoint_url_works_as_the_destination_url(marketo, session):
    transport = make_transport(marketo, session, url=marketo.url + "/rest/")
    assert transport.test_connection()[0]


# --- secrets ----------------------------------------------------------------------------------------------


def test_client_secret_and_tokens_never_appear_in_an_exchange(marketo, session):
    marketo.client_secret = "s3cr+t/with&odd=chars"
    transport = make_transport(marketo, session, program_id=PROGRAM, program_status="Registered")
    results = transport.send([lead(1), lead(2, email="bad")])
    marketo.expire_tokens()
    results += transport.send([lead(3)])
    marketo.fail_next(Fault("error", "606", "Max rate limit"))
    results += transport.send([lead(4)])
    exchanges = [e for r in results for e in r.exchanges] + transport.test_connection()[2]

    assert len(marketo.issued) == 2
    assert any(e.url.split("?")[0].endswith(IDENTITY) for e in exchanges)
    logged = "\n".join(repr(e) for e in exchanges)
    for secret in [marketo.client_secret, "s3cr%2Bt%2Fwith%26odd%3Dchars", *marketo.issued]:
        assert secret not in logged
    # …and on the wire the secret goes only to the identity service, the token only in the header.
    for request in marketo.requests:
        if request.path != IDENTITY:
            assert "odd=chars" not in request.raw and "odd%3Dchars" not in request.raw
            token = request.headers["authorization"].removeprefix("Bearer ")
            assert token in marketo.issued
            assert token not in request.path and token not in str(request.query)


# --- config and form --------------------------------------------------------------------------------------


def test_kind_registry_and_limits():
    assert transport_class("marketo") is MarketoTransport
    assert MarketoTransport.batch_size == 300
    assert MarketoTransport.config_class({"client_id": "abc"}) == Config(client_id="abc")


def test_config_defaults_and_values():
    assert Config.load({"client_id": " abc "}) == Config(client_id="abc", lookup_field="email")
    config = Config.load(
        {"client_id": "abc", "lookup_field": "externalId__c", "partition_name": "EU", "program_id": "1042",
         "program_status": "Registered"}
    )  # fmt: skip
    assert config == Config("abc", "externalId__c", "EU", 1042, "Registered")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({}, "client_id is required"),
        ({"client_id": "abc", "token": "x"}, "no setting token"),
        ({"client_id": "abc", "lookup_field": "first name"}, "not a Marketo field name"),
        ({"client_id": "abc", "lookup_field": "id"}, "cannot be id"),
        ({"client_id": "abc", "program_id": 1042}, "program_status is required"),
        ({"client_id": "abc", "program_status": "Registered"}, "needs a program_id"),
        ({"client_id": "abc", "program_id": 0, "program_status": "Registered"}, "positive whole number"),
        ({"client_id": "abc", "program_id": "x1", "program_status": "Registered"}, "positive whole number"),
        ({"client_id": "abc", "program_id": True, "program_status": "Registered"}, "positive whole number"),
    ],
)
def test_config_problems(raw, words):
    with pytest.raises(ConfigError, match=words):
        Config.load(raw)


def test_config_reports_every_problem_at_once():
    with pytest.raises(ConfigError) as error:
        Config.load({"lookup_field": "id", "program_id": -1, "colour": "red"})
    message = str(error.value)
    assert message.count(". ") >= 3
    assert "colour" in message and "client_id" in message and "cannot be id" in message


def test_form_stores_the_settings():
    data = {"client_id": "abc", "lookup_field": "", "program_id": "1042", "program_status": "Registered"}
    form = Form(data={**data, "secret": "sh"})
    assert form.is_valid(), form.errors
    assert form.config() == {"client_id": "abc", "program_id": 1042, "program_status": "Registered"}
    assert Config.load(form.config()).lookup_field == "email"
    assert form.fields["secret"].label == "Client secret"


def test_form_refuses_a_program_without_a_status():
    form = Form(data={"client_id": "abc", "program_id": "1042"})
    assert not form.is_valid()
    assert "program_status is required" in str(form.errors)
    assert not Form(data={"client_id": "abc", "program_id": "0", "program_status": "Registered"}).is_valid()
    assert not Form(data={"lookup_field": "email"}).is_valid()
