"""The source's Uploads tab and Upload Leads (SPEC §3): send a file, watch it run, read the result.

The form posts the file here (from the Summary or the tab); the file is kept and queued for a worker, and
the browser goes to the upload's page, whose status box htmx refreshes every second until the upload is
done. From the Summary's Upload Leads dialog the form posts with htmx instead, and the same status box is
answered into the dialog (``modal``): a dry run's preview, "Upload for real", the progress and the result.
Everything shown comes from the file, so it is all escaped by the templates, never marked safe.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from leadgate.accounts.models import Role
from leadgate.files.errors import FileError
from leadgate.files.models import Upload
from leadgate.files.uploads import (
    create_upload,
    queue_upload,
    row_error_report_format,
    write_row_error_report,
)
from leadgate.files.writing import FORMATS
from leadgate.leads.services import Actor
from leadgate.sources.models import Source

from .access import requires
from .views import TABS

LISTED = 100  # uploads on the tab, newest first
ROW_ERRORS_SHOWN = 100  # the rest are in the row-error report
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ACCEPT = ".csv,.txt,.xlsx,.xls,.ods"


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _upload(source: Source, upload_id: str) -> Upload:
    return get_object_or_404(Upload.objects.select_related("user"), source=source, upload_id=upload_id)


def _actor(request: HttpRequest) -> Actor:
    return Actor(f"web {request.user.get_username()}", request.user)  # type: ignore[arg-type]


def _preview(upload: Upload) -> list[dict[str, object]]:
    """A dry run's rows, a row error's code and sentence in place of a disposition (it has none)."""
    errors = {e["row"]: e for e in upload.row_errors}
    rows = []
    for entry in upload.preview:
        error = errors.get(entry["row"]) if entry["action"] == "error" else None
        if error:
            entry = {**entry, "disposition_code": error["code"], "custom_reason": error["message"]}
        rows.append(entry)
    return rows


def _status_context(upload: Upload, modal: bool = False) -> dict[str, object]:
    return {
        "modal": modal,
        "preview": _preview(upload) if upload.dry_run else [],
        "upload": upload,
        "active": upload.state in (Upload.State.QUEUED, Upload.State.PROCESSING),
        "delimiter": DELIMITERS.get(upload.delimiter, upload.delimiter),
        "row_errors": upload.row_errors[:ROW_ERRORS_SHOWN],
        "more_row_errors": max(len(upload.row_errors) - ROW_ERRORS_SHOWN, 0),
        "report_format": FORMATS[row_error_report_format(upload)][0].upper() if upload.format else "",
    }


@require_GET
@requires(Role.VIEWER)
def uploads_tab(request: HttpRequest, slug: str) -> HttpResponse:
    """Source → Uploads: the Upload Leads form (managers) and the source's uploads, newest first."""
    source = _source(slug)
    uploads = Upload.objects.filter(source=source).select_related("user")[:LISTED]
    return render(
        request,
        "web/uploads/tab.html",
        {"source": source, "tabs": TABS, "tab": "uploads", "uploads": uploads, "listed": LISTED},
    )


@require_POST
@requires(Role.MANAGER)
def new_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Keep the file, queue it for a worker and go to its page; a file refused at the door is one sentence
    back on the page the form was on."""
    source = _source(slug)
    back = (
        reverse("web:summary", args=[source.slug]) + "#upload"
        if request.POST.get("from") == "summary"
        else reverse("web:uploads", args=[source.slug])
    )
    in_dialog = bool(getattr(request, "htmx", False)) and request.POST.get("from") == "summary"
    file = request.FILES.get("file")
    try:
        if file is None:
            raise FileError("no_file", "Choose a file to upload: CSV, TXT, XLSX, XLS or ODS.")
        upload = create_upload(
            source,
            file,
            name=file.name,
            dry_run=bool(request.POST.get("dry_run")),
            update_accepted=bool(request.POST.get("update_accepted")),
            actor=_actor(request),
        )
    except FileError as error:
        if in_dialog:  # the form again, with the sentence, in the dialog
            context = {"source": source, "tab": "summary", "upload_error": error.message}
            return render(request, "web/uploads/upload_fields.html", context)
        messages.error(request, error.message)
        return redirect(back)
    queue_upload(upload)
    if in_dialog:
        return _in_dialog(request, source, upload)
    return redirect("web:upload", slug=source.slug, upload_id=upload.upload_id)


def _in_dialog(request: HttpRequest, source: Source, upload: Upload) -> HttpResponse:
    context = {"source": source, **_status_context(upload, modal=True)}
    return render(request, "web/uploads/modal_status.html", context)


@require_GET
@requires(Role.VIEWER)
def upload_page(request: HttpRequest, slug: str, upload_id: str) -> HttpResponse:
    """One upload: what was detected, its progress while it runs, then its counts, warnings and errors."""
    source = _source(slug)
    upload = _upload(source, upload_id)
    return render(
        request,
        "web/uploads/upload.html",
        {"source": source, "tabs": TABS, "tab": "uploads", **_status_context(upload)},
    )


@require_GET
@requires(Role.VIEWER)
def upload_status(request: HttpRequest, slug: str, upload_id: str) -> HttpResponse:
    """The upload's status box alone: htmx polls it while the upload runs; once done it stops polling, and
    tells the page (HX-Trigger: upload-done) so that the Summary's counters are fetched at once."""
    source = _source(slug)
    upload = _upload(source, upload_id)
    context = _status_context(upload, modal=request.GET.get("modal") == "1")
    response = render(request, "web/uploads/status.html", {"source": source, **context})
    if not context["active"]:
        response["HX-Trigger"] = "upload-done"
    return response


