"""The safe outgoing HTTP helper, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest

from leadgate.lib import http
from leadgate.lib.http import HttpError, Timeouts, is_public_address, redact_url
from tests.receiver import Receiver, Reply

FAST = Timeouts(connect=1.0, read=1.0, total=2.0)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def private_allowed(settings):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True


def test_posts_and_reads_the_answer(receiver, private_allowed):
    receiver.script(Reply(201, b'{"id": 7}', {"content-type": "application/json", "x-request-id": "abc"}))
    response = http.request(
        "POST", receiver.url + "/hooks", headers={"content-type": "application/json"}, content=b'{"a":1}'
    )
    assert (response.status, response.reason, response.ok) == (201, "Created", True)
    assert response.body == b'{"id": 7}' and not response.truncated
    assert response.headers["x-request-id"] == "abc"
    assert response.excerpt == '{"id": 7}'
    assert response.describe() == 'HTTP 201 Created: {"id": 7}'
    assert 0 < response.duration < 2
    [got] = receiver.received
    assert (got.method, got.path, got.body) == ("POST", "/hooks", b'{"a":1}')
    assert got.headers["user-agent"].startswith("leadgate/")
    assert got.headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_refused_unless_the_setting_allows_it(receiver, settings, host):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = False
    with pytest.raises(HttpError) as refused:
        http.request("POST", f"http://{host}:{receiver.port}/", content=b"x")
    assert refused.value.code == http.DESTINATION_REFUSED
    assert "LEADGATE_ALLOW_PRIVATE_DESTINATIONS" in refused.value.message
    assert receiver.received == []

    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    assert http.request("POST", f"http://{host}:{receiver.port}/", content=b"x").status == 200
    assert len(receiver.received) == 1


def test_the_check_runs_on_the_resolved_address_not_the_name(receiver, settings, monkeypatch):
    """DNS rebinding: a harmless-looking name that resolves to loopback is refused at connect time."""
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        return real("127.0.0.1" if host == "hooks.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = False
    with pytest.raises(HttpError) as refused:
        http.request("GET", f"http://hooks.example.com:{receiver.port}/")
    assert refused.value.code == http.DESTINATION_REFUSED
    assert "127.0.0.1" in refused.value.message
    assert receiver.received == []

    # Allowed, it connects to the address it checked, and still names the host it was asked for.
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    assert http.request("GET", f"http://hooks.example.com:{receiver.port}/").status == 200
    assert receiver.received[0].headers["host"] == f"hooks.example.com:{receiver.port}"


def test_environment_proxies_are_not_used(receiver, private_allowed, monkeypatch):
    # Through a proxy the address check would only see the proxy; this one would swallow the request.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    assert http.request("GET", receiver.url + "/").status == 200


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # carrier-grade NAT range, metadata on some clouds
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    ],
)
def test_private_and_reserved_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http:///nohost", "no url"]
)
def test_only_http_and_https_urls(url, private_allowed):
    with pytest.raises(HttpError) as bad:
        http.request("GET", url)
    assert bad.value.code == http.INVALID_URL


def test_redirects_are_returned_not_followed(receiver, private_allowed):
    receiver.script(Reply(302, b"", {"location": receiver.url + "/elsewhere"}))
    response = http.request("POST", receiver.url + "/hook", content=b"x")
    assert response.status == 302 and not response.ok
    assert [r.path for r in receiver.received] == ["/hook"]


def test_the_answer_is_read_up_to_the_cap(receiver, private_allowed):
    receiver.script(Reply(500, b"E" * 200_000))
    response = http.request("GET", receiver.url + "/")
    assert len(response.body) == http.MAX_BODY and response.truncated
    assert len(response.excerpt) == http.EXCERPT_CHARS

    receiver.script(Reply(200, b"x" * 5000))
    with http.Session(max_body=1000) as session:
        assert len(session.request("GET", receiver.url + "/").body) == 1000


def test_a_slow_receiver_times_out(receiver, private_allowed):
    receiver.script(Reply(200, delay=3))
    started = time.monotonic()
    with pytest.raises(HttpError) as slow:
        http.request("GET", receiver.url + "/", timeouts=Timeouts(connect=1, read=0.3, total=5))
    assert slow.value.code == http.TIMEOUT
    assert 0.3 <= slow.value.duration < 1.5
    assert time.monotonic() - started < 1.5


def test_the_total_timeout_bounds_a_receiver_that_trickles(receiver, private_allowed):
    # Every byte arrives well within the read timeout; only the total deadline stops this.
    receiver.script(Reply(200, b"x" * 100, trickle=0.05))
    started = time.monotonic()
    with pytest.raises(HttpError) as slow:
        http.request("GET", receiver.url + "/", timeouts=Timeouts(connect=1, read=1, total=0.6))
    assert slow.value.code == http.TIMEOUT
    assert time.monotonic() - started < 1.2


def test_a_closed_port_is_a_connect_failure(private_allowed):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HttpError) as failed:
        http.request("GET", f"http://127.0.0.1:{port}/", timeouts=FAST)
    assert failed.value.code == http.CONNECT_FAILED


def test_timeouts_come_from_settings(settings):
    settings.LEADGATE_HTTP_CONNECT_TIMEOUT = 3
    settings.LEADGATE_HTTP_TIMEOUT = 12
    assert Timeouts.from_settings() == Timeouts(connect=3, read=12, total=12)
    settings.LEADGATE_HTTP_TIMEOUT = 2  # a connect timeout never outlasts the whole request
    assert Timeouts.from_settings().connect == 2


def test_redacted_urls_keep_only_scheme_host_and_port():
    assert redact_url("https://hooks.example.com/T0KEN?sig=abc") == "https://hooks.example.com/…"
    assert redact_url("http://[::1]:8080/x") == "http://[::1]:8080/…"
