"""Upload Leads over HTTP: send a file, then follow its progress and fetch its row-error report.

The file is kept and processed in the background by a worker (``202 Accepted``); ``GET /uploads/{id}``
answers the progress and, once done, the counts of SPEC §6 ``leadgate upload --json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from leadgate.accounts.models import Role
from leadgate.files.errors import FileError
from leadgate.files.models import Upload
from leadgate.files.uploads import (
    create_upload,
    queue_upload,
    row_error_report_format,
    upload_result,
    write_row_error_report,
)
from leadgate.files.writing import FORMATS

from .auth import actor_for, key_auth, require_role
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .sources import get_source

router = Router(tags=["uploads"])
NOT_FOUND = {404: ProblemSchema, **AUTH_ERRORS}


class RowErrorOut(Schema):
    row: int
    lead_id: str | None
    code: str
    message: str


class UploadOut(Schema):
    upload: str
    source: str
    name: str
    state: str
    dry_run: bool
    update_accepted: bool
    format: str
    encoding: str
    delimiter: str
    rows: int
    rows_done: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    errors: int
    accepted: int
    rejected: int
    row_errors: list[RowErrorOut]
    warnings: list[str]
    preview: list[dict[str, Any]]
    error: dict[str, str] | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    row_error_report: str | None


def _out(upload: Upload) -> dict[str, Any]:
    result = upload_result(upload)
    return {
        **{k: result.get(k, getattr(upload, k, None)) for k in UploadOut.model_fields},
        "upload": upload.upload_id,
        "source": upload.source.slug,
        "name": upload.name,
        "state": upload.state,
        "dry_run": upload.dry_run,
        "update_accepted": upload.update_accepted,
        "rows_done": upload.rows_done,
        "preview": upload.preview,
        "error": upload.error or None,
        "created_at": upload.created_at,
        "finished_at": upload.finished_at,
        "row_error_report": f"/api/v1/uploads/{upload.upload_id}/errors" if upload.errors else None,
    }


@router.post(
    "/sources/{slug}/uploads",
    auth=key_auth,
    response={202: UploadOut, 404: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema, **AUTH_ERRORS},
    summary="Upload a file of leads (CSV, TXT, XLSX, XLS or ODS)",
)
def post_upload(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    update_accepted: Form[bool] = False,
) -> Status:
    """Keep the file and queue it; follow ``GET /uploads/{upload}`` for progress and the result.

    Rows with a LeadID update that lead, rows without one create leads; `dry_run` saves nothing and
    previews each row; `update_accepted` decides accepted leads again too.
    """
    key = require_role(request, Role.MANAGER)
    source = get_source(slug)
    try:
        upload = create_upload(
            source,
            file,
            name=file.name,
            dry_run=dry_run,
            update_accepted=update_accepted,
            actor=actor_for(key),
        )
    except FileError as error:
        raise Problem(413 if error.code == "file_too_large" else 422, error.code, error.message) from None
    queue_upload(upload)
    return Status(202, _out(upload))


@router.get("/sources/{slug}/uploads", auth=key_auth, response={200: list[UploadOut], **NOT_FOUND})
def list_uploads(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """The source's latest 100 uploads, newest first."""
    require_role(request, Role.VIEWER)
    source = get_source(slug)
    return [_out(u) for u in Upload.objects.filter(source=source).select_related("source")[:100]]


def _upload(upload_id: str) -> Upload:
    upload = Upload.objects.filter(upload_id=upload_id.strip().upper()).select_related("source").first()
    if upload is None:
        raise Problem(404, "unknown_upload", f'No upload "{upload_id}".')
    return upload


@router.get("/uploads/{upload_id}", auth=key_auth, response={200: UploadOut, **NOT_FOUND})
def get_upload(request: HttpRequest, upload_id: str) -> dict[str, Any]:
    """An upload's progress (`rows_done` of `rows`), and once `done` its counts, row errors and warnings."""
    require_role(request, Role.VIEWER)
    return _out(_upload(upload_id))


@router.get(
    "/uploads/{upload_id}/errors",
    auth=key_auth,
    response={200: None, **NOT_FOUND},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The rows with errors as they were in the file, plus Error Code and Error",
                "content": {
                    "text/csv": {"schema": {"type": "string", "format": "binary"}},
                    FORMATS["xlsx"][1]: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def get_row_error_report(request: HttpRequest, upload_id: str) -> HttpResponse:
    """The row-error report, in the upload's format, ready to fix and upload again."""
    require_role(request, Role.VIEWER)
    upload = _upload(upload_id)
    if upload.state != Upload.State.DONE:
        raise Problem(404, "no_report", "The upload has no row-error report (it is not done).")
    report_format = row_error_report_format(upload)
    extension, content_type = FORMATS[report_format]
    response = StreamingHttpResponse(_report(upload), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{upload.upload_id}-errors.{extension}"'
    return response


def _report(upload: Upload) -> Any:
    import io

    buffer = io.BytesIO()
    write_row_error_report(upload, buffer)  # the report is as small as the rows in error
    yield buffer.getvalue()
