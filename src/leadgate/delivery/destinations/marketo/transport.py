"""The Marketo destination: Sync Leads (createOrUpdate on a lookup field), then optional program membership.

Marketo's REST API answers HTTP 200 for almost every failure, so the JSON is what counts:

- ``success: false`` with ``errors: [{code, message}]`` is about the whole request (6xx, 7xx). Nothing was
  done; 601/602 mean the access token is invalid or expired: leadgate fetches a new one and repeats the call
  once. Every other request-level error is a retry — a rate limit, an outage, or a fault in the settings
  that someone will fix — never a refusal of leads that did nothing wrong.
- ``result`` has one entry per input record, in order: ``created``/``updated`` with the lead's ``id``, or
  ``skipped`` with ``reasons: [{code, message}]`` (1xxx), which refuse that lead alone.

Access tokens come from ``{url}/identity/oauth/token`` (client credentials, an hour's life) and travel in the
``Authorization: Bearer`` header; one token serves every batch and thread until it is about to expire.

Program membership uses Sync Program Member Status (``POST /rest/v1/programs/{id}/members/status.json``),
which adds leads that are not yet members; the older Change Lead Program Status endpoint is superseded and
changes only existing members. A membership failure retries those leads: the upsert repeats on the lookup
field, so the retry cannot create a second lead.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadgate.delivery.destinations.base import (
    DELIVERED,
    REFUSED,
    RETRY,
    Exchange,
    OutgoingLead,
    Result,
    Transport,
    answer_verdict,
    for_all,
    json_body,
    parse_json,
    retry_after,
)
from leadgate.delivery.destinations.marketo.config import Config

MAX_REQUEST_BYTES = 1_000_000  # Marketo answers HTTP 413 above 1 MB; bigger batches are split before sending

# Response-level codes (inside HTTP 200, "success": false).
TOKEN_CODES = frozenset({"601", "602"})  # access token invalid / expired: fetch a new one, repeat once
TRANSIENT_CODES = {
    "502": "Marketo's gateway failed",
    "604": "the request timed out inside Marketo",
    "606": "Marketo's rate limit (100 calls in 20 seconds) was reached",
    "607": "Marketo's daily API quota is used up (it resets at midnight US Central time)",
    "608": "Marketo's API is temporarily unavailable",
    "611": "Marketo had a system error",
    "614": "Marketo could not reach the subscription",
    "615": "Marketo's limit of 10 concurrent requests was reached",
    "713": "Marketo had a transient error",
    "719": "Marketo timed out waiting for a lock",
    "1029": "Marketo's job queue is full",
}
RATE_LIMIT_WINDOW = dt.timedelta(seconds=20)  # 606: the limit counts calls over 20 seconds

# Record-level reasons ("skipped") that do not refuse the lead: a queue that is full now, or a setting of
# the destination that is wrong for every lead alike (a partition to name, a lookup field Marketo refuses).
TRANSIENT_REASONS = frozenset({"1016", "1019", "1029"})
SETTINGS_REASONS = frozenset({"1009", "1011"})
ALREADY_IN_PROGRAM = "1037"  # membership: the lead already has this status or a later one — that is success


@dataclass(frozen=True)
class Failure:
    """Why a call gave no usable answer; every lead it was about is retried."""

    reason: str
    retry_after: dt.timedelta | None = None


class MarketoTransport(Transport):
    kind = "marketo"
    batch_size = 300  # Sync Leads takes at most 300 records per call
    config_class = Config.load
    config: Config

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The instance base, also when someone pastes the REST endpoint or the Identity URL that
        # Admin > Web Services shows (…/rest, …/identity).
        self.base = self.url.rstrip("/").removesuffix("/rest").removesuffix("/identity")
        self._lock = threading.Lock()
        self._token = ""
        self._token_until = 0.0  # time.monotonic() after which the token is renewed before use

    # --- sending ------------------------------------------------------------------------------------------

    def send(self, leads: Sequence[OutgoingLead]) -> list[Result]:
        lookup = self.config.lookup_field
        results: dict[int, Result] = {}
        ready: list[tuple[int, OutgoingLead]] = []
        for index, lead in enumerate(leads):
            if _blank(lead.fields.get(lookup)):
                reason = f'the lead has no value for "{lookup}", the field Marketo matches leads on'
                results[index] = Result(lead, REFUSED, reason)
            else:
                ready.append((index, lead))
        if ready:
            upserted = self._upsert([lead for _, lead in ready])
            if self.config.program_id is not None:
                self._add_to_program(upserted)
            results.update((index, result) for (index, _), result in zip(ready, upserted, strict=True))
        return [results[index] for index in range(len(leads))]

    def _upsert(self, leads: list[OutgoingLead]) -> list[Result]:
        payload: dict[str, Any] = {"action": "createOrUpdate", "lookupField": self.config.lookup_field}
        if self.config.partition_name:
            payload["partitionName"] = self.config.partition_name
        payload["input"] = [lead.fields for lead in leads]
        body = json_body(payload)
        if len(body) > MAX_REQUEST_BYTES:
            if len(leads) == 1:
                return [
                    Result(leads[0], REFUSED, "the lead is larger than Marketo's 1 MB limit for a request")
                ]
            half = len(leads) // 2
            return self._upsert(leads[:half]) + self._upsert(leads[half:])

        exchanges: list[Exchange] = []
        answer = self._call("POST", "/rest/v1/leads.json", body, exchanges)
        if isinstance(answer, Failure):
            return for_all(leads, RETRY, answer.reason, exchanges, answer.retry_after)
        records = answer.get("result")
        if not isinstance(records, list) or len(records) != len(leads):
            count = len(records) if isinstance(records, list) else "no"
            reason = f"Marketo answered {count} results for {len(leads)} leads, so no lead's outcome is known"
            return for_all(leads, RETRY, reason, exchanges)
        return [_record_result(lead, record, exchanges) for lead, record in zip(leads, records, strict=True)]

    def _add_to_program(self, results: list[Result]) -> None:
        """Give the delivered leads the program status; a lead whose membership fails is retried."""
        delivered = [r for r in results if r.verdict == DELIVERED]
        if not delivered:
            return
        program = f"program {self.config.program_id}"
        for result in delivered:
            if not result.external_id.isdigit():
                _retry(result, f"Marketo did not say the lead's id, so it cannot be added to {program}")
        members = [r for r in delivered if r.verdict == DELIVERED]
        if not members:
            return
        exchanges: list[Exchange] = []
        body = json_body(
            {
                "statusName": self.config.program_status,
                "input": [{"leadId": int(r.external_id)} for r in members],
            }
        )
        path = f"/rest/v1/programs/{self.config.program_id}/members/status.json"
        answer = self._call("POST", path, body, exchanges)
        for result in members:
            result.exchanges.extend(exchanges)
        status_name = self.config.program_status

        def failed(result: Result, why: str, wait: dt.timedelta | None = None) -> None:
            step = f'adding the lead (Marketo id {result.external_id}) to {program} as "{status_name}" failed'
            _retry(result, f"{step}: {why}", wait)

        if isinstance(answer, Failure):
            for result in members:
                failed(result, answer.reason, answer.retry_after)
            return
        records = answer.get("result")
        if not isinstance(records, list) or len(records) != len(members):
            for result in members:
                failed(result, "Marketo's answer does not list every lead")
            return
        for position, record in enumerate(records):
            record = record if isinstance(record, dict) else {}
            seq = record.get("seq", position)
            result = members[seq] if isinstance(seq, int) and 0 <= seq < len(members) else members[position]
            status = record.get("status")
            codes = [code for code, _ in _reasons(record)]
            if status in ("created", "updated") or (status == "skipped" and ALREADY_IN_PROGRAM in codes):
                continue
            failed(result, _describe_reasons(record) or f'Marketo answered "{status}"')

    # --- calls and the access token -----------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: bytes | None, exchanges: list[Exchange]
    ) -> dict[str, Any] | Failure:
        """One REST call with a valid token: the answer when ``success`` is true, else why not.

        An invalid or expired token (601, 602) is renewed and the call repeated once.
        """
        for _attempt in (1, 2):
            token = self._access_token(exchanges)
            if isinstance(token, Failure):
                return token
            headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
            if body is not None:
                headers["content-type"] = "application/json"
            response, exchange = self.request(
                method, self.base + path, headers=headers, body=body, exchanges=exchanges
            )
            if response is None:
                return Failure(exchange.error)
            if not response.ok:
                # Marketo reports bad records inside HTTP 200; any other status is about the request (413, a
                # proxy's 502, a 429…), so even 400 is retried rather than refusing the leads.
                _, reason = answer_verdict(response)
                return Failure(reason, retry_after(response))
            answer = parse_json(response)
            if not isinstance(answer, dict):
                return Failure(
                    f"Marketo's answer is not JSON ({exchange.describe()}: {response.excerpt[:200]})"
                )
            if answer.get("success") is True:
                return answer
            errors = _reasons({"reasons": answer.get("errors")})
            if any(code in TOKEN_CODES for code, _ in errors):
                self._forget(token)
                continue
            return _request_failure(errors)
        return Failure(
            "Marketo refused a freshly fetched access token too (601/602); check the custom service"
        )

    def _access_token(self, exchanges: list[Exchange]) -> str | Failure:
        with self._lock:  # one fetch for all threads; the others wait for its token
            if self._token and time.monotonic() < self._token_until:
                return self._token
            query = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.config.client_id,
                    "client_secret": self.secret,
                }
            )
            self.redact.add(urllib.parse.quote_plus(self.secret))
            url = f"{self.base}/identity/oauth/token?{query}"
            response, exchange = self.request(
                "GET", url, headers={"accept": "application/json"}, exchanges=exchanges
            )
            if response is None:
                return Failure(
                    f"no access token: Marketo's identity service did not answer ({exchange.error})"
                )
            answer = parse_json(response)
            answer = answer if isinstance(answer, dict) else {}
            if response.status in (400, 401, 403):
                detail = answer.get("error_description") or answer.get("error") or exchange.describe()
                return Failure(
                    f"Marketo's identity service refused the client id or secret ({detail}); "
                    "check them in the destination's settings"
                )
            if not response.ok:
                return Failure(f"no access token: {response.describe()}", retry_after(response))
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                return Failure(f"no access token in the identity service's answer ({exchange.describe()})")
            self.redact.add(token)
            lifetime = answer.get("expires_in")
            lifetime = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
            # Renew a little early, so no call leaves with a token that expires on the way.
            self._token = token
            self._token_until = time.monotonic() + lifetime - min(60.0, lifetime / 4)
            return token

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:  # another thread may already have fetched a new one
                self._token = ""

    # --- test ---------------------------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str, list[Exchange]]:
        """Fetch a token and Describe Leads: the credentials work and the lookup field exists."""
        exchanges: list[Exchange] = []
        answer = self._call("GET", "/rest/v1/leads/describe.json", None, exchanges)
        if isinstance(answer, Failure):
            return False, answer.reason, exchanges
        result = answer.get("result")
        fields: list[Any] = result if isinstance(result, list) else []
        names = {
            str(f["rest"]["name"]): str(f.get("displayName") or "")
            for f in fields
            if isinstance(f, dict) and isinstance(f.get("rest"), dict) and f["rest"].get("name")
        }
        lookup = self.config.lookup_field
        if lookup not in names:
            close = [name for name in names if name.lower() == lookup.lower()]
            hint = f' (did you mean "{close[0]}"? REST names are case-sensitive)' if close else ""
            return (
                False,
                f'connected, but Marketo has no lead field "{lookup}" to match leads on{hint}',
                exchanges,
            )
        label = f" ({names[lookup]})" if names[lookup] and names[lookup] != lookup else ""
        message = (
            f'connected: Marketo has {len(names)} lead fields, the lookup field "{lookup}"{label} among them'
        )
        return True, message, exchanges


def _record_result(lead: OutgoingLead, record: Any, exchanges: list[Exchange]) -> Result:
    """The verdict on one Sync Leads result entry."""
    record = record if isinstance(record, dict) else {}
    status = record.get("status")
    if status in ("created", "updated"):
        lead_id = record.get("id")
        external_id = "" if lead_id is None else str(lead_id)
        return Result(
            lead, DELIVERED, f"{status} in Marketo", external_id=external_id, exchanges=list(exchanges)
        )
    reasons = _reasons(record)
    why = _describe_reasons(record)
    codes = {code for code, _ in reasons}
    if status != "skipped":
        return Result(lead, RETRY, f'Marketo answered "{status}" for the lead', exchanges=list(exchanges))
    if not reasons:
        return Result(lead, RETRY, "Marketo skipped the lead without saying why", exchanges=list(exchanges))
    if codes & TRANSIENT_REASONS:
        return Result(lead, RETRY, why, exchanges=list(exchanges))
    if codes & SETTINGS_REASONS:
        reason = f"{why} (a fault in the destination's settings, not in the lead)"
        return Result(lead, RETRY, reason, exchanges=list(exchanges))
    return Result(lead, REFUSED, why, exchanges=list(exchanges))


def _request_failure(errors: list[tuple[str, str]]) -> Failure:
    """Why a whole request failed (``success: false``), in words, with a wait when Marketo implies one."""
    if not errors:
        return Failure("Marketo answered success: false without an error")
    described = "; ".join(f"{code}: {message}" if message else code for code, message in errors)
    codes = [code for code, _ in errors]
    for code in codes:
        if code in TRANSIENT_CODES:
            wait = RATE_LIMIT_WINDOW if code == "606" else _until_quota_reset() if code == "607" else None
            return Failure(f"{TRANSIENT_CODES[code]} ({described})", wait)
    if "603" in codes:
        return Failure(f"Marketo denied access ({described}); the API user's role needs the permission")
    return Failure(
        f"Marketo rejected the request ({described}); a fault in the destination's settings or in leadgate, "
        "not in the leads"
    )


def _until_quota_reset(now: dt.datetime | None = None) -> dt.timedelta:
    """Marketo's daily quota resets at 12:00 AM CST (06:00 UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    reset = now.replace(hour=6, minute=0, second=0, microsecond=0)
    if reset <= now:
        reset += dt.timedelta(days=1)
    return reset - now


def _reasons(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, message) pairs of a ``reasons`` (or ``errors``) list; codes are quoted integers in Marketo."""
    items = record.get("reasons")
    pairs = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            pairs.append((str(item.get("code", "")).strip(), str(item.get("message") or "").strip()))
    return pairs


def _describe_reasons(record: dict[str, Any]) -> str:
    return "; ".join(f"{code}: {message}" if message else code for code, message in _reasons(record))


def _retry(result: Result, reason: str, wait: dt.timedelta | None = None) -> None:
    result.verdict = RETRY
    result.reason = reason
    result.retry_after = wait


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
