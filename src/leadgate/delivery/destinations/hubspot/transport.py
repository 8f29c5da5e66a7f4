"""The HubSpot destination: leads upserted as CRM contacts, up to 100 (HubSpot's batch limit) per request.

One ``POST /crm/v3/objects/contacts/batch/upsert`` per batch, keyed by the ID property (``email`` unless the
destination says otherwise), so a lead sent again updates the contact it created instead of adding another.
The private app token (the destination's secret) goes in ``Authorization: Bearer``.

Each input carries an ``objectWriteTraceId`` (the lead's message id), which turns on HubSpot's multi-status
answers ("Error handling" in HubSpot's developer docs): a ``207`` lists the records written under ``results``
and the refused ones under ``errors``, each error naming its input in ``context.objectWriteTraceId``. HubSpot
asks clients to treat every field of an error as optional, so an answer is read defensively: a record is
matched back to its lead by trace id, else by the ID property's value; an error that names no lead leaves the
leads without a result to be retried, never guessed at.

Without multi-status HubSpot refuses a whole batch with a ``400`` when one input is bad (a malformed email, a
property that does not exist, the same email twice). Then each lead goes again on its own in the same call, so
only the bad one is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from leadgate.delivery.destinations.base import (
    DELIVERED,
    REFUSED,
    RETRY,
    Exchange,
    OutgoingLead,
    Result,
    Transport,
    Verdict,
    answer_verdict,
    for_all,
    json_body,
    parse_json,
    retry_after,
)
from leadgate.delivery.destinations.hubspot.config import Config
from leadgate.lib.http import HttpResponse

# Categories and codes of a per-record error that no retry will fix: the value or the property is wrong.
# Anything else (RATE_LIMITS, CONFLICT, LOCKED, an unknown category…) is retried.
REFUSING_CODES = frozenset(
    {
        "VALIDATION_ERROR",
        "INVALID_EMAIL",
        "PROPERTY_DOESNT_EXIST",
        "READ_ONLY_VALUE",
        "INVALID_OPTION",
        "INVALID_INTEGER",
        "INVALID_LONG",
        "INVALID_DOUBLE",
        "INVALID_DATE",
        "INVALID_DATETIME",
        "INVALID_BOOLEAN",
    }
)
# HubSpot's rate limits run in rolling windows and its 429 rarely carries Retry-After: wait out the window.
RATE_LIMIT_WINDOW = "x-hubspot-ratelimit-interval-milliseconds"
LOCK_WAIT = dt.timedelta(seconds=2)  # "Locks will last for 2 seconds" (423 Locked)


class HubSpotTransport(Transport):
    kind = "hubspot"
    batch_size = 100
    config_class = Config.load
    config: Config

    @property
    def base(self) -> str:
        """The API base: the destination's URL when set, else the configured one (api.hubapi.com)."""
        return (self.url or self.config.base_url).rstrip("/")

    def send(self, leads: Sequence[OutgoingLead]) -> list[Result]:
        prop = self.config.id_property
        results: dict[int, Result] = {}
        ready: list[int] = []
        for index, lead in enumerate(leads):
            if id_value(lead, prop):
                ready.append(index)
            else:
                reason = f'the lead has no value for "{prop}", the property HubSpot matches records by'
                results[index] = Result(lead, REFUSED, reason)
        if ready and not self.secret:  # the owner adds the token while retries last
            waiting = _retry([leads[i] for i in ready], "no private app access token is set")
            results.update(zip(ready, waiting, strict=True))
        elif ready:
            results.update(zip(ready, self._upsert([leads[i] for i in ready]), strict=True))
        return [results[index] for index in range(len(leads))]

    def test_connection(self) -> tuple[bool, str, list[Exchange]]:
        """Read one record: proves the base URL, the token and its read scope (not yet the write scope)."""
        exchanges: list[Exchange] = []
        if not self.secret:
            return False, "No private app access token is set.", exchanges
        kind = self.config.object_type
        url = f"{self.base}/crm/v3/objects/{kind}?limit=1"
        response, exchange = self.request("GET", url, headers=self._headers(), exchanges=exchanges)
        if response is None:
            return False, f"No answer from HubSpot: {exchange.error}.", exchanges
        if response.status == 401:
            return False, f"The token is invalid or expired ({_said(response)}).", exchanges
        if response.status == 403:
            sentence = f"The token may not read {kind}: {_scope_hint(kind)} ({_said(response)})."
            return False, sentence, exchanges
        answer = parse_json(response)
        if response.ok and isinstance(answer, dict) and isinstance(answer.get("results"), list):
            return True, f"HubSpot accepts the token and it can read {kind}.", exchanges
        if response.ok:
            return False, f"{exchange.describe()}, but not HubSpot's answer: check the base URL.", exchanges
        return False, f"HubSpot answers {_said(response)}.", exchanges

    # --- the batch -------------------------------------------------------------------------------------

    def _upsert(self, leads: Sequence[OutgoingLead]) -> list[Result]:
        prop = self.config.id_property
        traces = trace_ids(leads)
        inputs = [
            {
                "idProperty": prop,
                "id": id_value(lead, prop),
                "objectWriteTraceId": trace,
                "properties": properties(lead),
            }
            for lead, trace in zip(leads, traces, strict=True)
        ]
        url = f"{self.base}/crm/v3/objects/{self.config.object_type}/batch/upsert"
        exchanges: list[Exchange] = []
        headers = {**self._headers(), "content-type": "application/json"}
        body = json_body({"inputs": inputs})
        response, exchange = self.request("POST", url, headers=headers, body=body, exchanges=exchanges)
        if response is None:
            return _retry(leads, f"no answer from HubSpot: {exchange.error}", exchanges)
        verdict, _ = answer_verdict(response)
        if verdict == DELIVERED:
            return self._read_records(leads, traces, response, exchanges)
        if verdict == REFUSED and len(leads) > 1:
            return self._halves(leads, exchanges)
        if verdict == REFUSED:
            reason = f"HubSpot refused the record: {_said(response)}"
            return [Result(leads[0], verdict, reason, exchanges=exchanges)]
        return _retry(leads, self._trouble(response), exchanges, _wait(response))

    def _halves(self, leads: Sequence[OutgoingLead], batch: list[Exchange]) -> list[Result]:
        """HubSpot refused the whole batch for one bad input: send each half on its own, and so on down to
        the bad lead — about 2·log2(n) requests for one bad lead among n, where one by one would take n
        (HubSpot allows about a hundred requests in ten seconds)."""
        middle = len(leads) // 2
        first = self._upsert(leads[:middle])
        for result in first:
            result.exchanges[:0] = batch
        stopped = next((r for r in first if r.verdict == RETRY), None)
        if stopped is not None:  # rate limit, outage: the other half waits for the next attempt
            rest = _retry(leads[middle:], f"not sent yet: {stopped.reason}", batch, stopped.retry_after)
            return first + rest
        second = self._upsert(leads[middle:])
        for result in second:
            result.exchanges[:0] = batch
        return first + second

    def _read_records(
        self,
        leads: Sequence[OutgoingLead],
        traces: list[str],
        response: HttpResponse,
        exchanges: list[Exchange],
    ) -> list[Result]:
        answer = parse_json(response)
        records = answer.get("results") if isinstance(answer, dict) else None
        errors = answer.get("errors", []) if isinstance(answer, dict) else None
        if not isinstance(records, list) or not isinstance(errors, list):
            reason = f"HubSpot answered {exchanges[-1].describe()} without a readable batch result"
            return _retry(leads, reason, exchanges)
        matcher = Matcher(leads, traces, self.config.id_property)
        written: dict[int, str] = {}
        for record in records:
            index = matcher.record(record) if isinstance(record, dict) else None
            if index is not None:
                written[index] = str(record.get("id") or "")
        refused: dict[int, Mapping[str, Any]] = {}
        unmatched: list[Mapping[str, Any]] = []
        for error in errors:
            if not isinstance(error, dict):
                continue
            indexes = matcher.error(error)
            if not indexes:
                unmatched.append(error)
            for index in indexes:
                refused.setdefault(index, error)
        multi_status = response.status == 207 or bool(errors)
        results = []
        verdict: Verdict
        for index, lead in enumerate(leads):
            error = None if index in written else refused.get(index)
            if error is not None and is_refusal(error):
                verdict, reason = REFUSED, f"HubSpot refused the record: {error_text(error)}"
            elif error is not None:
                verdict, reason = RETRY, f"HubSpot could not write the record: {error_text(error)}"
            elif index not in written and multi_status:  # named neither way: retried, never guessed
                verdict, reason = RETRY, "HubSpot's multi-status answer has no result for this lead"
                if unmatched:
                    reason += f"; an error it did not tie to a record says: {error_text(unmatched[0])}"
            else:  # written, or a plain 200: HubSpot wrote every input, even one it did not echo back
                verdict, reason = DELIVERED, ""
            external_id = written.get(index, "")
            results.append(Result(lead, verdict, reason, external_id, exchanges=list(exchanges)))
        return results

    # --- helpers ---------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.secret}", "accept": "application/json"}

    def _trouble(self, response: HttpResponse) -> str:
        """Why a whole request is retried, in words someone can act on."""
        if response.status == 401:
            return f"the private app access token is invalid or expired ({_said(response)})"
        if response.status == 403:
            kind = self.config.object_type
            return f"the token may not write {kind}: {_scope_hint(kind)} ({_said(response)})"
        if response.status == 429:
            return f"HubSpot's rate limit is reached ({_said(response)})"
        if response.status == 423:
            return f"HubSpot has locked these records for a moment ({_said(response)})"
        if response.status >= 500:
            return f"HubSpot is unavailable ({_said(response)})"
        return f"HubSpot answers {_said(response)}"


