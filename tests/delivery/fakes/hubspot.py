"""A stateful fake of HubSpot's CRM v3 objects API on 127.0.0.1 (random port), for the hubspot kind's tests.

It answers the way HubSpot's developer docs describe ("Error handling", "Upsert contacts", "API usage
guidelines"), with the parts of the shapes a client reads:

- ``Authorization: Bearer <private app token>``: an unknown token gets 401 ``INVALID_AUTHENTICATION``, an
  expired one 401 ``EXPIRED_AUTHENTICATION``, a token without the scope 403 ``MISSING_SCOPES``.
- ``POST /crm/v3/objects/contacts/batch/upsert`` with ``{"inputs": [{"idProperty", "id", "properties",
  "objectWriteTraceId"}]}``: contacts are created or updated by the unique property (email, any case).
  When every input has an ``objectWriteTraceId`` (HubSpot's opt-in to multi-status) the valid inputs are
  written and a 207 lists the invalid ones under ``errors`` with ``context.objectWriteTraceId``; without it
  one invalid input fails the whole batch with a 400 and nothing is written. The same id twice in a batch is
  always a 400.
- ``GET /crm/v3/objects/contacts?limit=N``: a page of contacts.
- Rate limit headers (``X-HubSpot-RateLimit-*``) on every answer; a 429 carries HubSpot's RATE_LIMIT body.

A fault script (`fail_next`) replaces the next answers: 429, 5xx, a slow answer, malformed JSON, a dropped
connection. Every request is recorded in `received`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer, QuietHandler

READ = "crm.objects.contacts.read"
WRITE = "crm.objects.contacts.write"
ALL_SCOPES = frozenset({READ, WRITE})
CONTACT_PROPERTIES = frozenset(
    [
        "email",
        "firstname",
        "lastname",
        "phone",
        "mobilephone",
        "company",
        "jobtitle",
        "country",
        "city",
        "state",
        "zip",
        "address",
        "website",
        "lifecyclestage",
        "hs_lead_status",
    ]
)
PORTAL_ID = 891936587
RATE_LIMIT_MAX = 190  # requests per 10-second window (Professional)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


@dataclass
class Fault:
    """What the fake does instead of (or before) its normal answer to one request."""

    status: int = 0  # 0: answer normally (after `delay`)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without any answer
    echo_authorization: bool = False  # put the request's Authorization header in the body (a leaky proxy)


def rate_limited(retry_after: str | None = "3") -> Fault:
    headers = {"X-HubSpot-RateLimit-Remaining": "0"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    return Fault(429, json.dumps(body).encode(), headers)


def server_error(status: int = 500) -> Fault:
    body = {"status": "error", "message": "internal error", "correlationId": str(uuid.uuid4())}
    return Fault(status, json.dumps(body).encode())


def slow(seconds: float) -> Fault:
    return Fault(delay=seconds)


def malformed() -> Fault:
    return Fault(200, b'{"status":"COMPLETE","results":[{"id":"10')  # cut off mid-answer


def dropped() -> Fault:
    return Fault(drop=True)


def leaky() -> Fault:
    return Fault(502, echo_authorization=True)


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Contact:
    id: str
    properties: dict[str, str]
    created_at: str
    updated_at: str


class FakeHubSpot(LocalServer):
    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self.tokens: dict[str, frozenset[str]] = {token: ALL_SCOPES for token in tokens}
        self.expired: set[str] = set()
        self.properties = set(CONTACT_PROPERTIES)
        self.unique_properties = {"email"}
        self.contacts: dict[str, Contact] = {}  # by id
        # HubSpot's documented 207 example echoes no objectWriteTraceId in `results` (its schema allows one).
        self.echo_trace_ids = False
        self.reverse_results = False  # HubSpot does not promise results in input order
        self.error_context = True  # errors name their input in context.objectWriteTraceId
        self.multi_status = True  # False: answer as if no input carried an objectWriteTraceId
        self.received: list[Received] = []
        self._faults: deque[Fault] = deque()
        self._next_id = 1001
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.received.append(
                        Received(self.command, parts.path, parse_qs(parts.query), headers, body)
                    )
                    fault = fake._faults.popleft() if fake._faults else None
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.drop:
                    self.close_connection = True
                    return
                if fault and fault.status:
                    reply = fault.body
                    if fault.echo_authorization:
                        reply = json.dumps({"message": "bad gateway", "request": headers}).encode()
                    status, answer, extra = fault.status, reply, fault.headers
                else:
                    with fake._lock:
                        status, payload = fake._answer(
                            self.command, parts.path, parse_qs(parts.query), headers, body
                        )
                    answer, extra = json.dumps(payload).encode(), {}
                try:
                    self.send_response(status)
                    for name, value in {**fake._rate_headers(), **extra}.items():
                        self.send_header(name, value)
                    self.send_header("content-type", "application/json;charset=utf-8")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._serve(Handler)

    # --- what tests use -----------------------------------------------------------------------------------

    def add_token(self, token: str, scopes: Iterable[str] = ALL_SCOPES) -> None:
        with self._lock:
            self.tokens[token] = frozenset(scopes)

    def expire(self, token: str) -> None:
        with self._lock:
            self.expired.add(token)

    def fail_next(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def contact(self, email: str) -> Contact | None:
        return self._find("email", email)

    # --- the API ------------------------------------------------------------------------------------------

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        route = {
            ("POST", "/crm/v3/objects/contacts/batch/upsert"): (WRITE, self._upsert),
            ("GET", "/crm/v3/objects/contacts"): (READ, self._list),
        }.get((method, path))
        if route is None:
            return 404, _error("NOT_FOUND", f"Unable to route {method} request with path {path}")
        scope, handler = route
        denied = self._authenticate(headers, scope)
        if denied:
            return denied
        return handler(query, body)

    def _authenticate(self, headers: dict[str, str], scope: str) -> tuple[int, dict[str, Any]] | None:
        auth = headers.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if token in self.expired:
            return 401, _error(
                "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired 2 second(s) ago."
            )
        if token not in self.tokens:
            message = (
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
            )
            return 401, _error("INVALID_AUTHENTICATION", message)
        if scope not in self.tokens[token]:
            error = _error(
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call. Read more about "
                "required scopes here: https://developers.hubspot.com/scopes.",
            )
            required = {"requiredGranularScopes": [scope]}
            error["errors"] = [
                {"message": "One or more of the following scopes are required.", "context": required}
            ]
            error["links"] = {"scopes": "https://developers.hubspot.com/scopes"}
            return 403, error
        return None

    def _list(self, query: dict[str, list[str]], body: bytes) -> tuple[int, dict[str, Any]]:
        limit = int((query.get("limit") or ["10"])[0])
        contacts = list(self.contacts.values())
        page: dict[str, Any] = {"results": [self._record(c, new=False) for c in contacts[:limit]]}
        if len(contacts) > limit:
            after = contacts[limit].id
            page["paging"] = {
                "next": {"after": after, "link": f"{self.url}/crm/v3/objects/contacts?after={after}"}
            }
        return 200, page

    def _upsert(self, query: dict[str, list[str]], body: bytes) -> tuple[int, dict[str, Any]]:
        started = _now()
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, _error("VALIDATION_ERROR", "Invalid input JSON on line 1, column 1")
        inputs = payload.get("inputs") if isinstance(payload, dict) else None
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            return 400, _error("VALIDATION_ERROR", "Invalid input JSON: inputs must be a list of objects")
        if len(inputs) > 100:
            return 400, _error("VALIDATION_ERROR", f"Batch size is limited to 100 inputs; got {len(inputs)}")
        for item in inputs:
            if item.get("idProperty") not in self.unique_properties:
                return 400, _error(
                    "VALIDATION_ERROR",
                    f"Property {item.get('idProperty')!r} is not a unique identifier property",
                )
        ids = [str(item.get("id") or "") for item in inputs]
        seen = [i.casefold() for i in ids]
        duplicates = sorted({i for i in ids if seen.count(i.casefold()) > 1})
        if duplicates:
            message = f"Duplicate IDs found in batch input: [{', '.join(duplicates)}]. IDs must be unique"
            return 400, _error("VALIDATION_ERROR", message)
        problems = {index: self._problems(item) for index, item in enumerate(inputs)}
        problems = {index: found for index, found in problems.items() if found}
        traced = all(
            isinstance(item.get("objectWriteTraceId"), str) and item["objectWriteTraceId"] for item in inputs
        )
        multi_status = self.multi_status and traced
        if problems and not multi_status:  # the whole batch fails and nothing is written
            first = problems[min(problems)]
            return 400, _error("VALIDATION_ERROR", "Property values were not valid: " + json.dumps(first))
        results = []
        for index, item in enumerate(inputs):
            if index in problems:
                continue
            contact, new = self._write(item["idProperty"], ids[index], item.get("properties") or {})
            record = self._record(contact, new)
            if self.echo_trace_ids and item.get("objectWriteTraceId"):
                record["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(record)
        if self.reverse_results:
            results.reverse()
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if problems:
            answer["numErrors"] = len(problems)
            answer["errors"] = [
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid: " + json.dumps(found),
                    "context": {"objectWriteTraceId": [inputs[index]["objectWriteTraceId"]]}
                    if self.error_context
                    else {},
                }
                for index, found in problems.items()
            ]
        answer.update(startedAt=started, completedAt=_now())
        return (207 if problems else 200), answer

    def _problems(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """HubSpot's property validation entries for one input (empty when it is fine)."""
        found = []
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        emails = [str(props["email"])] if "email" in props else []
        if item.get("idProperty") == "email":
            emails.append(str(item.get("id") or ""))
        for email in dict.fromkeys(emails):
            if not _EMAIL.fullmatch(email):
                found.append(_invalid("INVALID_EMAIL", "email", f"Email address {email} is invalid"))
        for name in props:
            if name not in self.properties:
                found.append(_invalid("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist'))
        return found

    def _write(self, id_property: str, id_value: str, props: dict[str, Any]) -> tuple[Contact, bool]:
        now = _now()
        values = {name: "" if value is None else str(value) for name, value in props.items()}
        contact = self._find(id_property, id_value)
        if contact is not None:
            contact.properties.update(values)
            contact.updated_at = now
            return contact, False
        contact = Contact(str(self._next_id), {id_property: id_value, **values}, now, now)
        self._next_id += 1
        self.contacts[contact.id] = contact
        return contact, True

    def _find(self, prop: str, value: str) -> Contact | None:
        for contact in self.contacts.values():
            if contact.properties.get(prop, "").casefold() == value.casefold():
                return contact
        return None

    def _record(self, contact: Contact, new: bool) -> dict[str, Any]:
        properties = {
            **contact.properties,
            "createdate": contact.created_at,
            "hs_object_id": contact.id,
            "lastmodifieddate": contact.updated_at,
        }
        return {
            "id": contact.id,
            "properties": properties,
            "createdAt": contact.created_at,
            "updatedAt": contact.updated_at,
            "archived": False,
            "new": new,
        }

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(RATE_LIMIT_MAX),
            "X-HubSpot-RateLimit-Remaining": str(max(RATE_LIMIT_MAX - len(self.received), 0)),
            "X-HubSpot-Correlation-Id": str(uuid.uuid4()),
        }


def _error(category: str, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}


def _invalid(code: str, name: str, message: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
        "portalId": PORTAL_ID,
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
