"""Standard Webhooks signing, checked against the published test vector and the official library."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from leadgate.lib.tokens import new_webhook_secret
from leadgate.lib.webhooks import secret_key, sign, signed_headers


def test_the_published_test_vector():
    # standard-webhooks/libraries/python/tests/test_webhooks.py::test_sign_function
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_signed_headers_verify_with_the_official_library():
    secret = new_webhook_secret()
    body = '{"lead_id":"LD-01","custom_reason":"Job Level: \\"Chief\\" — closest: C-Level","ü":"ß"}'.encode()
    headers = signed_headers(secret, "msg_01JDQ3ABC", body)
    assert set(headers) == {"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "msg_01JDQ3ABC"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert Webhook(secret).verify(body, headers)["ü"] == "ß"


def test_a_changed_body_id_or_secret_fails_verification():
    secret = new_webhook_secret()
    headers = signed_headers(secret, "msg_1", b'{"status":"accepted"}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"status":"rejected"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"status":"accepted"}', {**headers, "webhook-id": "msg_2"})
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(b'{"status":"accepted"}', headers)


@given(
    key=st.binary(min_size=24, max_size=64),
    msg_id=st.from_regex(r"msg_[0-9A-Za-z]{1,30}", fullmatch=True),
    timestamp=st.integers(min_value=0, max_value=4_000_000_000),
    body=st.text(max_size=200),
)
def test_signatures_match_the_official_library(key, msg_id, timestamp, body):
    secret = "whsec_" + base64.b64encode(key).decode()
    official = Webhook(secret).sign(msg_id, dt.datetime.fromtimestamp(timestamp, dt.UTC), body)
    assert sign(secret, msg_id, timestamp, body.encode()) == official


def test_secrets_with_or_without_prefix_and_padding():
    key = b"0123456789abcdefghijklmnop"  # 26 bytes: its base64 ends in padding
    padded = base64.b64encode(key).decode()
    assert padded.endswith("=")
    assert secret_key("whsec_" + padded) == key
    assert secret_key(padded) == key
    assert secret_key("whsec_" + padded.rstrip("=")) == key


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not base64!", "whsec_%%%%"])
def test_bad_secrets_are_refused(secret):
    with pytest.raises(ValueError, match="webhook secret"):
        sign(secret, "msg_1", 1, b"{}")


def test_ids_with_dots_are_refused():
    with pytest.raises(ValueError, match=r"'\.'"):
        sign(new_webhook_secret(), "msg_1.2", 1, b"{}")
