"""Outgoing HTTP: the one way leadgate posts to the outside world (callbacks, webhooks, MA/CRM destinations).

What every request gets, whoever makes it:

- http and https only; redirects are never followed (a 3xx comes back as the answer, for the caller to judge).
- A connect timeout, a timeout for each read or write, and a total deadline that bounds the whole exchange
  (TLS handshake and a receiver that trickles its answer included).
- At most ``max_body`` bytes of the answer are read; the rest is dropped, so a hostile receiver costs nothing.
- Loopback, private, link-local, shared, reserved, multicast and unspecified addresses (IPv4 and IPv6, also
  when IPv4 hides inside IPv6) are refused unless ``LEADGATE_ALLOW_PRIVATE_DESTINATIONS`` is on. The check
  runs on the address the socket is about to connect to, after DNS, so a name that resolves to a public
  address when someone looks and to 127.0.0.1 a moment later (DNS rebinding) still cannot reach inside.

Environment proxies (``HTTP_PROXY``…) are ignored on purpose: through a proxy the address check would only see
the proxy.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpcore
import httpx
from django.conf import settings

from leadgate import __version__

MAX_BODY = 64 * 1024
EXCERPT_CHARS = 500
USER_AGENT = f"leadgate/{__version__}"

# Error codes (for machines; the exception's text is for people).
INVALID_URL = "invalid_url"
DESTINATION_REFUSED = "destination_refused"
TIMEOUT = "timeout"
CONNECT_FAILED = "connect_failed"
NETWORK_ERROR = "network_error"

# Ranges that `ipaddress` does not (or, depending on the Python patch release, does not yet) count as private.
_NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT; cloud metadata lives here on some providers
        "192.0.0.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "64:ff9b:1::/48",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fec0::/10",
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Timeouts:
    """Seconds: to connect, to wait for each read or write, and for the whole request."""

    connect: float
    read: float
    total: float

    @classmethod
    def from_settings(cls) -> Timeouts:
        total = float(settings.LEADGATE_HTTP_TIMEOUT)
        return cls(connect=min(float(settings.LEADGATE_HTTP_CONNECT_TIMEOUT), total), read=total, total=total)


@dataclass(frozen=True)
class HttpResponse:
    """An answer, whatever its status. ``body`` holds at most the first ``max_body`` bytes."""

    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    truncated: bool
    duration: float  # seconds, from the start of the request to the last byte read
    charset: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8", "replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    @property
    def excerpt(self) -> str:
        """The start of the body as one line, for logs and attempt records."""
        text = " ".join(self.text.split())
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"

    def describe(self) -> str:
        """``HTTP 503 Service Unavailable: <excerpt>`` — what an attempt log shows."""
        head = f"HTTP {self.status} {self.reason}".rstrip()
        return f"{head}: {self.excerpt}" if self.excerpt else head


class HttpError(Exception):
    """No answer: the URL was refused, the connection failed or the receiver was too slow."""

    def __init__(self, code: str, message: str, duration: float = 0.0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.duration = duration

    def describe(self) -> str:
        return f"{self.code}: {self.message}"


class DestinationRefused(Exception):
    """Raised inside the connection pool; `Session.request` turns it into an HttpError."""


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (so leadgate may post to it without the setting)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) reaches that IPv4 host: judge it.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip.version == net.version and ip in net for net in _NOT_PUBLIC)


def redact_url(url: str) -> str:
    """Scheme, host and port only: paths and queries often carry tokens (``/hooks/T0K3N``)."""
    try:
        parsed = httpx.URL(url)
    except Exception:
        return "<invalid URL>"
    port = f":{parsed.port}" if parsed.port else ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}{port}/…"


# The deadline of the request running in this thread. The network streams read it on every operation, so a
# kept-alive connection serves each request under that request's own deadline.
_deadline: ContextVar[float | None] = ContextVar("leadgate_http_deadline", default=None)


def _bounded(timeout: float | None, on_expiry: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise on_expiry("the request took longer than its total timeout")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves the name itself and connects only to addresses it has checked.

    The socket is opened on the checked address literally (no second lookup), and its peer address is
    checked once more after connecting.
    """

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self._allowed(a)]
        if not allowed:
            raise DestinationRefused(
                f"{host} resolves to {', '.join(addresses)}, a private or reserved address; "
                "set LEADGATE_ALLOW_PRIVATE_DESTINATIONS=true to allow on-premise targets"
            )
        error: Exception | None = None
        for address in allowed:
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=_bounded(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if peer is None or not self._allowed(str(peer[0])):
                stream.close()
                raise DestinationRefused(f"{host} connected to {peer}, a private or reserved address")
            return _DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise DestinationRefused("unix sockets are not a destination")

    def _allowed(self, address: str) -> bool:
        return self._allow_private or is_public_address(address.split("%", 1)[0])


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allow_private: bool, max_connections: int) -> None:
        super().__init__(trust_env=False)
        # httpx has no public way to choose httpcore's network backend (encode/httpx#3180), so the pool that
        # HTTPTransport builds is replaced by one that connects through the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=_GuardedBackend(allow_private),
        )


