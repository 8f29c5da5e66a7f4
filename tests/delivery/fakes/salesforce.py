"""A fake Salesforce org on 127.0.0.1 (random port) speaking the parts of the REST API leadgate uses.

- ``POST /services/oauth2/token``: the OAuth 2.0 client credentials flow of one connected app. Answers like
  Salesforce: ``{"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}``, or 400 with
  ``{"error", "error_description"}`` (``invalid_client_id``, ``invalid_client``, ``invalid_grant`` when the
  app has no Run As user, ``unsupported_grant_type``). The instance URL is the fake itself.
- ``GET /services/data/vXX.X/sobjects/{object}/describe``: the object's fields (``name``, ``type``,
  ``length``, ``externalId``, ``unique``, ``createable``, ``updateable``).
- ``PATCH /services/data/vXX.X/composite/sobjects/{object}/{externalIdField}``: the sObject Collections
  upsert. Records are kept by external id: a second upsert of the same value updates (``created: false``).
  As Salesforce does, the whole request is parsed first, so a field the object does not have fails it with
  400 ``[{"message": "No such column …", "errorCode": "INVALID_FIELD"}]``; per-record problems (duplicate
  rule, required field, too long, bad email, read-only field, scripted errors) come back in the record's
  ``errors`` with HTTP 200.
- Any API call without a valid token: 401 ``[{"message": "Session expired or invalid", "errorCode":
  "INVALID_SESSION_ID"}]``. `expire_tokens` invalidates every token issued so far.
- `fault` scripts the next requests: a status (503, 429 with Retry-After), a slow answer, malformed JSON,
  or ``REQUEST_LIMIT_EXCEEDED`` (403 with a JSON array, as Salesforce sends it).

Every request is recorded in `requests`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.local_server import LocalServer, QuietHandler

CLIENT_ID = "3MVG9fake.consumer.key"
CLIENT_SECRET = "F4KE0C0NSUMERSECRET0123456789ABCDEF"
ORG_ID = "00D5g00000FAKEORG"
USER_ID = "0055g00000RUNASUSR"


def lead_fields() -> dict[str, dict[str, Any]]:
    """The fields of the fake Lead object, as describe reports them."""

    def text(name: str, length: int = 255, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "type": "string",
            "length": length,
            "externalId": False,
            "unique": False,
            "createable": True,
            "updateable": True,
            "nillable": True,
            **extra,
        }

    fields = [
        text("Id", 18, type="id", createable=False, updateable=False, nillable=False),
        text("FirstName", 40),
        text("LastName", 80, nillable=False),
        text("Company", 255, nillable=False),
        text("Email", 80, type="email"),
        text("Phone", 40, type="phone"),
        text("Country", 80),
        text("LeadSource", 255, type="picklist"),
        text("CreatedDate", 0, type="datetime", createable=False, updateable=False),
        text("LeadGate_Lead_ID__c", 64, externalId=True, unique=True),
        text("Job_Level__c", 40),
        text("Event_Date__c", 0, type="date"),
    ]
    return {f["name"]: f for f in fields}


@dataclass
class Fault:
    status: int = 503
    body: bytes = b'[{"errorCode":"SERVER_UNAVAILABLE","message":"Server temporarily unavailable"}]'
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    delay: float = 0.0  # seconds before answering


def unavailable() -> Fault:
    return Fault()


def too_many(retry_after: int = 30) -> Fault:
    body = b'[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"Too many requests"}]'
    return Fault(429, body, {"content-type": "application/json", "retry-after": str(retry_after)})


def request_limit() -> Fault:
    body = b'[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]'
    return Fault(403, body)


def malformed() -> Fault:
    return Fault(200, b'[{"id":"00Q5g00000AbCdE","success":tr')


def slow(seconds: float) -> Fault:
    """Answers as usual, after a delay (status 0 means: no fault but the delay)."""
    return Fault(0, b"", {}, delay=seconds)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int = 0


@dataclass
class Record:
    id: str
    values: dict[str, Any]


class FakeSalesforce(LocalServer):
    def __init__(self) -> None:
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.run_as_user = True  # the connected app has a Run As user for the client credentials flow
        self.objects: dict[str, dict[str, dict[str, Any]]] = {"Lead": lead_fields()}
        self.records: dict[str, dict[str, Record]] = {"Lead": {}}  # object → external id value → record
        self.duplicate_rule_on_email = True  # a blocking duplicate rule: one Lead per email address
        self.record_errors: dict[str, deque[dict[str, Any]]] = {}  # external id value → next errors
        self.tokens_issued: list[str] = []
        self.requests: list[Request] = []
        self._valid_tokens: set[str] = set()
        self._faults: deque[tuple[str, Fault]] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                record = Request(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with fake._lock:
                    fake.requests.append(record)
                    fault = fake._next_fault(self.path)
                    if fault is not None and fault.status:
                        status, headers, answer = fault.status, fault.headers, fault.body
                    else:
                        status, headers, answer = fake._answer(record)
                    record.status = status
                if fault is not None:
                    time.sleep(fault.delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = do_PATCH = _handle

        self._serve(Handler)

    # --- what tests use ---------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far becomes invalid (a session timeout, a revoked app)."""
        with self._lock:
            self._valid_tokens.clear()

    def fault(self, *faults: Fault, on: str = "/services/data/") -> None:
        """The next requests whose path contains ``on`` get these answers, one each, in order."""
        with self._lock:
            self._faults.extend((on, f) for f in faults)

    def fail_record(
        self, external_id: str, status_code: str, message: str, fields: list[str] | None = None
    ) -> None:
        """The next upsert of this record fails with this error (then it saves as usual)."""
        error = {"statusCode": status_code, "message": message, "fields": fields or []}
        with self._lock:
            self.record_errors.setdefault(external_id, deque()).append(error)

    def lead(self, external_id: str) -> Record | None:
        return self.records["Lead"].get(external_id)

    def api_requests(self, contains: str = "") -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/services/data/") and contains in r.path]

    def token_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/services/oauth2/token"]

    # --- the API ----------------------------------------------------------------------------------------

    def _next_fault(self, path: str) -> Fault | None:
        for i, (on, fault) in enumerate(self._faults):
            if on in path:
                del self._faults[i]
                return fault
        return None

    def _answer(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        path = urllib.parse.urlsplit(request.path).path
        if path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request)
        if not path.startswith("/services/data/"):
            return _json(
                404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer ") or authorization[7:] not in self._valid_tokens:
            return _json(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        parts = path.split("/")[3:]  # vXX.X, …
        if len(parts) == 4 and parts[1] == "sobjects" and parts[3] == "describe" and request.method == "GET":
            return self._describe(parts[2])
        if len(parts) == 5 and parts[1:3] == ["composite", "sobjects"] and request.method == "PATCH":
            return self._upsert(parts[0], parts[3], parts[4], request.body)
        return _json(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

    def _token(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8")))
        if form.get("grant_type") != "client_credentials":
            return _json(
                400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
            )
        if form.get("client_id") != self.client_id:
            return _json(
                400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}
            )
        if form.get("client_secret") != self.client_secret:
            return _json(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        if not self.run_as_user:
            return _json(
                400, {"error": "invalid_grant", "error_description": "no client credentials user enabled"}
            )
        token = f"{ORG_ID}!AR{secrets.token_urlsafe(48)}"
        self.tokens_issued.append(token)
        self._valid_tokens.add(token)
        return _json(
            200,
            {
                "access_token": token,
                "signature": secrets.token_urlsafe(32),
                "token_format": "opaque",
                "instance_url": self.url,
                "id": f"https://login.salesforce.com/id/{ORG_ID}/{USER_ID}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "api_instance_url": "https://api.salesforce.com",
            },
        )

    def _describe(self, name: str) -> tuple[int, dict[str, str], bytes]:
        fields = self.objects.get(name)
        if fields is None:
            return _json(
                404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        return _json(
            200, {"name": name, "createable": True, "updateable": True, "fields": list(fields.values())}
        )

    def _upsert(
        self, version: str, name: str, id_field: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        fields = self.objects.get(name)
        if fields is None:
            return _json(
                404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        key = _field(fields, id_field)
        if key is None:
            message = f"Provided external ID field does not exist or is not accessible: {id_field}"
            return _json(404, [{"errorCode": "NOT_FOUND", "message": message}])
        if not fields[key]["externalId"]:
            message = f"Field {key} is not an external id field or indexed field"
            return _json(400, [{"errorCode": "INVALID_FIELD", "message": message}])
        try:
            payload = json.loads(body)
            records = payload["records"]
            assert isinstance(records, list) and all(isinstance(r, dict) for r in records)
        except (ValueError, KeyError, TypeError, AssertionError):
            return _json(400, [{"errorCode": "JSON_PARSER_ERROR", "message": "Unexpected request body"}])
        if len(records) > 200:
            message = "record limit reached. cannot submit more than 200 records into this call"
            return _json(400, [{"errorCode": "EXCEEDED_ID_LIMIT", "message": message}])
        for record in records:  # the whole request is parsed before any record is saved
            for column, value in record.items():
                if column == "attributes":
                    continue
                column = _field(fields, column) or column
                if column not in fields:
                    message = f"No such column '{column}' on sobject of type {name}"
                    return _json(400, [{"errorCode": "INVALID_FIELD", "message": message}])
                if fields[column]["type"] == "date" and value is not None and not _is_date(value):
                    message = (
                        f"Cannot deserialize instance of date from VALUE_STRING value {value} or request "
                        "may be missing a required field at [line:1, column:120]"
                    )
                    return _json(400, [{"errorCode": "JSON_PARSER_ERROR", "message": message}])
        return _json(200, [self._save(version, name, fields, key, record) for record in records])

    def _save(
        self, version: str, name: str, fields: dict[str, dict[str, Any]], key: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        values = {
            _field(fields, column) or column: value
            for column, value in record.items()
            if column != "attributes"
        }
        external_id = values.get(key)
        if (record.get("attributes") or {}).get("type") != name:
            return _failed("INVALID_TYPE", f"Record type must be {name}", [])
        if not external_id:
            return _failed("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{key}]", [key])
        scripted = self.record_errors.get(str(external_id))
        if scripted:
            error = scripted.popleft()
            return _failed(error["statusCode"], error["message"], error["fields"])
        store = self.records[name]
        existing = store.get(str(external_id))
        errors = []
        readonly = [c for c in values if not fields[c]["createable" if existing is None else "updateable"]]
        if readonly:
            message = (
                f"Unable to create/update fields: {', '.join(readonly)}. Please check the security settings "
                "of this field and verify that it is read/write for your profile or permission set."
            )
            errors.append(_error("INVALID_FIELD_FOR_INSERT_UPDATE", message, readonly))
        merged = {**(existing.values if existing else {}), **values}
        missing = [
            c for c in fields if not fields[c]["nillable"] and fields[c]["createable"] and not merged.get(c)
        ]
        if missing:
            message = f"Required fields are missing: [{', '.join(missing)}]"
            errors.append(_error("REQUIRED_FIELD_MISSING", message, missing))
        for column, value in values.items():
            spec = fields[column]
            if spec["type"] == "email" and value and "@" not in str(value):
                errors.append(
                    _error("INVALID_EMAIL_ADDRESS", f"{column}: invalid email address: {value}", [column])
                )
            elif spec["length"] and isinstance(value, str) and len(value) > spec["length"]:
                message = f"{column}: data value too large: {value[:40]} (max length={spec['length']})"
                errors.append(_error("STRING_TOO_LONG", message, [column]))
        if errors:
            return {"success": False, "errors": errors}
        if self.duplicate_rule_on_email and merged.get("Email"):
            twins = [
                other
                for other_key, other in store.items()
                if other_key != str(external_id)
                and str(other.values.get("Email", "")).lower() == str(merged["Email"]).lower()
            ]
            if twins:
                return {"success": False, "errors": [_duplicates(version, name, twins)]}
        if existing is not None:
            existing.values = merged
            return {"id": existing.id, "success": True, "errors": [], "created": False}
        new = Record(_new_id(name), merged)
        store[str(external_id)] = new
        return {"id": new.id, "success": True, "errors": [], "created": True}


def _field(fields: dict[str, dict[str, Any]], name: str) -> str | None:
    """The field's API name as describe spells it (Salesforce matches names without regard to case)."""
    return next((f for f in fields if f.lower() == name.lower()), None)


def _error(code: str, message: str, fields: list[str]) -> dict[str, Any]:
    return {"statusCode": code, "message": message, "fields": fields}


def _failed(code: str, message: str, fields: list[str]) -> dict[str, Any]:
    return {"success": False, "errors": [_error(code, message, fields)]}


def _duplicates(version: str, name: str, twins: list[Record]) -> dict[str, Any]:
    """A DuplicateError: the duplicate rule, and the records its matching rule found."""
    message = "Use one of these records?"
    return {
        "statusCode": "DUPLICATES_DETECTED",
        "message": message,
        "fields": [],
        "duplicateResult": {
            "allowSave": False,
            "duplicateRule": "Standard_Rule_for_Leads_with_Duplicate_Leads",
            "duplicateRuleEntityType": name,
            "errorMessage": message,
            "matchResults": [
                {
                    "entityType": name,
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": name,
                                    "url": f"/services/data/{version}/sobjects/{name}/{r.id}",
                                },
                                "Id": r.id,
                            },
                        }
                        for r in twins
                    ],
                    "rule": "Standard_Lead_Match_Rule_v1_0",
                    "size": len(twins),
                    "success": True,
                }
            ],
        },
    }


def _is_date(value: Any) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _new_id(name: str) -> str:
    prefix = "00Q" if name == "Lead" else "a0X"
    return prefix + secrets.token_hex(6).upper()[:12]


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json;charset=UTF-8"}, json.dumps(payload).encode("utf-8")
