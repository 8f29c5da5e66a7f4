"""The disposition catalogue page, generated from ``leadgate.rules.catalogue`` as docs/dispositions.md is."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from leadgate.accounts.models import Role
from leadgate.rules.catalogue import CATALOGUE

from .access import requires


@require_GET
@requires(Role.VIEWER)
def dispositions(request: HttpRequest) -> HttpResponse:
    """Every disposition code in check order: status, title, when it is given and what to do about it."""
    return render(request, "web/catalogue/dispositions.html", {"catalogue": CATALOGUE, "nav": "dispositions"})


urlpatterns = [path("dispositions/", dispositions, name="dispositions")]
