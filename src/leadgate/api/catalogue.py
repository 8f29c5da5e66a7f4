"""``GET /api/v1/dispositions``: the disposition catalogue, from its one definition in code."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from leadgate.accounts.models import Role
from leadgate.rules.catalogue import CATALOGUE

from .auth import key_auth, require_role
from .problems import AUTH_ERRORS
from .schemas import DispositionOut

router = Router(tags=["catalogue"])


@router.get("/dispositions", auth=key_auth, response={200: list[DispositionOut], **AUTH_ERRORS})
def dispositions(request: HttpRequest) -> list[dict[str, str]]:
    require_role(request, Role.VIEWER)
    return [
        {"code": d.code, "status": d.status.value, "title": d.title, "when": d.when, "action": d.action}
        for d in CATALOGUE
    ]