class Matcher:
    """Ties the records and errors of a batch answer back to the leads that were sent."""

    def __init__(self, leads: Sequence[OutgoingLead], traces: list[str], prop: str) -> None:
        self.prop = prop
        self.by_trace = {trace: index for index, trace in enumerate(traces)}
        self.by_value: dict[str, list[int]] = {}
        for index, lead in enumerate(leads):
            self.by_value.setdefault(_key(id_value(lead, prop)), []).append(index)
        self.taken: set[int] = set()

    def record(self, record: Mapping[str, Any]) -> int | None:
        """The lead a written record belongs to: its trace id, else its ID property's value."""
        index = self.by_trace.get(str(record.get("objectWriteTraceId") or ""))
        if index is None:
            props = record.get("properties")
            value = props.get(self.prop) if isinstance(props, dict) else None
            candidates = [i for i in self.by_value.get(_key(value), []) if i not in self.taken]
            index = candidates[0] if candidates else None
        if index is None or index in self.taken:
            return None
        self.taken.add(index)
        return index

    def error(self, error: Mapping[str, Any]) -> list[int]:
        """The leads an error is about: by trace id, else by an ID value it names; [] when it names none."""
        context = error.get("context")
        context = context if isinstance(context, dict) else {}
        named = [self.by_trace[t] for t in _strings(context.get("objectWriteTraceId")) if t in self.by_trace]
        if named:
            return named
        values = [_key(v) for name, v in context.items() for v in _strings(v)] + [_key(error.get("id"))]
        named = [i for value in values if value for i in self.by_value.get(value, [])]
        if named:
            return sorted(set(named))
        # Last resort: the message names exactly one of the values sent ("Email address x is invalid").
        message = str(error.get("message") or "").casefold()
        mentioned = [value for value in self.by_value if value and _mentions(message, value)]
        return list(self.by_value[mentioned[0]]) if len(mentioned) == 1 else []


