"""Refuse a NUL character in a request's path or query string with a clear 400.

Django passes them on; PostgreSQL refuses to compare text with NUL in it, which would turn a typo or a probe
into a 500. Bodies are cleaned where they are parsed (leadgate.lib.text).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from .problems import Problem


class RefuseNulBytes:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            if request.path.startswith("/api/"):
                return Problem(400, "nul_character", "The URL holds a NUL character (%00).").response()
            return HttpResponseBadRequest("The URL holds a NUL character (%00).")
        return self.get_response(request)
