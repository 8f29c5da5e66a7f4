"""What every destination kind provides, and what the delivery engine hands it.

A destination kind is a folder under ``delivery/destinations/<kind>/`` with:

- ``config.py``: a frozen dataclass ``Config`` read from ``Destination.config`` (``Config.load(dict)``,
  raising ``ConfigError`` with one sentence per problem) — the non-secret settings (instance URL, client
  id, lookup field…). The one secret (token, client secret, signing secret) is ``Destination.secret()``,
  never in config.
- ``transport.py``: a ``Transport`` subclass. The engine builds one per destination and worker and keeps it
  while the destination is unchanged, so an OAuth token fetched once serves many batches. ``send`` may be
  called from several threads at once; a transport that caches a token guards it with a lock.
- ``forms.py``: the Django form of the web UI for ``config`` and the secret.

Transports never touch the database and never raise for anything the remote side does: every lead they are
given comes back as exactly one `Result`. The engine records results, retries, backs off and pauses.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal

from leadgate.lib.http import HttpError, HttpResponse, Session

# What happened to one lead in one attempt.
DELIVERED: Final = "delivered"  # the remote side has it (created or updated)
RETRY: Final = "retry"  # not now: network, 5xx, 429, expired token, lock… try again later
REFUSED: Final = "refused"  # the remote side refuses this lead for good (bad field value, duplicate rule…)
Verdict = Literal["delivered", "retry", "refused"]

REDACTED = "[redacted]"
EXCERPT = 2000  # characters of each request and response body kept in the attempt log


class ConfigError(ValueError):
    """A destination's settings cannot work; the message says why, in one sentence per problem."""


@dataclass(frozen=True)
class OutgoingLead:
    """One lead as a destination posts it: its identity and the mapped output fields."""

    delivery_id: int  # 0 for a test lead
    message_id: str  # stable per lead and destination: the `webhook-id`, an idempotency key for any API
    lead_id: str
    source: str  # the source's slug
    status: str
    submitted_at: dt.datetime
    fields: dict[str, Any]  # output name → value, after the mapping and its list mappers


@dataclass
class Exchange:
    """One HTTP round trip as the attempt log shows it: secrets already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    reason: str = ""
    response_body: str = ""
    duration: float = 0.0
    error: str = ""  # no answer: timeout, refused connection… (HttpError.describe())

    def describe(self) -> str:
        if self.status is None:
            return self.error or "no answer"
        return f"HTTP {self.status} {self.reason}".rstrip()


@dataclass
class Result:
    """The verdict on one lead of one attempt."""

    lead: OutgoingLead
    verdict: Verdict
    reason: str = ""  # why, for people: the CRM's own message where it gave one
    external_id: str = ""  # the remote record's id, when the remote side says it
    retry_after: dt.timedelta | None = None  # the remote side's Retry-After, when it asked for one
    exchanges: list[Exchange] = field(default_factory=list)  # the round trips this verdict rests on


@dataclass
class Redactor:
    """Replaces secrets (the destination's, and tokens fetched with them) wherever they appear in a log."""

    secrets: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *values: str | None) -> None:
        with self._lock:
            self.secrets.update(v for v in values if v and len(v) >= 4)

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"})
_SECRET_FIELDS = re.compile(
    r'("(?:access_token|refresh_token|client_secret|password|token|secret)"\s*:\s*)"[^"]*"', re.I
)


class Transport:
    """Posts leads to one destination. Subclasses set ``kind`` and ``batch_size`` and implement ``send``."""

    kind: ClassVar[str]
    batch_size: ClassVar[int] = 1  # leads per `send` call; the engine never hands over more
    config_class: ClassVar[Callable[..., Any]]  # the kind's Config.load

    def __init__(self, *, url: str, config: Any, secret: str, session: Session) -> None:
        self.url = url
        self.config = config
        self.secret = secret
        self.session = session
        self.redact = Redactor()
        self.redact.add(secret)

    # --- what each kind implements ----------------------------------------------------------------------

    def send(self, leads: Sequence[OutgoingLead]) -> list[Result]:
        """Post these leads (at most ``batch_size``); one Result per lead, in the same order."""
        raise NotImplementedError

    def test_connection(self) -> tuple[bool, str, list[Exchange]]:
        """Authenticate and make one harmless read: (works, one sentence, the exchanges made)."""
        raise NotImplementedError

    # --- shared by the kinds ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        exchanges: list[Exchange] | None = None,
    ) -> tuple[HttpResponse | None, Exchange]:
        """One request through the safe HTTP session, logged (redacted) into ``exchanges``.

        Returns (None, exchange) when there was no answer; never raises for the network.
        """
        shown_headers = {
            k: (REDACTED if k.lower() in SECRET_HEADERS else self.redact(v))
            for k, v in (headers or {}).items()
        }
        record = Exchange(
            method=method,
            url=self.redact(self.shown_url(url)),
            request_headers=shown_headers,
            request_body=self.redact_body(body or b""),
        )
        if exchanges is not None:
            exchanges.append(record)
        try:
            response = self.session.request(method, url, headers=headers, content=body)
        except HttpError as exc:
            record.error = self.redact(exc.describe())
            record.duration = exc.duration
            return None, record
        record.status = response.status
        record.reason = response.reason
        record.duration = response.duration
        record.response_body = self.redact_body(response.body)
        return response, record

    def shown_url(self, url: str) -> str:
        """The URL as the log shows it: the whole URL, with the query's values of secret names hidden."""
        return re.sub(r"((?:access_token|client_secret|token|key)=)[^&]*", r"\1" + REDACTED, url)

    def redact_body(self, body: bytes) -> str:
        text = body.decode("utf-8", "replace")
        text = _SECRET_FIELDS.sub(lambda m: m.group(1) + f'"{REDACTED}"', text)
        text = re.sub(r"((?:client_secret|password|refresh_token)=)[^&]*", r"\1" + REDACTED, text)
        text = self.redact(text)
        return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def json_body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def parse_json(response: HttpResponse) -> Any:
    """The answer's JSON, or None when it is not JSON (a proxy's HTML error page, a truncated body)."""
    if response.truncated:
        return None
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return None


def for_all(leads: Iterable[OutgoingLead], verdict: Verdict, reason: str, exchanges: list[Exchange],
            retry_after: dt.timedelta | None = None) -> list[Result]:  # fmt: skip
    """The same verdict for every lead of a batch (an answer about the request, not the records)."""
    return [Result(lead, verdict, reason, "", retry_after, list(exchanges)) for lead in leads]


def retry_after(response: HttpResponse) -> dt.timedelta | None:
    """Retry-After in seconds or as an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    import email.utils

    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return dt.timedelta(seconds=min(int(value), 86400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(when - dt.datetime.now(dt.UTC), dt.timedelta(0))


def answer_verdict(response: HttpResponse) -> tuple[Verdict, str]:
    """The verdict an HTTP status gives a whole request, before any per-record detail is read.

    2xx: delivered. 400 and 422: the receiver refuses what was sent (a value, a missing field): refused.
    Anything else is retried: 3xx, 404 and 405 (a wrong URL someone will fix), 401/403 (a token that
    expired or was revoked and will be replaced), 408, 409 (a lock), 429, 5xx. The engine's attempt limit and
    circuit breaker keep a retry from lasting forever; refusing every lead because of a typo in a URL would
    be worse.
    """
    if response.ok:
        return DELIVERED, ""
    if response.status in (400, 422):
        return REFUSED, response.describe()
    return RETRY, response.describe()