def id_value(lead: OutgoingLead, prop: str) -> str:
    value = lead.fields.get(prop)
    return "" if value is None else str(value).strip()


def trace_ids(leads: Sequence[OutgoingLead]) -> list[str]:
    """A unique objectWriteTraceId per input: the lead's message id, else its index."""
    ids = [lead.message_id for lead in leads]
    if all(ids) and len(set(ids)) == len(ids):
        return ids
    return [str(position) for position in range(len(leads))]


def properties(lead: OutgoingLead) -> dict[str, Any]:
    """The lead's fields as HubSpot property values.

    Empty fields are left out: in an upsert an empty string clears what the contact already has, and a lead
    that does not know a phone number should not erase the one a salesperson entered.
    """
    out: dict[str, Any] = {}
    for name, value in lead.fields.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list | tuple | set):  # a multiple checkboxes property: "a;b"
            value = ";".join(str(v) for v in value)
        out[name] = value
    return out


def is_refusal(error: Mapping[str, Any]) -> bool:
    """Whether a per-record error is about the values sent (refused for good) rather than the moment."""
    return bool(_codes(error) & REFUSING_CODES)


def error_text(error: Mapping[str, Any]) -> str:
    """HubSpot's message for people, with the JSON list it sometimes embeds read out."""
    message = str(error.get("message") or "").strip()
    details = [str(d.get("localizedErrorMessage") or d.get("message") or "") for d in _embedded(message)]
    text = "; ".join(d for d in details if d)
    if not text:
        nested = error.get("errors")
        found = (
            [str(e.get("message") or "") for e in nested if isinstance(e, dict)]
            if isinstance(nested, list)
            else []
        )
        text = message or "; ".join(m for m in found if m)
    category = str(error.get("category") or "")
    return f"{text} ({category})" if text and category else text or category or "no message"


