"""The hosted capture form at /f/<slug>: render, screen, submit, answer. The decisions live in services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from leadgate.sources.models import Field, Source

from .forms import (
    HONEYPOT_INPUT,
    LEAD_INPUT,
    STAMP_INPUT,
    CaptureForm,
    Screening,
    lead_token,
    render_stamp,
    screen,
)
from .services import accepting, submit
from .visitor_text import Reply, reply_for

log = logging.getLogger(__name__)

# The pages run no script and load nothing from elsewhere, so the policy can forbid all of it: even if a
# value ever slipped past escaping, it could not run.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

View = Callable[..., HttpResponse]


def _locked_down(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    return wrapped


def _form_source(slug: str) -> Source:
    """The source whose form this is; 404 when there is none or its form is not turned on."""
    return get_object_or_404(Source, slug=slug, form_enabled=True)


def _fields(source: Source) -> list[Field]:
    return list(
        source.fields.select_related("picklist")
        .prefetch_related("picklist__values")
        .order_by("position", "id")
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache  # the page carries a CSRF token and its render time
@_locked_down
def capture_form(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the form (or a page saying it is not open). POST: screen, submit and answer the visitor."""
    source = _form_source(slug)
    fields = _fields(source)
    if request.method != "POST":
        if not accepting(source):
            return _closed_page(request, source)
        return _form_page(request, source, CaptureForm(fields))

    screened = screen(source, request.POST)
    if screened.verdict is Screening.BOT:
        # A bot is thanked like a person, so it learns nothing about what gave it away.
        log.info("capture form %s: dropped a bot's submission (%s)", source.slug, screened.why)
        return redirect("capture:thanks", slug=source.slug)
    form = CaptureForm(fields, request.POST)
    if not form.is_valid():
        return _form_page(request, source, form, correcting=screened.correcting)
    if screened.verdict is Screening.EXPIRED:
        return _form_page(request, source, form, correcting=screened.correcting, expired=True)

    lead = submit(source, form.submission(), correcting=screened.correcting)
    reply = reply_for(lead.status, lead.disposition_code)
    if reply is Reply.CORRECT:
        form.show_problems(lead.problems, lead.clean)
        return _form_page(request, source, form, correcting=lead.lead_id)
    if reply is Reply.CLOSED:
        return redirect("capture:closed", slug=source.slug)
    return redirect("capture:thanks", slug=source.slug)


def _form_page(
    request: HttpRequest,
    source: Source,
    form: CaptureForm,
    *,
    correcting: str | None = None,
    expired: bool = False,
) -> HttpResponse:
    rows = form.rows()
    summary = [
        {"anchor": row.anchor, "label": row.field.label, "message": error}
        for row in rows
        for error in row.field.errors
    ]
    context = {
        "source": source,
        "form": form,
        "rows": rows,
        "summary": summary,
        "general_errors": form.non_field_errors(),
        "expired": expired,
        # A fresh render time on every page, so a visitor correcting the form is timed from now.
        "stamp_input": STAMP_INPUT,
        "stamp": render_stamp(source),
        "lead_input": LEAD_INPUT,
        "lead_token": lead_token(source, correcting) if correcting else "",
        "honeypot_input": HONEYPOT_INPUT,
    }
    return render(request, "capture/form.html", context)


def _closed_page(request: HttpRequest, source: Source) -> HttpResponse:
    # 200, not 404: the visitor followed a real link (a QR code, an invitation) to a form that exists, and a
    # paused one comes back; the page is noindex, so search engines keep it out of their results either way.
    pages = {
        Source.Status.DRAFT: ("This form is not open yet", "Please come back later."),
        Source.Status.PAUSED: ("This form is paused", "It is not taking submissions at the moment."),
        Source.Status.CLOSED: ("This form is closed", "It no longer accepts submissions."),
    }
    # A live source here has reached its allocation.
    heading, message = pages.get(source.status, ("This form is no longer accepting submissions", ""))
    return render(request, "capture/closed.html", {"source": source, "heading": heading, "message": message})


@require_GET
@_locked_down
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """The page after a submission: the same for everyone, whatever became of their lead."""
    source = _form_source(slug)
    return render(request, "capture/thanks.html", {"source": source, "again": accepting(source)})


@require_GET
@_locked_down
def closed(request: HttpRequest, slug: str) -> HttpResponse:
    """The page after a submission the form could no longer take (source not live, allocation reached)."""
    source = _form_source(slug)
    if accepting(source):  # open again (or never closed): the form itself is the better page
        return redirect("capture:form", slug=source.slug)
    return _closed_page(request, source)
