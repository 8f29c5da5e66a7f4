"""Sign-in, with a limit on guessing: after ``LIMIT`` failed sign-ins for one username or from one address
within ``WINDOW``, further attempts are refused for ``LOCKOUT`` without the password being checked.

The counts are kept in Django's cache, which is the database's (settings.CACHES): every web process on
every machine sees the same counts. A refused attempt is not counted again (the lock-out does not grow
by itself), and signing in clears the username's failures; the address's stay until they age out.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.forms import Form
from django.http import HttpRequest, HttpResponse

LIMIT = 5
WINDOW = 15 * 60  # seconds
LOCKOUT = 15 * 60


def _now() -> float:
    return time.time()


def _keys(request: HttpRequest) -> list[str]:
    """Cache keys for the username and the address of this attempt (hashed: keys have a length limit)."""
    username = request.POST.get("username", "").strip().casefold()
    address = request.META.get("REMOTE_ADDR", "")
    keys = [f"signin:ip:{hashlib.sha256(address.encode()).hexdigest()}"]
    if username:
        keys.append(f"signin:user:{hashlib.sha256(username.encode()).hexdigest()}")
    return keys


def locked_for(request: HttpRequest) -> int:
    """Seconds until this username and address may try again; 0 when they may now."""
    now = _now()
    until = [cache.get(f"{key}:locked", 0) for key in _keys(request)]
    return max(0, math.ceil(max(until) - now))


def record_failure(request: HttpRequest) -> None:
    """Count a failed sign-in; the fifth within the window locks the username and the address out."""
    now = _now()
    for key in _keys(request):
        failures = [t for t in cache.get(key, []) if t > now - WINDOW] + [now]
        cache.set(key, failures, WINDOW)
        if len(failures) >= LIMIT:
            cache.set(f"{key}:locked", now + LOCKOUT, LOCKOUT)


def clear_failures(request: HttpRequest) -> None:
    """A correct password: the username starts afresh (the address's count stays: it may be guessing)."""
    username_keys = [key for key in _keys(request) if key.startswith("signin:user:")]
    cache.delete_many(username_keys)


def refused_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        f"Too many failed sign-ins for this username or from this network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or ask an admin to set a new password."
    )


class SignInView(auth_views.LoginView):
    """Django's sign-in page with the limit above. A refused attempt answers 429 with the reason."""

    template_name = "web/signin.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        wait = locked_for(request)
        if wait:
            # An unbound form: the password is not tried at all while locked out.
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            context = self.get_context_data(form=form, refused=refused_message(wait))
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Form) -> HttpResponse:
        record_failure(self.request)
        wait = locked_for(self.request)
        if wait:  # this was the attempt that crossed the limit: say so now, not on the next one
            context = self.get_context_data(form=form, refused=refused_message(wait))
            return self.render_to_response(context, status=429)
        return super().form_invalid(form)

    def form_valid(self, form: Form) -> HttpResponse:
        clear_failures(self.request)
        return super().form_valid(form)