def _codes(error: Mapping[str, Any]) -> set[str]:
    codes = {str(error.get("category") or ""), str(error.get("subCategory") or "")}
    nested = error.get("errors")
    if isinstance(nested, list):
        codes |= {str(e.get("code") or "") for e in nested if isinstance(e, dict)}
    codes |= {str(d.get("error") or "") for d in _embedded(str(error.get("message") or ""))}
    return codes - {""}


def _embedded(message: str) -> list[dict[str, Any]]:
    """``Property values were not valid: [{"isValid":false,"message":…,"error":…}]`` → the list."""
    start = message.find("[{")
    if start < 0:
        return []
    try:
        details = json.loads(message[start:])
    except ValueError:
        return []
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _said(response: HttpResponse) -> str:
    """``HTTP 401: <HubSpot's message>``, or the start of the body when it is not HubSpot's JSON."""
    answer = parse_json(response)
    if isinstance(answer, dict) and (answer.get("message") or answer.get("category")):
        return f"HTTP {response.status}: {error_text(answer)}"
    return response.describe()


def _wait(response: HttpResponse) -> dt.timedelta | None:
    wait = retry_after(response)
    if wait is None and response.status == 429:
        window = response.headers.get(RATE_LIMIT_WINDOW, "").strip()
        if window.isdigit():
            wait = dt.timedelta(milliseconds=min(int(window), 86_400_000))
    if wait is None and response.status == 423:
        wait = LOCK_WAIT
    return wait


def _scope_hint(kind: str) -> str:
    return f"give the private app the crm.objects.{kind}.read and crm.objects.{kind}.write scopes"


def _retry(
    leads: Sequence[OutgoingLead],
    reason: str,
    exchanges: list[Exchange] | None = None,
    wait: dt.timedelta | None = None,
) -> list[Result]:
    return for_all(leads, RETRY, reason, exchanges or [], wait)


def _key(value: Any) -> str:
    # Emails are case-insensitive in HubSpot; other unique values rarely differ only by case within a batch.
    return "" if value is None else str(value).strip().casefold()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def _mentions(text: str, value: str) -> bool:
    """Whether ``value`` appears in ``text`` as a whole (``a@x.io`` is not in ``ba@x.io``)."""
    return re.search(rf"(?<![\w.+-]){re.escape(value)}(?![\w-]|\.\w)", text) is not None
