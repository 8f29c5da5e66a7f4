"""Download Leads over HTTP: a source's leads, or its lead template, as XLSX or CSV, streamed.

Any personal token may download (viewers too: it changes nothing); ingestion keys may not. The options are
checked before the first byte goes out, so a bad one is a problem document, never half a file.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from leadgate.accounts.models import Role
from leadgate.files.downloads import (
    Download,
    DownloadError,
    filename,
    parse_time,
    prepare_download,
    prepare_template,
)
from leadgate.files.writing import FORMATS

from .auth import key_auth, require_role
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .sources import get_source

router = Router(tags=["files"])
Format = Literal["xlsx", "csv", "csv-semicolon"]
_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _file_response(description: str) -> dict[str, object]:
    return {
        "responses": {
            "200": {
                "description": description,
                "content": {FORMATS["xlsx"][1]: _BINARY, "text/csv": _BINARY},
            }
        }
    }


def _stream(prepared: Download, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(prepared.chunks(), content_type=prepared.content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"  # leads are personal data: no copies in caches on the way
    return response


@router.get(
    "/sources/{slug}/export",
    auth=key_auth,
    response={200: None, 404: ProblemSchema, 422: ProblemSchema, **AUTH_ERRORS},
    openapi_extra=_file_response("The leads: columns A–K (LeadID … Upload), then one per field"),
)
def export_leads(
    request: HttpRequest,
    slug: str,
    status: list[str] = Query(None),  # noqa: B008
    code: list[str] = Query(None),  # noqa: B008
    since: str = "",
    until: str = "",
    by: Literal["submitted", "updated"] = "submitted",
    format: Format = "xlsx",
) -> StreamingHttpResponse:
    """Download Leads (SPEC §3). `status`: all, accepted, rejected, processing, in_review, failed
    (repeatable); `code`: disposition codes, any case (repeatable); `since` (inclusive) and `until`
    (exclusive): ISO 8601 dates or times, UTC unless they say, on the submitted or (`by=updated`) updated
    time. XLSX holds at most 1,048,575 leads: more is a 422 that suggests CSV."""
    require_role(request, Role.VIEWER)
    source = get_source(slug)
    try:
        prepared = prepare_download(
            source,
            format=format,
            statuses=status,
            codes=code,
            since=parse_time(since) if since else None,
            until=parse_time(until) if until else None,
            time_field=by,
        )
    except DownloadError as exc:
        raise Problem(422, exc.code, exc.message) from None
    return _stream(prepared, filename(source, format))


@router.get(
    "/sources/{slug}/template",
    auth=key_auth,
    response={200: None, 404: ProblemSchema, **AUTH_ERRORS},
    openapi_extra=_file_response("The lead template: a header row of the source's field keys"),
)
def lead_template(request: HttpRequest, slug: str, format: Format = "xlsx") -> StreamingHttpResponse:
    """The lead template: an empty sheet headed by the source's field keys, to fill in and upload."""
    require_role(request, Role.VIEWER)
    source = get_source(slug)
    return _stream(prepare_template(source, format=format), filename(source, format, template=True))