@require_POST
@requires(Role.MANAGER)
def upload_for_real(request: HttpRequest, slug: str, upload_id: str) -> HttpResponse:
    """After a dry run: the same stored file uploaded again, this time saving the leads."""
    source = _source(slug)
    dry = _upload(source, upload_id)
    in_dialog = bool(getattr(request, "htmx", False))
    if not dry.dry_run or dry.state != Upload.State.DONE:
        messages.error(request, "Only a finished dry run can be uploaded for real.")
        return _to_upload_page(in_dialog, source, dry)
    try:
        with dry.file.open("rb") as stored:
            upload = create_upload(
                source,
                stored,
                name=dry.name,
                update_accepted=dry.update_accepted,
                actor=_actor(request),
            )
    except (FileError, OSError) as error:
        # The stored file went missing or over a lowered limit: say so rather than fail with a trace.
        message = error.message if isinstance(error, FileError) else "The dry run's file is no longer kept."
        messages.error(request, f"{message} Upload the file again.")
        return _to_upload_page(in_dialog, source, dry)
    queue_upload(upload)
    if in_dialog:  # only the Summary's dialog posts this form with htmx
        return _in_dialog(request, source, upload)
    return redirect("web:upload", slug=source.slug, upload_id=upload.upload_id)


def _to_upload_page(in_dialog: bool, source: Source, upload: Upload) -> HttpResponse:
    """To the upload's page, where the message is shown: the whole page goes there, not the dialog."""
    url = reverse("web:upload", args=[source.slug, upload.upload_id])
    return HttpResponseClientRedirect(url) if in_dialog else redirect(url)


@require_GET
@requires(Role.VIEWER)
def row_error_report(request: HttpRequest, slug: str, upload_id: str) -> HttpResponse:
    """The rows that had errors, as they were in the file, plus the error: fix them and upload it again."""
    source = _source(slug)
    upload = _upload(source, upload_id)
    if upload.state != Upload.State.DONE or not upload.errors:
        messages.error(request, "This upload has no row errors to download.")
        return redirect("web:upload", slug=source.slug, upload_id=upload.upload_id)
    extension, content_type = FORMATS[row_error_report_format(upload)]
    response = StreamingHttpResponse(_report(upload), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{upload.upload_id}-errors.{extension}"'
    response["Cache-Control"] = "no-store"  # the rows are leads: personal data
    return response  # type: ignore[return-value]  # streamed, as views.download_leads


def _report(upload: Upload) -> Iterator[bytes]:
    buffer = io.BytesIO()
    write_row_error_report(upload, buffer)  # as small as the rows in error
    yield buffer.getvalue()


urlpatterns = [
    path("sources/<slug:slug>/uploads/", uploads_tab, name="uploads"),
    path("sources/<slug:slug>/uploads/new", new_upload, name="upload_new"),
    path("sources/<slug:slug>/uploads/<str:upload_id>/", upload_page, name="upload"),
    path("sources/<slug:slug>/uploads/<str:upload_id>/status", upload_status, name="upload_status"),
    path("sources/<slug:slug>/uploads/<str:upload_id>/for-real", upload_for_real, name="upload_for_real"),
    path("sources/<slug:slug>/uploads/<str:upload_id>/errors", row_error_report, name="upload_errors"),
]
