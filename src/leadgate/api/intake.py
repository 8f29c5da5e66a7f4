"""``POST /api/v1/sources/{slug}/leads``: leads in, decisions out (SPEC §6 "HTTP")."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import Router

from leadgate.leads.intake import IdempotencyKeyReused, Submission, receive_leads
from leadgate.lib import jsontext
from leadgate.lib.text import storable
from leadgate.sources.services import source_by_slug

from .auth import actor_for, caller, can_post_to, key_auth
from .parser import parse_json
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .schemas import LeadOutcome

router = Router(tags=["intake"])

MAX_LEADS_PER_REQUEST = 1000
MAX_EXTERNAL_ID = 200
_SCALARS = frozenset({str, int, float, bool, type(None)})

_LEAD_SCHEMA = {
    "type": "object",
    "description": "Field keys, labels or aliases of the source's fields, and optionally `external_id`.",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    "example": {"email": "ann.lee@acme-corp.com", "first_name": "Ann", "job_level": "VP", "opt_in": True},
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _LEAD_SCHEMA,
                        {
                            "type": "array",
                            "items": _LEAD_SCHEMA,
                            "minItems": 1,
                            "maxItems": MAX_LEADS_PER_REQUEST,
                        },
                    ]
                }
            },
            "application/x-www-form-urlencoded": {"schema": _LEAD_SCHEMA},
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Any unique string up to 255 characters; a retry with the same key gets the "
            "first answer again and creates nothing. Kept for at least 24 hours.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ],
}


@router.post(
    "/sources/{slug}/leads",
    auth=key_auth,
    summary="Post one lead or an array of up to 1,000",
    response={
        201: LeadOutcome | list[LeadOutcome],
        404: ProblemSchema,
        413: ProblemSchema,
        415: ProblemSchema,
        422: ProblemSchema,
        **AUTH_ERRORS,
    },
    openapi_extra=_BODY,
)
def post_leads(request: HttpRequest, slug: str) -> HttpResponse:
    """Store and decide leads synchronously; each is answered with its LeadID, status, disposition code,
    custom reason and problems. Rejected leads are still 201: they were received and decided."""
    key = caller(request)
    source = source_by_slug(slug)
    if source is None or not can_post_to(key, source):
        if source is not None and key.kind != key.Kind.INGESTION:
            raise Problem(403, "role_not_allowed", "Posting leads needs the manager role or higher.")
        raise Problem(404, "unknown_source", f'No source "{slug}" for this key.')
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if len(idempotency_key) > 255:
        raise Problem(422, "invalid_idempotency_key", "Idempotency-Key must be at most 255 characters.")
    body = _body(request)
    submissions, single = _parse(request, body)
    digest = hashlib.sha256(
        b"\n".join([slug.encode(), (request.content_type or "").encode(), body])
    ).hexdigest()
    try:
        outcomes, replayed = receive_leads(
            source,
            submissions,
            actor=actor_for(key),
            api_key=key,
            idempotency_key=idempotency_key,
            request_digest=digest,
        )
    except IdempotencyKeyReused:
        raise Problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request; use a new key for new leads.",
        ) from None
    answer = jsontext.dumps_bytes(outcomes[0] if single else outcomes)
    response = HttpResponse(answer, status=201, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _body(request: HttpRequest) -> bytes:
    limit = settings.LEADGATE_API_MAX_BODY
    too_big = Problem(413, "body_too_large", f"The request body is over {limit // (1024 * 1024)} MB.")
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise too_big
    except ValueError:
        raise Problem(400, "bad_content_length", "The Content-Length header is not a number.") from None
    try:
        return request.body
    except RequestDataTooBig:
        raise too_big from None


def _parse(request: HttpRequest, body: bytes) -> tuple[list[Submission], bool]:
    """The submissions of the body, and whether it held one lead (answered with one object)."""
    content_type = (request.content_type or "").lower()
    data: Any
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = parse_json(body)
        except (ValueError, RecursionError) as exc:
            raise Problem(422, "malformed_json", f"The body is not valid JSON: {exc}"[:300]) from None
    elif content_type == "application/x-www-form-urlencoded":
        # Repeated keys (checkboxes of a multi picklist) are joined the way a spreadsheet cell holds them.
        data = storable({k: ";".join(v) if len(v) > 1 else v[0] for k, v in request.POST.lists()})
    else:
        raise Problem(
            415,
            "unsupported_media_type",
            "Send application/json (one lead or an array) or application/x-www-form-urlencoded (one lead).",
        )
    single = isinstance(data, dict)
    items = [data] if single else data
    if not isinstance(items, list):
        raise Problem(422, "not_a_lead", "The body must be a lead object or an array of lead objects.")
    if not items:
        raise Problem(422, "no_leads", "The array is empty: send at least one lead.")
    if len(items) > MAX_LEADS_PER_REQUEST:
        raise Problem(
            422,
            "too_many_leads",
            f"{len(items):,} leads in one request; send at most {MAX_LEADS_PER_REQUEST:,} per request.",
        )
    submissions = []
    errors = []
    for i, item in enumerate(items):
        where = "" if single else f"/{i}"
        if not isinstance(item, dict):
            errors.append({"pointer": where or "/", "message": "must be an object of field values"})
            continue
        values, external_id = item, None
        if "external_id" in item:
            values = dict(item)
            external_id = values.pop("external_id")
        if external_id is not None and (
            isinstance(external_id, bool)
            or not isinstance(external_id, str | int)
            or len(str(external_id)) > MAX_EXTERNAL_ID
        ):
            errors.append(
                {"pointer": f"{where}/external_id", "message": "must be text of at most 200 characters"}
            )
        # Parsed JSON holds exactly these classes: a set lookup per value instead of isinstance calls.
        if not all(value.__class__ in _SCALARS for value in values.values()):
            errors.extend(
                {"pointer": f"{where}/{name}", "message": "must be text, a number or true/false"}
                for name, value in values.items()
                if value.__class__ not in _SCALARS
            )
        submissions.append(Submission(values, str(external_id).strip() if external_id is not None else ""))
    if errors:
        first = errors[0]
        raise Problem(
            422,
            "invalid_lead",
            f"{first['pointer']}: {first['message']}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            errors=errors,
        )
    return submissions, single
