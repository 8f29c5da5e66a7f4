"""Upload Leads (SPEC §3): a file of leads in, each row created, updated, left alone or reported.

A row with a LeadID updates that lead; a row without one creates a lead. Rejected leads are decided again
(accepted ones only when the user asks), so fixing a file — or the picklist behind it — and uploading it
turns the leads Accepted. A LeadID that is not a lead of this source, or that repeats in the file, is a row
error; the other rows still go through. A file-level problem (``FileError``) changes nothing.

The rows are processed in parts. Each part is one transaction that stores its leads, their history and the
upload's progress together, so a crash resumes after the last stored part, and the same file uploaded
twice creates nothing twice (rows without a LeadID are created only by the first upload of a file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import polars as pl
from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone

from leadgate.leads.services import Actor
from leadgate.sources.models import Source

from .errors import FileError
from .models import Upload
from .processing import LEASE, Progress, UploadRun
from .reading import _ROW, read_sheet

log = logging.getLogger(__name__)

REQUEUE_AFTER = dt.timedelta(minutes=2)  # a queued upload no process has claimed by then gets a new task


# --- taking the file in ----------------------------------------------------------------------------------


def create_upload(
    source: Source,
    file: str | Path | IO[bytes],
    *,
    name: str | None = None,
    dry_run: bool = False,
    update_accepted: bool = False,
    actor: Actor | None = None,
    claim: bool = False,
) -> Upload:
    """Keep the file and record a queued upload; the rows are processed by ``process_upload``.

    ``claim``: the calling process processes it next (no worker's sweep may take it meanwhile).

    Raises ``FileError`` for a file over the size limit (counted while copying, so a huge stream stops early).
    """
    if isinstance(file, str | Path):
        name = name or Path(file).name
        with open(file, "rb") as fh:
            return create_upload(
                source,
                fh,
                name=name,
                dry_run=dry_run,
                update_accepted=update_accepted,
                actor=actor,
                claim=claim,
            )
    name = Path(name or "upload.csv").name[:200] or "upload.csv"
    limit = settings.LEADGATE_UPLOAD_MAX_BYTES
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as copy:
        while chunk := file.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                raise FileError(
                    "file_too_large",
                    f"The file is over the limit of {limit / 1024 / 1024:,.0f} MB (LEADGATE_UPLOAD_MAX_MB)."
                    " Split it into smaller files.",
                )
            digest.update(chunk)
            copy.write(chunk)
        if size == 0:
            raise FileError("empty_file", "The file is empty.")
        copy.seek(0)
        actor = actor or Actor("upload")
        upload = Upload(
            source=source,
            name=name,
            size=size,
            digest=digest.hexdigest(),
            user=actor.user,
            actor=actor.label,
            dry_run=dry_run,
            update_accepted=update_accepted,
            lease_until=timezone.now() + LEASE if claim else None,
        )
        upload.file.save(name, File(copy, name=name), save=False)
    upload.save()
    return upload


def upload_file(
    source: Source,
    path: str | Path,
    *,
    name: str | None = None,
    dry_run: bool = False,
    update_accepted: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> Upload:
    """Take in the file at ``path`` and process it now (the CLI's way; the API queues a task)."""
    try:
        upload = create_upload(
            source,
            path,
            name=name,
            dry_run=dry_run,
            update_accepted=update_accepted,
            actor=actor,
            claim=True,
        )
    except FileError as error:
        # Nothing was kept; the answer is still an upload record, failed, so every caller reports alike.
        upload = Upload(source=source, name=name or Path(path).name, digest="", error=error.as_dict())
        upload.state = Upload.State.FAILED
        upload.finished_at = timezone.now()
        upload.save()
        return upload
    return process_upload(upload, progress=progress, claimed=True)


def queue_upload(upload: Upload) -> None:
    """Have a worker process the upload (once the caller's transaction commits)."""
    from .tasks import process_upload_task

    Upload.objects.filter(pk=upload.pk).update(enqueued_at=timezone.now())
    transaction.on_commit(lambda: process_upload_task.enqueue(upload.upload_id))


def resume_stalled_uploads(now: dt.datetime | None = None) -> int:
    """Queue again the uploads nobody is processing: the process died mid-way, or the task was lost."""
    now = now or timezone.now()
    stalled = Upload.objects.filter(
        models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now),
        models.Q(enqueued_at__isnull=True) | models.Q(enqueued_at__lt=now - REQUEUE_AFTER),
        state__in=[Upload.State.QUEUED, Upload.State.PROCESSING],
        created_at__lt=now - REQUEUE_AFTER,
    )
    count = 0
    for upload in stalled:
        log.warning("upload %s stalled (%s); queued again", upload.upload_id, upload.state)
        queue_upload(upload)
        count += 1
    return count


def _claim(upload: Upload) -> bool:
    """Take (or renew) the lease: true when this process may work on the upload now."""
    now = timezone.now()
    taken = (
        Upload.objects.filter(pk=upload.pk)
        .filter(models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    return taken == 1


# --- processing ------------------------------------------------------------------------------------------


def process_upload(upload: Upload, *, progress: Progress | None = None, claimed: bool = False) -> Upload:
    """Process the upload's rows from where it stopped; a done or failed upload is returned as it is, and
    one that another process is working on is left to it."""
    if upload.state in (Upload.State.DONE, Upload.State.FAILED):
        return upload
    if not claimed and not _claim(upload):
        return upload
    upload.refresh_from_db()
    upload.state = Upload.State.PROCESSING
    upload.started_at = upload.started_at or timezone.now()
    upload.save(update_fields=["state", "started_at"])
    try:
        with _local_path(upload) as path:
            sheet = read_sheet(
                path,
                max_bytes=settings.LEADGATE_UPLOAD_MAX_BYTES,
                max_inflated_bytes=settings.LEADGATE_UPLOAD_MAX_INFLATED_BYTES,
            )
        UploadRun(upload, sheet, progress).run()
    except FileError as error:
        _finish(upload, error=error.as_dict())
    except Exception as error:
        # Parts already stored stay stored (and the upload says how far it got); the rest is untouched.
        log.exception("upload %s failed", upload.upload_id)
        _finish(upload, error={"code": "internal_error", "message": f"{type(error).__name__}: {error}"[:500]})
    upload.refresh_from_db()
    return upload


@contextlib.contextmanager
def _local_path(upload: Upload) -> Iterator[Path]:
    """A path to the upload's file: the stored one, or a temporary copy when the storage is remote."""
    try:
        yield Path(upload.file.path)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix) as copy, upload.file.open("rb") as fh:
        shutil.copyfileobj(fh, copy)
        copy.flush()
        yield Path(copy.name)


def _finish(upload: Upload, *, error: dict[str, str] | None = None) -> None:
    upload.state = Upload.State.FAILED if error else Upload.State.DONE
    upload.error = error or {}
    upload.finished_at = timezone.now()
    upload.lease_until = None
    upload.save(update_fields=["state", "error", "finished_at", "lease_until"])


def row_error_report_format(upload: Upload) -> str:
    """The report's format: the upload's own (a CSV keeps its delimiter if Excel knows it), else XLSX."""
    if upload.format == "csv":
        return "csv-semicolon" if upload.delimiter == ";" else "csv"
    return "xlsx"


def write_row_error_report(upload: Upload, out: IO[bytes]) -> int:
    """The rows that had errors, as they were in the file, plus "Error Code" and "Error" columns.

    Written in the upload's format (a CSV as UTF-8 with a BOM, whatever its encoding was), so the user can
    fix the rows and upload the report itself. Returns how many rows it holds.
    """
    from .writing import open_writer

    errors = {e["row"]: e for e in upload.row_errors}
    with _local_path(upload) as path:
        sheet = read_sheet(
            path,
            max_bytes=settings.LEADGATE_UPLOAD_MAX_BYTES,
            max_inflated_bytes=settings.LEADGATE_UPLOAD_MAX_INFLATED_BYTES,
        )
    rows = sheet.frame.filter(pl.col(_ROW).is_in(list(errors)))
    if sheet.format == "csv":  # the writer guards each cell again, so the report shows them as the file did
        from .guard import unguard_expr

        rows = rows.with_columns(unguard_expr(pl.col(c)) for c in sheet.columns)
    numbers = rows[_ROW].to_list()
    rows = rows.drop(_ROW).with_columns(
        pl.Series("_code", [errors[n]["code"] for n in numbers], dtype=pl.String),
        pl.Series("_error", [errors[n]["message"] for n in numbers], dtype=pl.String),
    )
    header = [name or f"Column {i + 1}" for i, name in enumerate(sheet.header)]
    writer = open_writer(row_error_report_format(upload), out, [*header, "Error Code", "Error"])
    writer.write(rows)
    writer.close()
    return rows.height


def upload_result(upload: Upload) -> dict[str, Any]:
    """The upload as SPEC §6 ``leadgate upload --json`` prints it (a file-level problem: ``{"error"}``)."""
    if upload.error:
        return {"upload": upload.upload_id, "error": upload.error}
    return {
        "upload": upload.upload_id,
        "state": upload.state,
        "dry_run": upload.dry_run,
        "format": upload.format,
        "encoding": upload.encoding,
        "delimiter": upload.delimiter,
        "rows": upload.rows,
        "created": upload.created,
        "updated": upload.updated,
        "unchanged": upload.unchanged,
        "skipped": upload.skipped,
        "errors": upload.errors,
        "accepted": upload.accepted,
        "rejected": upload.rejected,
        "row_errors": upload.row_errors,
        "warnings": upload.warnings,
    }
