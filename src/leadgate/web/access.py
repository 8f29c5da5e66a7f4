"""Who may see and do what in the web UI: one decorator, the roles of SPEC §4.

Every view says the least role it needs; there is no view without one (tests/web/test_access.py walks the
URL patterns to be sure). Viewers read, managers act on sources, leads and uploads, admins do everything.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from leadgate.accounts.models import Role, User

View = Callable[..., HttpResponse]

RANK = {Role.VIEWER: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def has_role(user: User, role: Role) -> bool:
    """True when ``user`` is signed in, active and has ``role`` or a higher one."""
    if not user.is_authenticated or not user.is_active:
        return False
    return RANK.get(user.role, 0) >= RANK[role]


def requires(role: Role) -> Callable[[View], View]:
    """Sign-in first (anonymous people are sent to the sign-in page), then ``role`` or higher (else 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _to_sign_in(request)
            if not has_role(request.user, role):  # type: ignore[arg-type]
                raise PermissionDenied(f"This needs the {role.label.lower()} role or higher.")
            return view(request, *args, **kwargs)

        checked.required_role = role  # type: ignore[attr-defined]  # read by the test that walks the URLs
        return checked

    return decorate


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    if htmx:
        # A poll after the session ended: send the whole page to sign-in, not into the polled box.
        back = htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}")
    return redirect_to_login(request.get_full_path())
