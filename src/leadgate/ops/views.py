from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from leadgate.ops.services import health


def healthz(request: HttpRequest) -> JsonResponse:
    """200 once the app answers, the database is reachable and a worker is alive; 503 otherwise."""
    ok, report = health()
    return JsonResponse({"status": "ok" if ok else "unavailable", **report}, status=200 if ok else 503)