@dataclass
class Session:
    """Requests that may share kept-alive connections (a batch of posts to the same receivers).

    ``allow_private`` defaults to ``settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS``; ``timeouts`` to the
    LEADGATE_HTTP_* settings. Use it as a context manager, or call `close`.

    ``per_thread``: each thread gets a client (and connection pool) of its own, for many threads posting at
    once — one shared pool would make them queue on its lock.
    """

    timeouts: Timeouts | None = None
    allow_private: bool | None = None
    max_body: int = MAX_BODY
    max_connections: int = 10  # at once, over all hosts, per client
    per_thread: bool = False
    _local: threading.local = field(init=False, repr=False)
    _clients: list[httpx.Client] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)
    _shared: httpx.Client | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        if self.timeouts is None:
            self.timeouts = Timeouts.from_settings()
        if self.allow_private is None:
            self.allow_private = bool(settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS)
        self._local = threading.local()
        self._clients = []
        self._lock = threading.Lock()
        self._shared = None if self.per_thread else self._new_client()

    def _new_client(self) -> httpx.Client:
        assert self.allow_private is not None
        client = httpx.Client(
            transport=_GuardedTransport(self.allow_private, self.max_connections),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT, "accept-encoding": "identity"},
        )
        with self._lock:
            self._clients.append(client)
        return client

    @property
    def _client(self) -> httpx.Client:
        if self._shared is not None:
            return self._shared
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
        return client

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeouts: Timeouts | None = None,
    ) -> HttpResponse:
        """Send one request; any HTTP status is an answer, anything else raises `HttpError`."""
        limits = timeouts or self.timeouts
        assert limits is not None
        started = time.monotonic()
        target = _checked_url(url)
        token = _deadline.set(started + limits.total)
        try:
            with (
                _errors(started, limits),
                self._client.stream(
                    method,
                    target,
                    headers=headers,
                    content=content,
                    timeout=httpx.Timeout(limits.read, connect=limits.connect, pool=limits.total),
                ) as response,
            ):
                body, truncated = _read_capped(response.iter_raw(), self.max_body)
                return HttpResponse(
                    status=response.status_code,
                    reason=response.reason_phrase,
                    headers=response.headers,
                    body=body,
                    truncated=truncated,
                    duration=time.monotonic() - started,
                    charset=response.charset_encoding,
                )
        finally:
            _deadline.reset(token)


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    timeouts: Timeouts | None = None,
    allow_private: bool | None = None,
    max_body: int = MAX_BODY,
) -> HttpResponse:
    """One request on a fresh connection (see `Session` for what it guarantees)."""
    with Session(timeouts=timeouts, allow_private=allow_private, max_body=max_body) as session:
        return session.request(method, url, headers=headers, content=content)


def _checked_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except Exception as exc:
        raise HttpError(INVALID_URL, f"not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise HttpError(INVALID_URL, f"only http:// and https:// URLs are allowed, not {parsed.scheme}://")
    if not parsed.host:
        raise HttpError(INVALID_URL, "the URL has no host")
    return parsed


def _read_capped(chunks: Iterator[bytes], limit: int) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


@contextlib.contextmanager
def _errors(started: float, limits: Timeouts) -> Iterator[None]:
    """httpx's exceptions as HttpError: a code and one sentence (without the URL, which may hold a token)."""
    try:
        yield
    except DestinationRefused as exc:
        raise HttpError(DESTINATION_REFUSED, str(exc), time.monotonic() - started) from None
    except httpx.TimeoutException as exc:
        took = time.monotonic() - started
        what = "could not connect" if isinstance(exc, httpx.ConnectTimeout) else "no complete answer"
        limit = f"connect {limits.connect:g} s, read {limits.read:g} s, total {limits.total:g} s"
        raise HttpError(TIMEOUT, f"{what} in time (after {took:.1f} s; limits: {limit})", took) from None
    except httpx.ConnectError as exc:
        raise HttpError(CONNECT_FAILED, str(exc) or "connection failed", time.monotonic() - started) from None
    except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise HttpError(NETWORK_ERROR, message, time.monotonic() - started) from None
