"""A fake Marketo instance on 127.0.0.1 (random port), faithful to the documented REST API.

What it implements, as Adobe's Marketo developer docs describe it:

- Identity: ``GET|POST /identity/oauth/token?grant_type=client_credentials&client_id=…&client_secret=…`` →
  ``{access_token, token_type: "bearer", expires_in, scope}``; HTTP 401 for bad credentials. Asked again
  before the token expires, it returns the same token and its remaining life.
- Every REST call needs the token (``Authorization: Bearer``, or the deprecated ``access_token`` query
  parameter); a missing, unknown or expired one is answered HTTP 200 with ``success: false`` and 600, 601 or
  602.
- Sync Leads (``POST /rest/v1/leads.json``): createOrUpdate, createOnly, updateOnly on ``lookupField``
  (default email, matched case-insensitively for email), up to 300 records; a result per record in input
  order: created/updated with the id, or skipped with reasons — 1006 for a field the instance lacks, 1003
  for a value its type refuses, 1004/1005 for the update-only/create-only cases, 1007 when several leads
  match.
- Describe Leads (``GET /rest/v1/leads/describe.json``).
- Sync Program Member Status (``POST /rest/v1/programs/{id}/members/status.json``): statuses in step order;
  1025 for a status the program lacks, 1004 for an unknown lead, 1037 when the lead is already in or past it.
- A fault script for the next requests: 606 or any other code inside HTTP 200, an HTTP status, a slow
  answer, malformed JSON.

Every request is recorded in `requests`.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.local_server import LocalServer, QuietHandler

# REST name → (display name, data type), a few of a real instance's standard fields.
STANDARD_FIELDS = {
    "email": ("Email Address", "email"),
    "firstName": ("First Name", "string"),
    "lastName": ("Last Name", "string"),
    "company": ("Company Name", "string"),
    "title": ("Job Title", "string"),
    "phone": ("Phone Number", "phone"),
    "country": ("Country", "string"),
    "numberOfEmployees": ("Num Employees", "integer"),
    "unsubscribed": ("Unsubscribed", "boolean"),
    "externalId__c": ("External Id", "string"),
}
PROGRAM_STATUSES = ["Not in Program", "Invited", "Registered", "Attended"]  # an event channel, in step order
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def raw(self) -> str:
        """Everything that was sent, as text: to check where a secret travelled."""
        return f"{self.method} {self.path}?{urllib.parse.urlencode(self.query)} {self.headers} {self.body!r}"

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    # "error" (a code inside HTTP 200), "http" (a status), "slow" (a delay, then the answer), "malformed"
    kind: str
    code: str = ""
    message: str = ""
    status: int = 200
    delay: float = 0.0
    path: str = "/rest/"  # the fault hits the next request whose path starts with this


@dataclass
class Lead:
    id: int
    fields: dict[str, Any]
    partition: str = "Default"
    programs: dict[int, str] = field(default_factory=dict)  # program id → status name


class FakeMarketo(LocalServer):
    def __init__(self, client_id: str = "lg-client-id", client_secret: str = "lg-client-secret-8c1f") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = 3600
        self.requests: list[Request] = []
        self.fields = dict(STANDARD_FIELDS)
        self.partitions = {"Default"}
        self.programs: dict[int, list[str]] = {1042: list(PROGRAM_STATUSES)}
        self.leads: dict[int, Lead] = {}
        self.issued: list[str] = []  # every token handed out, for the redaction checks
        self._tokens: dict[str, float] = {}  # token → when it expires (time.monotonic())
        self._revoked: set[str] = set()
        self._ids = itertools.count(318_581)
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                request = Request(
                    self.command,
                    url.path,
                    dict(urllib.parse.parse_qsl(url.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                status, payload, delay = fake._answer(request)
                time.sleep(delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json;charset=UTF-8")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = _handle

        self._serve(Handler)

    # --- for tests ------------------------------------------------------------------------------------------

    def fail_next(self, *faults: Fault, times: int = 1) -> None:
        """Answer the next matching requests with these faults (each ``times`` times), then normally again."""
        with self._lock:
            for fault in faults:
                self._faults.extend([fault] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far is past its life: the next call with one is answered 602."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes unknown: answered 601."""
        with self._lock:
            self._revoked.update(self._tokens)
            self._tokens.clear()

    def find(self, **values: Any) -> list[Lead]:
        return [
            lead for lead in self.leads.values() if all(lead.fields.get(k) == v for k, v in values.items())
        ]

    def calls(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # --- the API --------------------------------------------------------------------------------------------

    def _answer(self, request: Request) -> tuple[int, Any, float]:
        with self._lock:
            self.requests.append(request)
            fault = None
            for candidate in self._faults:
                if request.path.startswith(candidate.path):
                    fault = candidate
                    self._faults.remove(candidate)
                    break
            if fault is not None and fault.kind != "slow":
                if fault.kind == "http":
                    return fault.status, {"message": fault.message or "Service Unavailable"}, 0.0
                if fault.kind == "malformed":
                    return 200, b'{"requestId":"1f2e#18c0a","success":tru', 0.0
                return 200, _failure(fault.code, fault.message), 0.0
            status, payload = self._route(request)
            return status, payload, fault.delay if fault else 0.0

    def _route(self, request: Request) -> tuple[int, Any]:
        if request.path == "/identity/oauth/token":
            return self._identity(request)
        if not request.path.startswith("/rest/"):
            return 404, {"message": "not found"}
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or request.query.get("access_token", "")
        if not token:
            return 200, _failure("600", "Access token not specified")
        if token in self._revoked or token not in self._tokens:
            return 200, _failure("601", "Access token invalid")
        if self._tokens[token] <= time.monotonic():
            return 200, _failure("602", "Access token expired")

        program = re.fullmatch(r"/rest/v1/programs/(\d+)/members/status\.json", request.path)
        if request.path == "/rest/v1/leads.json" and request.method == "POST":
            return 200, self._sync_leads(request)
        if request.path == "/rest/v1/leads.json":
            return 200, _failure("605", "Request method 'GET' not supported")
        if request.path == "/rest/v1/leads/describe.json" and request.method == "GET":
            return 200, self._describe()
        if program and request.method == "POST":
            return 200, self._program_status(int(program.group(1)), request)
        return 200, _failure("610", "Requested resource not found")

    def _identity(self, request: Request) -> tuple[int, Any]:
        query = request.query
        if query.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}
        if query.get("client_id") != self.client_id or query.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Bad client credentials"}
        now = time.monotonic()
        alive = [t for t, until in self._tokens.items() if until > now]
        if alive:
            token = alive[-1]
        else:
            token = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}:ab"
            self._tokens[token] = now + self.token_lifetime
            self.issued.append(token)
        expires_in = max(int(self._tokens[token] - now), 0)
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "api@x.com",
        }

    def _describe(self) -> dict[str, Any]:
        result = [
            {"id": i, "displayName": label, "dataType": kind, "rest": {"name": name, "readOnly": False}}
            for i, (name, (label, kind)) in enumerate(self.fields.items(), start=1)
        ]
        return _success(result)

    def _sync_leads(self, request: Request) -> dict[str, Any]:
        if "json" not in request.headers.get("content-type", ""):
            return _failure("612", "Invalid Content Type")
        try:
            payload = request.json()
        except ValueError:
            return _failure("609", "Invalid JSON")
        if not isinstance(payload, dict):
            return _failure("609", "Invalid JSON")
        action = payload.get("action", "createOrUpdate")
        lookup = payload.get("lookupField", "email")
        partition = payload.get("partitionName", "Default")
        records = payload.get("input")
        if action not in ("createOrUpdate", "createOnly", "updateOnly", "createDuplicate"):
            return _failure("1003", f"Invalid action '{action}'")
        if not isinstance(records, list) or not records:
            return _failure("701", "input cannot be blank")
        if len(records) > 300:
            return _failure("1003", "Exceeded maximum batch size of 300")
        return _success([self._sync_one(action, lookup, partition, r) for r in records])

    def _sync_one(self, action: str, lookup: str, partition: str, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict):
            return _skipped("1003", "Invalid data")
        if lookup not in self.fields or lookup in ("firstName", "lastName"):
            return _skipped("1011", f"Field '{lookup}' not supported")
        if partition not in self.partitions:
            return _skipped("1008", f"Access denied to partition '{partition}'")
        for name, value in record.items():
            if name not in self.fields:
                return _skipped("1006", f"Field '{name}' not found")
            problem = _invalid(self.fields[name][1], value)
            if problem:
                return _skipped("1003", f"Invalid value for field '{name}': {problem}")
        if "id" in record and action != "updateOnly":
            return _skipped("1003", "Invalid data")
        key = record.get(lookup)
        if key in (None, ""):
            return _skipped("1003", f"Value for lookup field '{lookup}' is missing")
        matches = [lead for lead in self.leads.values() if _same(lookup, lead.fields.get(lookup), key)]
        if len(matches) > 1 and action != "createDuplicate":
            return _skipped("1007", "Multiple leads match the lookup criteria")
        if matches and action == "createOnly":
            return _skipped("1005", "Lead already exists")
        if not matches and action == "updateOnly":
            return _skipped("1004", "Lead not found")
        if matches and action != "createDuplicate":
            lead = matches[0]
            if lead.partition != partition:
                return _skipped("1010", "Partition update not allowed")
            lead.fields.update(record)
            return {"id": lead.id, "status": "updated"}
        lead = Lead(next(self._ids), dict(record), partition)
        self.leads[lead.id] = lead
        return {"id": lead.id, "status": "created"}

    def _program_status(self, program_id: int, request: Request) -> dict[str, Any]:
        try:
            payload = request.json()
        except ValueError:
            return _failure("609", "Invalid JSON")
        statuses = self.programs.get(program_id)
        if statuses is None:
            return _failure("1013", "Program not found")
        status = payload.get("statusName")
        records = payload.get("input")
        if not status:
            return _failure("701", "statusName cannot be blank")
        if not isinstance(records, list) or not records:
            return _failure("701", "input cannot be blank")
        result: list[dict[str, Any]] = []
        for seq, record in enumerate(records):
            lead = self.leads.get(record.get("leadId")) if isinstance(record, dict) else None
            if status not in statuses:
                result.append({"seq": seq, **_skipped("1025", f"Program status '{status}' not found")})
            elif lead is None:
                result.append({"seq": seq, **_skipped("1004", "Lead not found")})
            elif statuses.index(lead.programs.get(program_id, statuses[0])) >= statuses.index(status):
                past = "Lead skipped because it is already in or past this status"
                result.append({"seq": seq, **_skipped("1037", past)})
            else:
                created = program_id not in lead.programs
                lead.programs[program_id] = status
                result.append({"seq": seq, "status": "created" if created else "updated", "leadId": lead.id})
        return _success(result)


def _invalid(kind: str, value: Any) -> str:
    """Why Marketo would refuse this value for a field of this type ("" when it takes it)."""
    if value is None:
        return ""
    if kind == "email" and not (isinstance(value, str) and _EMAIL.fullmatch(value)):
        return "not an email address"
    if kind == "integer" and not (
        isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
    ):
        return "not an integer"
    if kind == "boolean" and value not in (True, False, "true", "false", 0, 1):
        return "not a boolean"
    return ""


def _same(lookup: str, stored: Any, given: Any) -> bool:
    if stored is None:
        return False
    if lookup == "email":
        return str(stored).lower() == str(given).lower()
    return str(stored) == str(given)


def _request_id() -> str:
    return f"{secrets.token_hex(2)}#{secrets.token_hex(5)}"


def _success(result: list[dict[str, Any]]) -> dict[str, Any]:
    return {"requestId": _request_id(), "result": result, "success": True}


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"requestId": _request_id(), "success": False, "errors": [{"code": code, "message": message}]}


def _skipped(code: str, message: str) -> dict[str, Any]:
    return {"status": "skipped", "reasons": [{"code": code, "message": message}]}
