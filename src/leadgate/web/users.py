"""Users and personal tokens (admins only): create, change role, deactivate, reset a password; tokens.

A generated password or token is shown once, in the answer to the form that made it, with ``no-store`` so
no cache keeps it; it is never put in the session or a message. Admins cannot demote or deactivate
themselves, so that a slip never leaves leadgate without an admin.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import ApiKey, Role, User
from leadgate.accounts.services import (
    create_api_key,
    create_user,
    generate_password,
    revoke_api_key,
    set_role,
)

from .access import requires

NAV = "users"


class NewUserForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
    )
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


def _user(pk: int) -> User:
    return get_object_or_404(User, pk=pk)


def _shown_once(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, {**context, "nav": NAV})
    response["Cache-Control"] = "no-store"
    return response


def _tokens(user: User) -> list[ApiKey]:
    return list(ApiKey.objects.filter(user=user, kind=ApiKey.Kind.PERSONAL))


@require_GET
@requires(Role.ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.annotate(
        n_tokens=Count("api_tokens", filter=Q(api_tokens__revoked_at__isnull=True))
    ).order_by("-is_active", "username")
    return render(
        request,
        "web/users/list.html",
        {"users": users, "form": NewUserForm(), "roles": Role.choices, "nav": NAV},
    )


@require_POST
@requires(Role.ADMIN)
def user_new(request: HttpRequest) -> HttpResponse:
    """Create a user with a generated password, shown once."""
    form = NewUserForm(request.POST)
    if form.is_valid():
        password = generate_password()
        try:
            user = create_user(
                form.cleaned_data["username"], form.cleaned_data["role"], password, form.cleaned_data["email"]
            )
        except ValueError as exc:
            form.add_error("username", f"{str(exc).capitalize()}.")
        else:
            return _shown_once(
                request, "web/users/password.html", {"person": user, "password": password, "created": True}
            )
    users = User.objects.annotate(
        n_tokens=Count("api_tokens", filter=Q(api_tokens__revoked_at__isnull=True))
    ).order_by("-is_active", "username")
    response = render(
        request, "web/users/list.html", {"users": users, "form": form, "roles": Role.choices, "nav": NAV}
    )
    response.status_code = 422
    return response


@require_GET
@requires(Role.ADMIN)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _user(pk)
    return render(
        request,
        "web/users/detail.html",
        {"person": person, "tokens": _tokens(person), "roles": Role.choices, "nav": NAV},
    )


def _refuse_self(request: HttpRequest, person: User, what: str) -> bool:
    if person.pk == request.user.pk:
        messages.error(request, f"You cannot {what} yourself: ask another admin.")
        return True
    return False


@require_POST
@requires(Role.ADMIN)
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    person = _user(pk)
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, "Choose a role: admin, manager or viewer.")
    elif role != person.role and not _refuse_self(request, person, "change the role of"):
        set_role(person, role)
        messages.success(request, f"{person.username} is now a {Role(role).label.lower()}.")
    return redirect("web:user", person.pk)


@require_POST
@requires(Role.ADMIN)
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (signed out at once; tokens stop working) or reactivate a user."""
    person = _user(pk)
    active = request.POST.get("active") == "1"
    if active or not _refuse_self(request, person, "deactivate"):
        person.is_active = active
        person.save(update_fields=["is_active"])
        if active:
            messages.success(request, f"{person.username} may sign in again.")
        else:
            messages.success(
                request, f"{person.username} is deactivated: signed out, and tokens stop working."
            )
    return redirect("web:user", person.pk)


@require_POST
@requires(Role.ADMIN)
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset a password to a new generated one, shown once; the old one stops working (and the person's
    sessions end, since Django ties them to the password)."""
    person = _user(pk)
    password = generate_password()
    person.set_password(password)
    person.save(update_fields=["password"])
    return _shown_once(request, "web/users/password.html", {"person": person, "password": password})


@require_POST
@requires(Role.ADMIN)
def token_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A personal token for the user, acting with the user's role; shown once."""
    person = _user(pk)
    key, secret = create_api_key(
        request.POST.get("name", "")[:200],
        user=person,
        created_by=request.user,  # type: ignore[arg-type]
    )
    return _shown_once(request, "web/users/token.html", {"person": person, "key": key, "secret": secret})


@require_POST
@requires(Role.ADMIN)
def token_revoke(request: HttpRequest, pk: int, token: int) -> HttpResponse:
    person = _user(pk)
    key = get_object_or_404(ApiKey, pk=token, user=person, kind=ApiKey.Kind.PERSONAL)
    if revoke_api_key(key):
        messages.success(request, f"Token {key.name} ({key.prefix}…) revoked: it stops working now.")
    else:
        messages.error(request, f"Token {key.name} was revoked already.")
    return redirect("web:user", person.pk)


urlpatterns = [
    path("users/", user_list, name="users"),
    path("users/new", user_new, name="user_new"),
    path("users/<int:pk>/", user_detail, name="user"),
    path("users/<int:pk>/role", user_role, name="user_role"),
    path("users/<int:pk>/active", user_active, name="user_active"),
    path("users/<int:pk>/password", user_password, name="user_password"),
    path("users/<int:pk>/tokens/new", token_new, name="token_new"),
    path("users/<int:pk>/tokens/<int:token>/revoke", token_revoke, name="token_revoke"),
]
