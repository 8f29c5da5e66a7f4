"""Sources: list, read, pause and resume, their fields and summary, definition files, reprocessing."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from leadgate.accounts.models import Role
from leadgate.leads.models import Lead
from leadgate.leads.services import reprocess_matching, summary
from leadgate.sources.definition_file import DefinitionError, apply_definition, export_definition
from leadgate.sources.models import Source
from leadgate.sources.services import rotate_callback_secret, set_source_status

from .auth import actor_for, key_auth, require_role
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .schemas import ApplyOut, FieldOut, ReprocessIn, ReprocessOut, SourceOut, SummaryOut

router = Router(tags=["sources"])
NOT_FOUND = {404: ProblemSchema, **AUTH_ERRORS}
STATUSES = ("processing", "accepted", "rejected", "in_review", "failed")


def get_source(slug: str) -> Source:
    source = Source.objects.filter(slug=slug).first()
    if source is None:
        raise Problem(404, "unknown_source", f'No source "{slug}".')
    return source


def _source_out(source: Source, counts: dict[str, int] | None = None) -> dict[str, Any]:
    if counts is None:
        rows = Lead.objects.filter(source=source).values("status").annotate(n=Count("id"))
        counts = {row["status"]: row["n"] for row in rows}
    return {
        "slug": source.slug,
        "name": source.name,
        "kind": source.kind,
        "status": source.status,
        "starts_on": source.starts_on,
        "ends_on": source.ends_on,
        "timezone": source.timezone,
        "allocation": source.allocation,
        "review": source.review,
        "form_enabled": source.form_enabled,
        "form_url": f"/f/{source.slug}" if source.form_enabled else None,
        "callback_url": source.callback_url,
        "counts": {"received": sum(counts.values()), **{s: counts.get(s, 0) for s in STATUSES}},
    }


@router.get("/sources", auth=key_auth, response={200: list[SourceOut], **AUTH_ERRORS})
def list_sources(request: HttpRequest) -> list[dict[str, Any]]:
    require_role(request, Role.VIEWER)
    counts: dict[int, dict[str, int]] = {}
    for row in Lead.objects.values("source_id", "status").annotate(n=Count("id")):
        counts.setdefault(row["source_id"], {})[row["status"]] = row["n"]
    return [_source_out(s, counts.get(s.pk, {})) for s in Source.objects.order_by("name")]


@router.get("/sources/{slug}", auth=key_auth, response={200: SourceOut, **NOT_FOUND})
def get_one(request: HttpRequest, slug: str) -> dict[str, Any]:
    require_role(request, Role.VIEWER)
    return _source_out(get_source(slug))


@router.post("/sources/{slug}/pause", auth=key_auth, response={200: SourceOut, **NOT_FOUND})
def pause(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Stop accepting leads: new leads are rejected with REJECT_LEAD_SOURCE_NOT_LIVE until resumed."""
    require_role(request, Role.MANAGER)
    return _source_out(set_source_status(get_source(slug), Source.Status.PAUSED))


@router.post("/sources/{slug}/resume", auth=key_auth, response={200: SourceOut, **NOT_FOUND})
def resume(request: HttpRequest, slug: str) -> dict[str, Any]:
    require_role(request, Role.MANAGER)
    return _source_out(set_source_status(get_source(slug), Source.Status.LIVE))


@router.get("/sources/{slug}/fields", auth=key_auth, response={200: list[FieldOut], **NOT_FOUND})
def fields(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    require_role(request, Role.VIEWER)
    return [
        {
            "key": f.key,
            "label": f.label,
            "type": f.type,
            "required": f.required,
            "position": f.position,
            "aliases": list(f.aliases or []),
            "default": f.default,
            "pii": f.pii,
            "max_length": f.max_length,
            "picklist": f.picklist.key if f.picklist else None,
            "allowed_values": f.allowed_values,
        }
        for f in get_source(slug).fields.select_related("picklist")
    ]


@router.get("/sources/{slug}/summary", auth=key_auth, response={200: SummaryOut, **NOT_FOUND})
def source_summary(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The counters of `leadgate summary --json`."""
    require_role(request, Role.VIEWER)
    return summary(get_source(slug))


@router.get("/sources/{slug}/callback", auth=key_auth, response={200: dict[str, str], **NOT_FOUND})
def callback(request: HttpRequest, slug: str) -> dict[str, str]:
    """The status-callback URL and the secret its posts are signed with (Standard Webhooks)."""
    require_role(request, Role.MANAGER)
    source = get_source(slug)
    return {"url": source.callback_url, "secret": source.callback_secret}


@router.post(
    "/sources/{slug}/callback/rotate",
    auth=key_auth,
    response={200: dict[str, str], 422: ProblemSchema, **NOT_FOUND},
)
def rotate_callback(request: HttpRequest, slug: str) -> dict[str, str]:
    """Replace the status callbacks' signing secret; the old one stops at once."""
    require_role(request, Role.MANAGER)
    source = get_source(slug)
    if not source.callback_url:
        raise Problem(422, "no_callback", f'Source "{slug}" has no callback URL.')
    return {"url": source.callback_url, "secret": rotate_callback_secret(source)}


@router.post("/sources/{slug}/reprocess", auth=key_auth, response={200: ReprocessOut, **NOT_FOUND})
def reprocess(request: HttpRequest, slug: str, body: ReprocessIn) -> dict[str, Any]:
    """Decide leads again with the source's current rules (default: rejected and failed leads)."""
    key = require_role(request, Role.MANAGER)
    source = get_source(slug)
    statuses = body.status or ["rejected", "failed"]
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise Problem(
            422, "invalid_status", f"Unknown status {unknown[0]!r}; use one of {', '.join(STATUSES)}."
        )
    outcome = reprocess_matching(source, statuses=statuses, codes=body.codes, actor=actor_for(key))
    return {"source": source.slug, **outcome.as_dict()}


_YAML_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post(
    "/definitions",
    auth=key_auth,
    response={200: ApplyOut, 415: ProblemSchema, 422: ProblemSchema, **AUTH_ERRORS},
    openapi_extra=_YAML_BODY,
)
def apply(request: HttpRequest, dry_run: bool = False) -> dict[str, Any]:
    """Apply a definition file (the format of `leadgate apply`); all or nothing."""
    require_role(request, Role.MANAGER)
    content_type = (request.content_type or "").lower()
    if content_type not in ("application/yaml", "application/x-yaml", "text/yaml", "application/json"):
        raise Problem(
            415, "unsupported_media_type", "Send the definition as application/yaml or application/json."
        )
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "not_utf8", "The definition is not UTF-8 text.") from None
    try:
        result = apply_definition(text, dry_run=dry_run)
    except DefinitionError as exc:
        raise Problem(
            422,
            "invalid_definition",
            f"{len(exc.errors)} error(s), nothing changed: {exc.errors[0]}",
            errors=[{"message": e} for e in exc.errors],
        ) from None
    return result.as_dict()


@router.get(
    "/definitions",
    auth=key_auth,
    response={200: str, **AUTH_ERRORS},
    openapi_extra={"responses": {"200": {"description": "YAML", "content": {"application/yaml": {}}}}},
)
def export(request: HttpRequest, source: list[str] = Query(None)) -> HttpResponse:  # noqa: B008
    """The configuration in the definition-file format (optionally only the named sources)."""
    require_role(request, Role.VIEWER)
    return HttpResponse(export_definition(source or None), content_type="application/yaml; charset=utf-8")
