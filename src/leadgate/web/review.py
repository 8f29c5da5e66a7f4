"""Source → Review queue: the leads a source holds ``in_review``, approved or rejected in bulk by a reviewer.

Reached from the Summary's link while leads wait; not a tab, as most sources hold none. Every value on the
page came from a lead and is attacker-controlled: templates autoescape, never ``|safe``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.leads.models import Lead
from leadgate.leads.review import approve_leads, reject_held_leads
from leadgate.rules.catalogue import Status

from .access import requires
from .leads import VALUE_COLUMNS, Masker, _actor, _masks, _pii_keys, _source
from .views import TABS

PAGE_SIZE = 100
#: At most this many LeadIDs in one POST: one page's worth, with room to spare.
MAX_SELECTED = 1000


@require_GET
@requires(Role.VIEWER)
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The source's leads in review, oldest first (the first to arrive waited longest), 100 a page."""
    source = _source(slug)
    fields = list(source.fields.order_by("position", "id")[:VALUE_COLUMNS])
    held = Lead.objects.filter(source=source, status=Status.IN_REVIEW.value).order_by("submitted_at", "id")
    page = Paginator(held, PAGE_SIZE).get_page(request.GET.get("page"))
    pii, masks = _pii_keys(source), _masks(request)
    rows = []
    for lead in page:
        masker = Masker(lead, pii, masks)
        rows.append(
            {"lead": lead, "values": [masker.value(f.key, lead.values.get(f.key) or "") for f in fields]}
        )
    return render(
        request,
        "web/review/queue.html",
        {"source": source, "tabs": TABS, "tab": "", "fields": fields, "rows": rows, "page": page},
    )


def _back(request: HttpRequest, slug: str) -> HttpResponse:
    page = request.POST.get("page", "")
    url = reverse("web:review", args=[slug])
    return redirect(f"{url}?page={page}" if page.isdigit() and page != "1" else url)


def _selected(request: HttpRequest) -> list[str]:
    """The ticked LeadIDs, or every lead the page showed when "All on this page" is ticked (no script)."""
    name = "on_page" if request.POST.get("all") == "page" else "lead"
    return [lead_id.strip() for lead_id in request.POST.getlist(name)[:MAX_SELECTED] if lead_id.strip()]


@require_POST
@requires(Role.MANAGER)
def approve(request: HttpRequest, slug: str) -> HttpResponse:
    """Approve the selected leads: they become accepted and are posted."""
    source = _source(slug)
    selected = _selected(request)
    if not selected:
        messages.error(request, "Select the leads to approve first: nothing was changed.")
        return _back(request, slug)
    outcome = approve_leads(source, selected, actor=_actor(request))
    messages.success(request, _done("Approved", outcome.changed, len(selected)))
    return _back(request, slug)


@require_POST
@requires(Role.MANAGER)
def reject(request: HttpRequest, slug: str) -> HttpResponse:
    """Reject the selected leads by hand (REJECT_LEAD_MANUAL); the required reason is their custom reason."""
    source = _source(slug)
    selected = _selected(request)
    reason = request.POST.get("reason", "").strip()
    if not selected:
        messages.error(request, "Select the leads to reject first: nothing was changed.")
        return _back(request, slug)
    if not reason:
        messages.error(request, "Say why the leads are rejected: the reason becomes their custom reason.")
        return _back(request, slug)
    outcome = reject_held_leads(source, selected, reason[:2000], actor=_actor(request))
    messages.success(request, _done("Rejected", outcome.changed, len(selected)))
    return _back(request, slug)


def _done(verb: str, changed: int, selected: int) -> str:
    text = f"{verb} {changed} lead{'' if changed == 1 else 's'}."
    if changed < selected:
        text += f" {selected - changed} were no longer in review and were left as they are."
    return text


urlpatterns = [
    path("sources/<slug:slug>/review/", review_queue, name="review"),
    path("sources/<slug:slug>/review/approve", approve, name="review_approve"),
    path("sources/<slug:slug>/review/reject", reject, name="review_reject"),
]
